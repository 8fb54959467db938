"""Placeholder until the analyze issue lands."""

import logging

log = logging.getLogger(__name__)


def run_analyze(ctx, args=None) -> None:
    log.warning("analyze: not implemented yet")
