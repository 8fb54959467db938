"""Placeholder until the serve-s2 issue lands."""

import logging

log = logging.getLogger(__name__)


def run_serve(ctx, args=None) -> None:
    log.warning("serve-s2: not implemented yet")


def add_arguments(parser) -> None:
    pass
