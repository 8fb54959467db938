"""Wall time of `python -m pipeline demo` (a fresh process, a fresh --out each run): the median of N runs.

    python benchmarks/bench_demo.py [--runs 5]

Target: under 30 s on the development machine (2 cores). Also reports the stage times of the last run, from the
demo's log.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one_run(out: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pipeline", "demo", "--out", str(out)], cwd=REPO,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"demo failed:\n{result.stderr[-2000:]}")
    return elapsed, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times, log = [], ""
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, log = one_run(Path(tmp) / "demo")
        times.append(elapsed)
        print(f"run {number}: {elapsed:.1f} s", flush=True)
    stages = re.findall(r"pipeline\.stages: (\w+): done in ([\d.]+) s", log)
    print(f"demo wall time: median {statistics.median(times):.1f} s over {len(times)} runs "
          f"(min {min(times):.1f}, max {max(times):.1f}); target < 30 s")
    print("last run's stages: " + ", ".join(f"{name} {seconds} s" for name, seconds in stages))


if __name__ == "__main__":
    main()
