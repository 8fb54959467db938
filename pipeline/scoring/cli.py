"""Placeholder until the score issue lands."""

import logging

log = logging.getLogger(__name__)


def run_score(ctx, args=None) -> None:
    log.warning("score: not implemented yet")


def add_arguments(parser) -> None:
    pass
