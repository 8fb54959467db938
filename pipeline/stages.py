"""``python -m pipeline run``: the whole study, fetch → analyze → figures/report."""

from __future__ import annotations

from pipeline.analyze import run_analyze
from pipeline.context import Context
from pipeline.fetch import run_fetch
from pipeline.figures import run_figures


def run_all(ctx: Context, args=None) -> None:
    run_fetch(ctx, args)
    run_analyze(ctx, args)
    run_figures(ctx, args)
