"""Benchmark ``python -m pipeline score`` against a plain script doing the same reference computation, side by side.

    python benchmarks/bench_scoring.py [--rounds 5] [--ted PATH] [--wmt23-dir DIR]

TED zh-en MQM (21,922 pairs), chrF + BLEU. The plain script (:data:`PLAIN`, written plainly: ``csv`` and
sacrebleu's ``sentence_chrf``/``sentence_bleu``) scores every distinct system output of a segment once against the
segment's human references — the same sentence-level work ``score`` has to do (scoring both sides of every pair
afresh would be ~10× slower and make the comparison meaningless) — and writes the scores to a JSON file. Timed as
whole commands (interpreter start, imports, reading the TSV included), alternating, ``--rounds`` times each; the
median wall and CPU seconds (the command and its worker processes) and their ratios to the plain script's are
printed, and the median of the round-by-round wall ratios (each round runs the commands back to back, so that one
holds when the machine's speed drifts between rounds, as a shared virtual machine's does), with the load average:
the machine is shared, and a command that spreads its work over two cores gains
wall time only when the other core is free, so read the ratios, and the CPU ratio when the machine is busy. Then:

- the accuracies ``score`` wrote (the targets: chrF 0.5446, BLEU 0.5312 on 21,922 pairs);
- that every score ``score`` gave equals the plain script's for the same output and references;
- WMT23 en-de + zh-en together (chrF + BLEU, with the figure), whose zh-en has no human reference: wall time
  (target < 3 s) and the warning ``score`` prints for it.

Needs ``../shared`` (the TED and WMT23 MQM files).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
TED = SHARED / "mqm-ted" / "mqm_ted_zhen.tsv"
WMT23 = SHARED / "mqm-generalmt2023"

PLAIN = r'''
import csv, json, re, sys
from sacrebleu import sentence_bleu, sentence_chrf

path, out = sys.argv[1], sys.argv[2]
references, outputs = {}, {}
with open(path, encoding="utf-8", newline="") as f:
    for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
        segment = (row["doc"], row["seg_id"])
        text = re.sub(r"</?v>", "", row["target"])
        if re.match(r"(ref|human)", row["system"], re.IGNORECASE):
            references.setdefault(segment, {}).setdefault(row["system"], text)
        else:
            outputs.setdefault(segment, set()).add(text)
scores = []
for segment, texts in outputs.items():
    refs = [text for _, text in sorted(references.get(segment, {}).items())]
    for text in sorted(texts) if refs else []:
        scores.append([refs, text, sentence_chrf(text, refs).score, sentence_bleu(text, refs).score])
with open(out, "w", encoding="utf-8") as f:
    json.dump(scores, f)
'''


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the command and its worker processes, the finished process)."""
    cpu, start = _cpu_of_children(), time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, _cpu_of_children() - cpu, result


def score_command(pairs: list[Path], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "score", "-q", *[a for p in pairs for a in ("--pairs", str(p))],
            "--scorer", "chrf", "--scorer", "bleu", "--out", str(out), *extra]


def identical_scores(plain_json: Path, out: Path) -> tuple[int, int]:
    """(pipeline scores equal to the plain script's, pipeline scores looked up) over both sides of every pair."""
    plain = {(tuple(refs), text): (chrf, bleu) for refs, text, chrf, bleu in json.loads(plain_json.read_text())}
    pairs = pd.read_parquet(out / "scores" / "pairs.parquet").set_index("pair_id")
    scores = pd.read_parquet(out / "scores" / "pair_scores.parquet")
    same = looked_up = 0
    for row in scores.itertuples():
        pair = pairs.loc[row.pair_id]
        for side, value in (("chosen", row.chosen_score), ("rejected", row.rejected_score)):
            key = (tuple(pair["references"]), pair[side])
            if key in plain:
                looked_up += 1
                same += value == plain[key][0 if row.scorer == "chrf" else 1]
    return same, looked_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ted", type=Path, default=TED)
    parser.add_argument("--wmt23-dir", type=Path, default=WMT23)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        commands = {
            "plain script": [sys.executable, "-c", PLAIN, str(args.ted), str(tmp / "plain.json")],
            "score": score_command([args.ted], tmp / "run"),
            "score --no-figure": score_command([args.ted], tmp / "run-nofig", "--no-figure"),
        }
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.rounds):
            names = list(commands)
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:  # rotate the order
                wall, cpu, _ = run(commands[name])
                times[name].append(wall)
                cpus[name].append(cpu)
        plain, plain_cpu = statistics.median(times["plain script"]), statistics.median(cpus["plain script"])
        print(f"{args.ted.name}, chrF + BLEU, median of {args.rounds} runs each (1-minute load average before: "
              f"{load_before:.1f}, after: {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores):")
        for name, measured in times.items():
            median, cpu = statistics.median(measured), statistics.median(cpus[name])
            paired = statistics.median(t / p for t, p in zip(measured, times["plain script"]))
            ratio = "" if name == "plain script" else (f"  = {median / plain:.2f}x the plain script's wall "
                                                       f"(round by round: median {paired:.2f}x), "
                                                       f"{cpu / plain_cpu:.2f}x its CPU")
            print(f"  {name:<18} wall {median:5.2f} s, CPU {cpu:5.2f} s  "
                  f"(walls: {', '.join(f'{t:.2f}' for t in measured)}){ratio}")
        accuracy = pd.read_csv(tmp / "run" / "scores" / "accuracy.csv")
        overall = accuracy[(accuracy["language"] == "all") & (accuracy["subset"] == "all")].set_index("scorer")
        print("  accuracy: " + ", ".join(f"{s} {overall.at[s, 'accuracy']:.4f}" for s in overall.index)
              + f" on {int(overall['n'].iloc[0]):,} pairs (targets: chrf 0.5446, bleu 0.5312 on 21,922)")
        same, looked_up = identical_scores(tmp / "plain.json", tmp / "run")
        print(f"  scores identical to the plain script's: {same:,} of {looked_up:,} looked up")
        wmt = [args.wmt23_dir / f"sxs_mqm_generalMT2023_{pair}.3ratingsPerSegment.tsv.tar.gz" for pair in ("ende", "zhen")]
        wmt_times, wmt_cpus, result = [], [], None
        for _ in range(args.rounds):
            elapsed, cpu, result = run(score_command(wmt, tmp / "wmt23"))
            wmt_times.append(elapsed)
            wmt_cpus.append(cpu)
        print(f"WMT23 en-de + zh-en, chrF + BLEU: median wall {statistics.median(wmt_times):.2f} s, CPU "
              f"{statistics.median(wmt_cpus):.2f} s of {args.rounds} runs (target < 3 s; load average now "
              f"{os.getloadavg()[0]:.1f}); it warns:")
        for line in result.stderr.strip().splitlines():
            print(f"  {line}")


if __name__ == "__main__":
    main()
