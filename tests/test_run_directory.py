"""The run directory (``--out``): a file or an unwritable path is one line; two runs on one directory take turns
(the second waits, or stops with one line naming the holder); a lock left by a killed run is taken over."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from fetch_support import small_literature, write_config
from pipeline.cli import main
from pipeline.errors import RunDirectoryBusy
from pipeline.localapi.server import LocalS2Server
from pipeline.lock import run_lock
from pipeline.paths import REPO_ROOT, RunPaths
from pipeline.tables import read_table

WRITING_COMMANDS = [["fetch"], ["analyze"], ["figures"], ["run"], ["plan"], ["demo"],
                    ["score", "--pairs", str(REPO_ROOT / "tests/fixtures/scoring/mqm_tiny_ende.tsv")]]


@pytest.fixture(scope="module")
def literature():
    return small_literature(seed=5, n_papers=150)


@pytest.fixture(scope="module")
def server(literature):
    with LocalS2Server(literature) as running:
        yield running


@pytest.mark.parametrize("where", ["a file", "under a file"])
@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=lambda c: c[0])
def test_an_out_that_cannot_be_a_directory_is_one_line(command, where, literature, server, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    out = blocker if where == "a file" else blocker / "run"
    config = write_config(tmp_path / "config", literature)
    assert main([*command, "--config", str(config), "--api-url", server.url, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {blocker} is a file, not a directory: pass --out a directory (it is created when missing)\n"
    assert blocker.read_text() == "not a directory"


@pytest.fixture
def unwritable(tmp_path):
    """A directory this user cannot write: mode 0555, or (as root, who ignores modes) a read-only tmpfs."""
    target = tmp_path / "locked"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o555)
        yield target
        target.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)],
                      capture_output=True).returncode != 0:
        pytest.skip("running as root without permission to mount a read-only tmpfs")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=lambda c: c[0])
def test_an_out_that_cannot_be_written_is_one_line(command, unwritable, literature, server, tmp_path, capsys):
    config = write_config(tmp_path / "config", literature)
    assert main([*command, "--config", str(config), "--api-url", server.url, "--out", str(unwritable / "run"),
                 "-q"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: cannot write to {unwritable} (read-only or permission denied): pass --out a directory "
                   "you can write to\n")


def _cli(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args)], cwd=REPO_ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})})


def test_two_runs_on_one_out_take_turns_and_both_end_cleanly(literature, server, tmp_path):
    config = write_config(tmp_path / "config", literature)
    out = tmp_path / "shared"
    runs = [_cli("fetch", "--config", config, "--api-url", server.url, "--out", out) for _ in range(2)]
    results = [(run.wait(timeout=240), run.stderr.read()) for run in runs]
    for code, stderr in results:
        assert "Traceback" not in stderr
        assert code == 0 or (code == 2 and stderr.strip().splitlines()[-1].startswith("error: ")
                             and "is in use by run pid" in stderr), stderr
    assert 0 in [code for code, _ in results]
    assert len(read_table(RunPaths.under(out).tables, "papers")) > 0
    assert any("waiting up to" in stderr for _, stderr in results)  # the second one waited for the first


def test_a_second_run_stops_naming_the_holder_when_the_wait_runs_out(literature, server, tmp_path):
    config = write_config(tmp_path / "config", literature)
    out = tmp_path / "held"
    with run_lock(RunPaths.under(out).lock, directory=out):
        run = _cli("fetch", "--config", config, "--api-url", server.url, "--out", out, "-q",
                   env={"TRENCHCOAT_LOCK_WAIT": "0.3"})
        code, stderr = run.wait(timeout=60), run.stderr.read()
    assert code == 2
    line, = stderr.strip().splitlines()
    assert line.startswith(f"error: {out} is in use by run pid {os.getpid()} (started 20") and "another --out" in line
    assert not (out / "processed").exists()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path, caplog):
    lock = tmp_path / "cache" / "run.lock"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pipeline.lock import run_lock\n"
                               "with run_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)", str(lock)],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunDirectoryBusy, match=f"run pid {holder.pid}"):
        with run_lock(lock, wait=0.2):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="pipeline.lock"), run_lock(lock, wait=5):
        assert time.monotonic() - started < 1
        assert f'"pid": {os.getpid()}' in lock.read_text()
    assert f"took over the lock {lock} of run pid {holder.pid}" in caplog.text
