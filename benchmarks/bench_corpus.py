"""Benchmark ``python -m pipeline corpus`` on a synthetic 1M-paper / ~10M-citation release, on ``local[2]``.

    python benchmarks/bench_corpus.py [--papers 1000000] [--work DIR] [--driver-memory 4g] [--resamples 1000]

1. Once (not timed): the synthetic literature (:mod:`pipeline.localapi.synth`) written as a release of gzipped
   JSON-lines shards in the real record schemas (:func:`pipeline.localapi.datasets.write_release`: 8 papers,
   4 abstracts and 16 citations shards) under ``--work`` (default ``benchmarks/results/corpus-<papers>/``).
2. The real command a user runs, twice, each in a fresh process::

       python -m pipeline corpus --config data/demo.toml --shards DIR --out OUT --master local[2] \
           --spark-conf spark.driver.memory=4g -q

   The first run converts the shards to Parquet (the one-time cost) and runs the study; the second reads the
   Parquet and runs the study: labelling 1M papers with the config's rules, cleaning and aggregating the
   citations, 1,000 bootstrap resamples, all tables, and the terminology count over every paper's title and
   abstract (``data/terminology.toml``, in Spark's Python workers). Wall time of each, and the peak memory of the whole process
   tree (Python driver + its JVM, summed RSS sampled every 0.2 s with psutil).

Printed: wall and peak memory of both runs, their phases (the manifest's ``corpus.seconds``: input, study — of
which coupling —, terminology, total), the terminology count's and the coupling's share (terminology: papers per
second per core), citations per second per core (citation records of the release over
the second run's wall time and the 2 cores), and a projection to a full release (~2.5B citation records) on N
executors — an estimate that assumes the per-core throughput of this run holds on a cluster (it ignores shuffle
over the network, which costs more, and the JVM start-up and driver-side bootstrap, which do not grow with the
corpus).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from pipeline.paths import REPO_ROOT

FULL_RELEASE_CITATIONS = 2.5e9
CORES = 2


def make_release(directory: Path, *, papers: int, seed: int) -> dict:
    if (directory / "SYNTHETIC.json").exists():
        return json.loads((directory / "SYNTHETIC.json").read_text())
    from pipeline.localapi.datasets import write_release
    from pipeline.localapi.synth import SynthParams, generate

    started = time.perf_counter()
    literature = generate(SynthParams(seed=seed, n_papers=papers))
    write_release(literature, directory, shards={"papers": 8, "abstracts": 4, "citations": 16})
    print(f"release written in {time.perf_counter() - started:.0f} s: {papers:,} papers, "
          f"{len(literature.citations):,} resolved citations → {directory}", flush=True)
    return literature.truth


def measured(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak summed RSS of the process tree in GiB, exit status) of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    status = process.wait()
    done.set()
    sampler.join()
    return time.perf_counter() - started, peak / 2 ** 30, status


def citation_records(shards: Path) -> int:
    """Citation records of the release (resolved and unresolved), from the Parquet of the first run."""
    import pyarrow.parquet as pq

    manifest = json.loads((shards.parent / "out" / "manifest.json").read_text())
    path = manifest["corpus"]["parquet"]["citations"].removeprefix("file://")
    return pq.ParquetDataset(path).read(columns=["citing"]).num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    work = args.work or REPO_ROOT / "benchmarks" / "results" / f"corpus-{args.papers}"
    shards = work / "shards"
    make_release(shards, papers=args.papers, seed=args.seed)
    out = work / "out"
    command = [sys.executable, "-m", "pipeline", "corpus", "--config", str(REPO_ROOT / "data" / "demo.toml"),
               "--shards", str(shards), "--out", str(out), "--master", f"local[{CORES}]",
               "--spark-conf", f"spark.driver.memory={args.driver_memory}", "--resamples", str(args.resamples), "-q"]
    print("command:", " ".join(command), flush=True)
    runs = {}
    for name in ("first (converts to Parquet)", "second (from Parquet)"):
        wall, peak, status = measured(command)
        if status:
            sys.exit(f"corpus exited with status {status}")
        phases = json.loads((out / "manifest.json").read_text())["corpus"]["seconds"]
        runs[name] = (wall, peak, phases)
        print(f"{name}: wall {wall:.0f} s, peak memory {peak:.2f} GiB; phases {phases}", flush=True)
    records = citation_records(shards)
    manifest = json.loads((out / "manifest.json").read_text())
    wall = runs["second (from Parquet)"][0]
    per_core = records / wall / CORES
    # the conversion is the first run's input phase less the second's (its own clock: the two runs' walls differ
    # by more than that on a shared machine)
    conversion = runs["first (converts to Parquet)"][2]["input"] - runs["second (from Parquet)"][2]["input"]
    print(f"release: {manifest['analysis']['papers']:,} papers, {records:,} citation records "
          f"({manifest['analysis']['citations']:,} between two known papers)")
    print(f"throughput (second run, whole command): {per_core:,.0f} citations/s per core")
    coupling = runs["second (from Parquet)"][2].get("coupling")
    if coupling is not None:
        print(f"coupling + shared references over the whole release (second run): {coupling:.1f} s of "
              f"{runs['second (from Parquet)'][2]['total']:.1f} s")
    terminology = runs["second (from Parquet)"][2].get("terminology")
    if terminology is not None:
        print(f"terminology over the whole release (second run): {terminology:.1f} s of "
              f"{runs['second (from Parquet)'][2]['total']:.1f} s "
              f"({manifest['terminology']['papers'] / max(terminology, 0.1) / CORES:,.0f} papers/s per core; "
              f"{manifest['terminology']['terms']} terms, {manifest['terminology']['with_abstract']:,} abstracts)")
    print(f"one-time conversion: about {conversion:.0f} s ({records / max(conversion, 1) / CORES:,.0f} "
          "citation records/s per core)")
    core_hours = FULL_RELEASE_CITATIONS / per_core / 3600
    conversion_hours = FULL_RELEASE_CITATIONS / (records / max(conversion, 1) / CORES) / 3600
    print(f"projection (an estimate, at this per-core rate): a full release of {FULL_RELEASE_CITATIONS:.1e} "
          f"citations ≈ {core_hours:,.0f} core-hours per study run (+ ≈ {conversion_hours:,.0f} core-hours once "
          "for the Parquet conversion)")
    for executors in (10, 50, 100):
        cores = executors * 4
        print(f"  {executors} executors × 4 cores: ≈ {core_hours / cores * 60:,.0f} min per run, "
              f"{core_hours / 4:,.0f} executor-hours (conversion once: ≈ {conversion_hours / cores * 60:,.0f} min)")
    print("signature:", manifest.get("signature"))


if __name__ == "__main__":
    main()
