"""Placeholder until the fetch issue lands."""

import logging

log = logging.getLogger(__name__)


def run_fetch(ctx, args=None) -> None:
    log.warning("fetch: not implemented yet")
