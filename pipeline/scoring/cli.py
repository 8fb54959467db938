"""``python -m pipeline score``: build pairs, score them, meta-evaluate, write tables and a figure.

Outputs (under the run's data directory, ``scores/``): ``pairs.parquet`` (the pair table), ``texts.parquet``
(every distinct output with its ``text_id`` — what a ``scores:PATH`` CSV must cover), ``pair_scores.parquet``
(long: one row per pair and scorer), ``accuracy.csv`` and ``accuracy.md``, ``comparisons.csv`` (paired
permutation tests), ``sections.csv`` (RewardBench-style sections, when the subsets are RewardBench's); the
figure ``scoring_accuracy.png``/``.pdf`` goes to the run's figures directory; the manifest gets a ``scoring``
section. ``python -m pipeline score download NAME`` fetches a named data set into ``cache/scoring/``.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pipeline.errors import UserError
from pipeline.manifest import update_manifest
from pipeline.scoring import download, metaeval, output, pairs, scorers

log = logging.getLogger(__name__)

FIGURE_NAME = "scoring_accuracy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["download"],
                        help="'download NAME' fetches a named public data set into the cache (no NAME: list them)")
    parser.add_argument("dataset", nargs="?", metavar="NAME", help="data set to download")
    parser.add_argument("--pairs", action="append", default=[], metavar="SOURCE",
                        help="pairs file (MQM .tsv/.tar.gz, RewardBench-style .jsonl/.json/.parquet, hh-rlhf "
                             ".jsonl.gz) or a downloaded data set's NAME; repeatable")
    parser.add_argument("--format", choices=pairs.FORMATS, default=None,
                        help="format of every --pairs file (default: from the file name and columns)")
    parser.add_argument("--scorer", action="append", default=[], metavar="NAME",
                        help=f"repeatable; one of: {scorers.KNOWN}. None: only write pairs and texts")
    parser.add_argument("--hard-below", type=float, default=5.0, metavar="GAP",
                        help="MQM pairs whose score gap is below GAP are 'hard', the rest 'easy' "
                             "(default: %(default)s = one Major error)")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="bootstrap resamples for the 95%% CIs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: %(default)s)")


def _cache_dir(ctx) -> Path:
    return ctx.paths.data / "cache" / "scoring"


def _load_all(sources: list[str], *, ctx, fmt: str | None, hard_below: float) -> pd.DataFrame:
    frames = [pairs.load_pairs(download.resolve_source(s, cache_dir=_cache_dir(ctx)), fmt=fmt,
                               hard_below=hard_below) for s in sources]
    table = pd.concat(frames, ignore_index=True)
    if table["pair_id"].duplicated().any():
        raise UserError(f"pair id {table['pair_id'][table['pair_id'].duplicated()].iloc[0]} occurs in two --pairs "
                        "files; give each file a distinct name")
    return table


def _texts(table: pd.DataFrame) -> pd.DataFrame:
    """Every distinct output once: text_id, prompt, text, references, language."""
    sides = [table[[f"{side}_id", "prompt", side, "references", "language"]]
             .set_axis(["text_id", "prompt", "text", "references", "language"], axis=1)
             for side in ("chosen", "rejected")]
    return pd.concat(sides, ignore_index=True).drop_duplicates("text_id", ignore_index=True)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.assign(references=frame["references"].map(list)) if "references" in frame else frame
    frame.to_parquet(path, index=False)


def run_score(ctx, args: argparse.Namespace) -> None:
    if args.action == "download":
        if not args.dataset:
            print(download.catalogue())
            return
        path = download.download(args.dataset, cache_dir=_cache_dir(ctx), quiet=ctx.quiet)
        print(path)
        return
    if not args.pairs:
        raise UserError("score needs --pairs SOURCE (a file, or a NAME from `python -m pipeline score download`)")
    if args.bootstrap < 1:
        raise UserError(f"--bootstrap must be at least 1 (got {args.bootstrap}); 1000 is the usual choice")
    chosen_scorers = [scorers.make_scorer(spec) for spec in args.scorer]  # fail on a bad name before loading
    table = _load_all(args.pairs, ctx=ctx, fmt=args.format, hard_below=args.hard_below)
    out = ctx.paths.data / "scores"
    out.mkdir(parents=True, exist_ok=True)
    _write_parquet(table, out / "pairs.parquet")
    _write_parquet(_texts(table), out / "texts.parquet")
    human_ties = int((table["margin"] == 0).sum())
    log.info("%d pairs (%d human ties) from %s", len(table), human_ties, ", ".join(args.pairs))
    manifest = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "synthetic": False,
                "sources": args.pairs, "pairs": len(table), "human_ties": human_ties,
                "hard_below": args.hard_below, "bootstrap": args.bootstrap, "seed": args.seed,
                "per_language": table.groupby("language").size().to_dict(), "scorers": {}}
    if not chosen_scorers:
        log.info("no --scorer given: wrote %s and %s", out / "pairs.parquet", out / "texts.parquet")
        update_manifest(ctx.paths.manifest, scoring=manifest)
        return
    meta = table[["pair_id", "prompt", "subset", "language", "margin"]]
    long = []
    for scorer in chosen_scorers:
        scored = scorers.score_pairs(table, scorer, quiet=ctx.quiet)
        if scored[["chosen_score", "rejected_score"]].isna().all(axis=None):
            raise UserError(f"scorer {scorer.name} could score none of the pairs (it needs human references, "
                            "which these pairs lack); use a reference-free scorer")
        long.append(meta.merge(scored, on="pair_id").assign(scorer=scorer.name))
        manifest["scorers"][scorer.name] = scorer.signature()
    scores = pd.concat(long, ignore_index=True)
    scores.drop(columns="prompt").to_parquet(out / "pair_scores.parquet", index=False)
    params = metaeval.BootstrapParams(n_boot=args.bootstrap, seed=args.seed)
    accuracy = metaeval.accuracy_table(scores, params=params)
    accuracy.to_csv(out / "accuracy.csv", index=False)
    (out / "accuracy.md").write_text(output.markdown_table(accuracy), encoding="utf-8")
    outputs = [out / "accuracy.csv", out / "accuracy.md", out / "pair_scores.parquet"]
    if len(chosen_scorers) > 1:
        metaeval.comparison_table(scores).to_csv(out / "comparisons.csv", index=False)
        outputs.append(out / "comparisons.csv")
    sections = metaeval.rewardbench_sections(accuracy)
    if len(sections):
        sections.to_csv(out / "sections.csv", index=False)
        outputs.append(out / "sections.csv")
    names = ", ".join(Path(s).name.split(".")[0] for s in args.pairs)
    outputs += output.plot_accuracy(accuracy, ctx.paths.figures / FIGURE_NAME,
                                    title=f"Which output do scorers prefer? {names} ({len(table):,} pairs)")
    manifest["outputs"] = [str(p) for p in outputs]
    update_manifest(ctx.paths.manifest, scoring=manifest)
    overall = accuracy[(accuracy["language"] == "all") & (accuracy["subset"] == "all")]
    for row in overall.itertuples():
        log.info("%-12s accuracy %.3f [%.3f, %.3f] (n=%d, ties=%d)", row.scorer, row.accuracy, row.ci_low,
                 row.ci_high, row.n, row.ties)
    log.info("wrote %s", out)
