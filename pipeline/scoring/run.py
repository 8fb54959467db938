"""One ``python -m pipeline score`` run: load and filter the pairs, score them, meta-evaluate, write the tables,
the figure and the manifest's ``scoring`` section (the stage, :mod:`pipeline.stages.score`, starts the figure's
side process and calls :func:`score_run`)."""

from __future__ import annotations

import argparse
import contextlib
import logging
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pipeline.errors import UserError
from pipeline.manifest import ScoringSection, scoring_signature, sections, update_manifest
from pipeline.paths import write_atomically, write_text_atomically
from pipeline.scoring import accuracy_figure, download, metaeval, output, pairs, parallel, scorers

log = logging.getLogger(__name__)

FIGURE_NAME = "scoring_accuracy"


def _load_all(sources: list[str], *, ctx, fmt: str | None, hard_below: float) -> pd.DataFrame:
    """Every ``--pairs`` source's pairs, one table (read one after the other: in worker processes the tables'
    pickling cost more than the second core saved; see :mod:`pipeline.scoring.parallel`)."""
    paths = [download.resolve_source(s, cache_dir=ctx.paths.scoring_cache) for s in sources]
    table = pd.concat([pairs.load_pairs(path, fmt=fmt, hard_below=hard_below) for path in paths], ignore_index=True)
    if table["pair_id"].duplicated().any():
        raise UserError(f"pair id {table['pair_id'][table['pair_id'].duplicated()].iloc[0]} occurs in two --pairs "
                        "files; give each file a distinct name")
    return table


def _keep(table: pd.DataFrame, column: str, wanted: list[str]) -> pd.DataFrame:
    """The rows whose ``column`` is one of ``wanted`` (all rows when nothing is wanted); an unknown value is a
    user error listing the values there are."""
    if not wanted:
        return table
    present = sorted(set(table[column]))
    unknown = [value for value in wanted if value not in present]
    if unknown:
        raise UserError(f"--{column} {unknown[0]!r} matches no pair; the pairs have {column}: "
                        f"{', '.join(repr(v) for v in present)}")
    return table[table[column].isin(wanted)].reset_index(drop=True)


def _texts(table: pd.DataFrame) -> pd.DataFrame:
    """Every distinct output once: text_id, prompt, text, references, language."""
    sides = [table[[f"{side}_id", "prompt", side, "references", "language"]]
             .set_axis(["text_id", "prompt", "text", "references", "language"], axis=1)
             for side in ("chosen", "rejected")]
    return pd.concat(sides, ignore_index=True).drop_duplicates("text_id", ignore_index=True)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.assign(references=frame["references"].map(list)) if "references" in frame else frame
    write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    return write_atomically(path, lambda tmp: frame.to_csv(tmp, index=False))


def as_section(section: dict) -> ScoringSection:
    """The scoring section, typed and validated."""
    return sections({"scoring": section}).scoring


def score_run(ctx, args: argparse.Namespace, params, figure: parallel.SideProcess | None) -> None:
    """Build the pairs of ``args.pairs``, score them with every ``args.scorer``, meta-evaluate, write the tables
    and (``figure``: the side process that draws it) the figure, and the manifest's ``scoring`` section."""
    chosen_scorers = [scorers.make_scorer(spec) for spec in args.scorer]  # fail on a bad name before loading
    # a run of seconds pauses the cyclic garbage collector; one with a model (minutes to hours) keeps it
    light = not any(scorer.model for scorer in chosen_scorers)
    with parallel.paused_gc() if light else contextlib.nullcontext():
        _load_and_score(ctx, args, params, chosen_scorers, figure)


def _load_and_score(ctx, args: argparse.Namespace, params, chosen_scorers: list,
                    figure: parallel.SideProcess | None) -> None:
    table = _load_all(args.pairs, ctx=ctx, fmt=args.format, hard_below=args.hard_below)
    table = _keep(_keep(table, "language", args.language), "subset", args.subset)
    # the pair and text tables are written by a forked process while this one scores (0.1 s off the wall)
    writing = parallel.Forked(lambda: (_write_parquet(table, ctx.paths.score("pairs.parquet")),
                                       _write_parquet(_texts(table), ctx.paths.score("texts.parquet"))), slack=True)
    with writing:
        _scored(ctx, args, params, chosen_scorers, figure, table, writing)


def _scored(ctx, args: argparse.Namespace, params, chosen_scorers: list, figure: parallel.SideProcess | None,
            table: pd.DataFrame, writing: parallel.Forked) -> None:
    human_ties = int((table["margin"] == 0).sum())
    log.info("%d pairs (%d human ties) from %s", len(table), human_ties, ", ".join(args.pairs))
    section = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "synthetic": False,
                "sources": args.pairs, "pairs": len(table), "human_ties": human_ties,
                "filters": {key: values for key, values in (("language", args.language), ("subset", args.subset))
                            if values},
                "hard_below": args.hard_below,
                "bootstrap": {"resamples": params.resamples, "seed": params.seed, "level": params.level,
                              "unit": "cluster of pairs"},
                "per_language": table.groupby("language").size().to_dict(), "scorers": {}}
    if not chosen_scorers:
        writing.result()
        log.info("no --scorer given: wrote %s and %s", ctx.paths.score("pairs.parquet"), ctx.paths.score("texts.parquet"))
        section["signature"] = scoring_signature(section)
        update_manifest(ctx.paths.manifest, scoring=as_section(section))
        return
    meta = table[["pair_id", "prompt", "subset", "language", "margin"]]
    long = []
    for scorer, (scored, signature) in zip(chosen_scorers, scorers.score_all(table, chosen_scorers, quiet=ctx.quiet)):
        if scored[["chosen_score", "rejected_score"]].isna().all(axis=None):  # aligned with the table's rows
            raise UserError(f"scorer {scorer.name} could score none of the pairs (it needs human references, "
                            "which these pairs lack); use a reference-free scorer")
        long.append(meta.assign(chosen_score=scored["chosen_score"].to_numpy(),
                                rejected_score=scored["rejected_score"].to_numpy(), scorer=scorer.name))
        section["scorers"][scorer.name] = signature
    scores = pd.concat(long, ignore_index=True)
    pair_scores = scores.drop(columns="prompt")
    write_atomically(ctx.paths.score("pair_scores.parquet"), lambda tmp: pair_scores.to_parquet(tmp, index=False))
    accuracy = metaeval.accuracy_table(scores, params=params)
    if figure is not None:  # drawn in its process while the tables are written here
        names = ", ".join(Path(s).name.split(".")[0] for s in args.pairs)
        figure.call(accuracy_figure.draw, output.accuracy_panels(accuracy), ctx.paths.figures, FIGURE_NAME,
                    title=f"Which output do scorers prefer? {names} ({len(table):,} pairs)",
                    formats=("png", "pdf") if args.pdf else ("png",))
    signature = scoring_signature(section)
    outputs = [_write_csv(accuracy, ctx.paths.score("accuracy.csv")),
               write_text_atomically(ctx.paths.score("accuracy.md"),
                                     output.accuracy_markdown(accuracy) + f"\nSignature: `{signature}`\n"),
               ctx.paths.score("pair_scores.parquet")]
    if len(chosen_scorers) > 1:
        outputs.append(_write_csv(metaeval.comparison_table(scores), ctx.paths.score("comparisons.csv")))
    by_section = metaeval.rewardbench_sections(accuracy)
    if len(by_section):
        outputs.append(_write_csv(by_section, ctx.paths.score("sections.csv")))
    writing.result()
    if figure is not None:
        outputs += figure.result()
    section["outputs"] = [str(p) for p in outputs]
    section["signature"] = signature
    update_manifest(ctx.paths.manifest, scoring=as_section(section))
    overall = accuracy[(accuracy["language"] == "all") & (accuracy["subset"] == "all")]
    for row in overall.itertuples():
        log.info("%-12s accuracy %.3f [%.3f, %.3f] (n=%d, ties=%d)", row.scorer, row.accuracy, row.ci_low,
                 row.ci_high, row.n, row.ties)
    log.info("wrote %s", ctx.paths.scores)
