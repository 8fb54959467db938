"""``python -m pipeline score``: build pairs, score them, meta-evaluate, write tables and a figure.

Outputs (under the run's data directory, ``scores/``): ``pairs.parquet`` (the pair table), ``texts.parquet``
(every distinct output with its ``text_id`` — what a ``scores:PATH`` CSV must cover), ``pair_scores.parquet``
(long: one row per pair and scorer), ``accuracy.csv`` and ``accuracy.md``, ``comparisons.csv`` (paired
permutation tests), ``sections.csv`` (RewardBench-style sections, when the subsets are RewardBench's); the
figure ``scoring_accuracy.png`` (and ``.pdf`` with ``--pdf``) goes to the run's figures directory, drawn in a side
process that imports matplotlib while the pairs are loaded and scored; the manifest gets a ``scoring``
section with its one-line signature (also under the table in ``accuracy.md``). ``python -m pipeline score
download NAME`` fetches a named data set into ``cache/scoring/``. Every path comes from
:class:`~pipeline.paths.RunPaths`; every file is written atomically. Options: :func:`pipeline.stages.options.add_score_arguments`.
The run itself is :func:`pipeline.scoring.run.score_run`.
"""

from __future__ import annotations

import argparse
import contextlib

from pipeline.errors import UserError
from pipeline.scoring import accuracy_figure, download, parallel
from pipeline.stages.options import bootstrap_params


def run_score(ctx, args: argparse.Namespace) -> None:
    if args.action == "download":
        if not args.dataset:
            print(download.catalogue())
            return
        path = download.download(args.dataset, cache_dir=ctx.paths.scoring_cache, quiet=ctx.quiet)
        print(path)
        return
    if not args.pairs:
        raise UserError("score needs --pairs SOURCE (a file, or a NAME from `python -m pipeline score download`)")
    if args.pdf and not args.figure:
        raise UserError("--pdf asks for the figure as PDF and --no-figure for no figure; drop one of them")
    params = bootstrap_params(args)
    # the figure's process is forked first, before this one imports pandas: there it imports matplotlib only
    # (0.4 s; the drawing takes plain arrays), overlapping the imports, loading and scoring here
    drawing = args.figure and bool(args.scorer)
    with parallel.SideProcess(accuracy_figure.prepare, slack=True) if drawing else contextlib.nullcontext() as figure:
        with parallel.paused_gc():  # importing pandas & co. is a burst of allocation that leaves no garbage
            from pipeline.scoring.run import score_run
        score_run(ctx, args, params, figure)
