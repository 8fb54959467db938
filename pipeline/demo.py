"""Placeholder until the demo issue lands."""

import logging

log = logging.getLogger(__name__)


def run_demo(ctx, args=None) -> None:
    log.warning("demo: not implemented yet")


def add_arguments(parser) -> None:
    pass
