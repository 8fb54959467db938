"""The command line's contract: subcommands exist, user errors are one line and exit 2."""

import subprocess
import sys

import pytest

from pipeline.cli import COMMANDS, main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", ["run", "fetch", "analyze", "figures"])
def test_missing_config_is_one_line_and_exit_2(command, tmp_path):
    result = run_cli(command, "--config", str(tmp_path / "nope.toml"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.toml" in result.stderr and "not found" in result.stderr


def test_bad_config_key_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nyears = [2000, 2020]\ncolour = "red"\n[fields.metrics]\nqueries = ["bleu"]\n')
    assert main(["analyze", "--config", str(bad), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "study.colour" in err and err.count("\n") == 1


def test_no_command_means_run(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["-q", "--out", "OUT", "analyze"],
    ["analyze", "-q", "--out", "OUT"],
    ["-q", "analyze", "--out", "OUT"],
])
def test_common_options_work_before_and_after_the_command(argv, tmp_path):
    from pipeline.cli import build_parser

    args = build_parser().parse_args([str(tmp_path / "demo") if a == "OUT" else a for a in argv])
    assert (args.command, args.quiet, args.out) == ("analyze", True, tmp_path / "demo")


def test_option_value_named_like_a_command_still_means_run(tmp_path):
    from pipeline.cli import build_parser

    args = build_parser().parse_args(["--out", "demo", "-v"])
    assert (args.command, str(args.out), args.verbose) == (None, "demo", True)


@pytest.mark.parametrize("argv, command", [
    (["--out", "demo", "-q"], None),
    (["--config", "x.toml", "analyze", "--out", "run"], "analyze"),
    (["-v", "score", "download", "NAME"], "score"),
])
def test_command_in_skips_option_values(argv, command):
    from pipeline.cli import command_in

    assert command_in(argv) == command


def test_run_and_demo_options_parse_through_main(tmp_path, capsys):
    assert main(["run", "--force", "--resamples", "10", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml" in capsys.readouterr().err
