"""The fetch stage: seed sets → a complete, resumable SQLite store of papers and references → tables.

Phases, each asking only for what the store lacks (a complete store costs zero requests):

1. seeds — explicit ids via ``POST /paper/batch``, queries via ``/paper/search/bulk`` (:mod:`.seeds`);
2. references (and citations when configured) of every seed, 1,000 a page (:mod:`.crawl`);
3. metadata of every paper reached, 500 per ``POST /paper/batch`` (:mod:`.crawl`);
4. field growth, one bulk-search ``total`` per field and year (:mod:`.growth`);
5. export of the tables and the manifest (:mod:`.export`).

All HTTP goes through the ``semanticscholar`` client with our throttled, retrying requester (:mod:`.client`).
``S2_API_KEY``, when set, is sent as ``x-api-key`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os

from pipeline.context import Context
from pipeline.fetch.client import RequestStats, make_client, request
from pipeline.fetch.crawl import fetch_lists, fetch_metadata
from pipeline.fetch.export import export, study_edges, study_paper_ids
from pipeline.fetch.growth import fetch_growth
from pipeline.fetch.seeds import resolve_seeds, seed_table
from pipeline.fetch.store import Store

log = logging.getLogger(__name__)


def run_fetch(ctx: Context, args=None) -> dict:
    """Fill the store for ``ctx.config`` from ``ctx.api_url``, export the tables; return the manifest."""
    stats = RequestStats()
    with Store(ctx.paths.store, source=ctx.api_url, fetched_on=dt.date.today().isoformat()) as store:
        others = [s for s in store.sources() if s != ctx.api_url]
        if others:
            log.warning("the store %s also holds records fetched from %s", ctx.paths.store, ", ".join(others))
        # a key pasted with its line break (a .env file with CRLF endings) would be an invalid header value
        api_key = os.environ.get("S2_API_KEY", "").strip() or None
        asyncio.run(_fetch(ctx, store, stats, api_key=api_key))
        manifest = export(ctx, store, stats)
    fetch = manifest["fetch"]
    log.info("fetch: %d papers, %d citations, %d requests (%d retries); tables in %s", fetch["papers"],
             fetch["citations"], fetch["requests"]["total"], fetch["retries"], ctx.paths.tables)
    return manifest


async def _fetch(ctx: Context, store: Store, stats: RequestStats, *, api_key: str | None) -> None:
    config = ctx.config
    client = make_client(ctx.api_url, config.fetch, api_key=api_key, stats=stats)
    client._requester.on_synthetic = lambda value: store.set_meta("synthetic", value)
    try:
        await resolve_seeds(client, store, config, quiet=ctx.quiet)
        seeds = sorted({paper_id for _, paper_id, _ in seed_table(config, store)[0]})
        await fetch_lists(client, store, seeds, config.edges, quiet=ctx.quiet)
        wanted = study_paper_ids(set(seeds), study_edges(config, store, set(seeds)))
        await fetch_metadata(client, store, wanted, quiet=ctx.quiet)
        await fetch_growth(client, store, config, quiet=ctx.quiet)
        await _synthetic_truth(client, store)
    finally:
        await client._requester.aclose()


async def _synthetic_truth(client, store: Store) -> None:
    """When the server said its literature is synthetic, keep the truth it planted (fetched once)."""
    if store.meta("synthetic") is not None and store.meta("synthetic_truth") is None:
        truth = await request(client, f"{client.api_url}/synthetic/truth")
        store.set_meta("synthetic_truth", json.dumps(truth, sort_keys=True))
