"""Benchmark scoring every TED zh-en MQM pair with chrF and BLEU, against scoring each pair's texts afresh.

    python benchmarks/bench_scoring.py [--pairs ../shared/data/mqm-ted/mqm_ted_zhen.tsv] [--scorer chrf ...]

Timed per scorer: ``score_pairs`` (each distinct (output, references) scored once, then mapped back to the
pairs) against the naive way — the same sacrebleu scorer called on both sides of every pair, no sharing.
Both compute the same numbers (checked). Loading the pairs is timed on its own line. The machine is shared,
so compare the ratio within one run rather than the absolute seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.paths import REPO_ROOT
from pipeline.scoring.pairs import load_pairs
from pipeline.scoring.scorers import make_scorer, score_pairs

DEFAULT_PAIRS = Path(REPO_ROOT).parent / "shared" / "data" / "mqm-ted" / "mqm_ted_zhen.tsv"


def naive_scores(pairs: pd.DataFrame, spec: str) -> np.ndarray:
    """Both sides of every pair scored afresh: 2 × len(pairs) sentence-level calls."""
    scorer = make_scorer(spec)
    sides = pd.concat([pairs[["prompt", "references", "language"]].assign(text=pairs[side])
                       for side in ("chosen", "rejected")], ignore_index=True)
    return scorer.score(sides, quiet=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--scorer", action="append", default=None, help="default: chrf and bleu")
    args = parser.parse_args()
    start = time.perf_counter()
    pairs = load_pairs(args.pairs)
    distinct = len(pd.concat([pairs[["chosen", "prompt"]].set_axis(["t", "p"], axis=1),
                              pairs[["rejected", "prompt"]].set_axis(["t", "p"], axis=1)]).drop_duplicates())
    print(f"{args.pairs.name}: {len(pairs):,} pairs ({int((pairs['margin'] == 0).sum()):,} human ties), "
          f"{distinct:,} distinct outputs; loaded in {time.perf_counter() - start:.2f} s")
    for spec in args.scorer or ["chrf", "bleu"]:
        start = time.perf_counter()
        shared = score_pairs(pairs, make_scorer(spec), quiet=True)
        t_shared = time.perf_counter() - start
        start = time.perf_counter()
        naive = naive_scores(pairs, spec)
        t_naive = time.perf_counter() - start
        same = np.allclose(np.concatenate([shared["chosen_score"], shared["rejected_score"]]), naive,
                           equal_nan=True)
        print(f"{spec:>6}: distinct-once {t_shared:7.2f} s | afresh per pair {t_naive:7.2f} s "
              f"({2 * len(pairs):,} calls) | speed-up {t_naive / t_shared:5.1f}x | same scores: {same}")


if __name__ == "__main__":
    main()
