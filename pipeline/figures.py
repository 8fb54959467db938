"""Placeholder until the figures issue lands."""

import logging

log = logging.getLogger(__name__)


def run_figures(ctx, args=None) -> None:
    log.warning("figures: not implemented yet")
