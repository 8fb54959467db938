"""The S2 Graph API source: seed sets → a complete, resumable SQLite store of papers and references → tables.

Phases, each asking only for what the store lacks (a complete store costs zero requests):

0. the plan — per field the bulk-search totals, the seeds, the requests and the time they take (:mod:`.plan`);
1. seeds — explicit ids via ``POST /paper/batch``, queries via ``/paper/search/bulk`` (:mod:`.seeds`);
2. references (and citations when configured) of every seed, hundreds of seeds per ``POST /paper/batch``, paged
   only where a list is long, cut, or wanted with edge detail (:mod:`.crawl`);
3. metadata of every paper reached, 500 per ``POST /paper/batch`` (:mod:`.crawl`);
4. field growth: counted from fully paged seed searches, else one bulk-search ``total`` per field and year
   (:mod:`.growth`);
5. export of the tables and the manifest (:mod:`.export`).

All HTTP goes through our throttled, retrying client over httpx (:mod:`.client`, which says why it is ours).
``S2_API_KEY``, when set, is sent as ``x-api-key`` and nowhere else.

The store is this source's own (:meth:`pipeline.paths.RunPaths.store_for` ``("s2_graph")``): another source
never writes into it. A store at the old path ``cache/s2.sqlite`` is moved to the new one on first use.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os

from pipeline.context import Context
from pipeline.errors import UserError
from pipeline.sources import FetchResult
from pipeline.sources.s2_graph.client import RequestStats, make_client
from pipeline.sources.s2_graph.crawl import detail_seeds, fetch_lists, fetch_metadata
from pipeline.sources.s2_graph.export import export, study_edges, study_paper_ids
from pipeline.sources.s2_graph.growth import fetch_growth, growth_table
from pipeline.sources.s2_graph.plan import Plan, make_plan
from pipeline.sources.s2_graph.seeds import resolve_seeds, seed_table
from pipeline.sources.s2_graph.store import Store, store_damage

log = logging.getLogger(__name__)


class S2GraphSource:
    """Papers, references and field growth from the Semantic Scholar Graph API (or the local server)."""

    name = "s2-graph"
    store_name = "s2_graph"

    def fetch(self, ctx: Context) -> FetchResult:
        """Fill the store for ``ctx.config`` from ``ctx.api_url``, export the tables; return the manifest.

        Fields with ``seeds_from = "acl-anthology"`` first get their Anthology papers as seeds
        (:func:`pipeline.sources.acl_anthology.with_anthology_seeds`)."""
        if any(spec.seeds_from for spec in ctx.config.fields):
            from pipeline.sources.acl_anthology import with_anthology_seeds

            ctx = dataclasses.replace(ctx, config=with_anthology_seeds(ctx.config, quiet=ctx.quiet))
        stats = RequestStats()
        with _open_store(ctx) as store, store_damage(store.path):
            _in_session(ctx, store, stats, lambda client: _fetch(client, store, ctx.config, quiet=ctx.quiet))
            manifest = export(ctx, store, stats, source_name=self.name)
        fetch = manifest["fetch"]
        log.info("fetch: %d papers, %d citations, %d requests (%d retries); tables in %s", fetch["papers"],
                 fetch["citations"], fetch["requests"]["total"], fetch["retries"], ctx.paths.tables)
        return manifest

    def plan(self, ctx: Context) -> Plan:
        """What a fetch of ``ctx.config`` will cost (:mod:`.plan`); asks at most for the first page of each seed
        search, which it keeps in the store for the fetch."""
        with _open_store(ctx) as store, store_damage(store.path):
            return _in_session(ctx, store, RequestStats(), lambda client: make_plan(client, store, ctx.config))


    def growth(self, ctx: Context):
        """Field growth alone (phase 4): what the store lacks of it (no request for a field whose seed searches a
        fetch paged to their end), then the ``field_growth`` table."""
        import pandas as pd

        from pipeline.tables import SCHEMAS

        stats = RequestStats()
        with _open_store(ctx) as store:
            _in_session(ctx, store, stats, lambda client: fetch_growth(client, store, ctx.config, quiet=ctx.quiet))
            rows = growth_table(ctx.config, store)
        log.info("growth: %d requests (%d retries)", stats.as_manifest()["requests"]["total"], stats.retries)
        return pd.DataFrame(rows, columns=list(SCHEMAS["field_growth"]))


def _open_store(ctx: Context) -> Store:
    store_path = _store_path(ctx)
    store = Store(store_path, source=ctx.api_url, fetched_on=dt.date.today().isoformat())
    with store_damage(store_path):
        others = [s for s in store.sources() if s != ctx.api_url]
    if others:
        log.warning("the store %s also holds records fetched from %s", store_path, ", ".join(others))
    return store


def _in_session(ctx: Context, store: Store, stats: RequestStats, work):
    """Run ``await work(client)`` with a client for ``ctx.api_url`` (counting into ``stats``), closed afterwards;
    when the server said its literature is generated, the store remembers."""
    api_key = _api_key()

    async def session():
        client = make_client(ctx.api_url, ctx.config.fetch, api_key=api_key, stats=stats)
        try:
            return await work(client)
        finally:
            if stats.synthetic is not None:
                store.set_meta("synthetic", stats.synthetic)
            await client.aclose()

    return asyncio.run(session())


def _api_key() -> str | None:
    """``S2_API_KEY`` stripped (a key pasted with its line break, from a .env file with CRLF endings, would be
    an invalid header value), or None; a key that cannot be an HTTP header is one line that never quotes it."""
    key = os.environ.get("S2_API_KEY", "").strip() or None
    if key is not None and not (key.isascii() and key.isprintable()):
        raise UserError("S2_API_KEY holds a non-ASCII or control character (a pasted curly quote, a non-breaking "
                        "space?): set it to the key exactly as Semantic Scholar sent it")
    return key


def _store_path(ctx: Context):
    """This source's store, moving one left at the pre-source path (``cache/s2.sqlite``) into place."""
    new, old = ctx.paths.store, ctx.paths.legacy_store
    if old.exists() and not new.exists():
        for suffix in ("", "-wal", "-shm"):
            if old.with_name(old.name + suffix).exists():
                old.with_name(old.name + suffix).replace(new.with_name(new.name + suffix))
        log.info("moved the store %s to %s", old, new)
    return new


async def _fetch(client, store: Store, config, *, quiet: bool) -> None:
    for line in (await make_plan(client, store, config)).lines():
        log.info("%s", line)
    await resolve_seeds(client, store, config, quiet=quiet)
    rows = seed_table(config, store)[0]
    seeds = sorted({paper_id for _, paper_id, _ in rows})
    detail = detail_seeds(config.fetch, ((field, paper_id) for field, paper_id, _ in rows))
    await fetch_lists(client, store, seeds, config.edges, detail=detail, quiet=quiet)
    wanted = study_paper_ids(set(seeds), study_edges(config, store, set(seeds)))
    await fetch_metadata(client, store, wanted, quiet=quiet)
    if config.growth.source == "s2":  # an ACL Anthology count is the growth stage's
        await fetch_growth(client, store, config, quiet=quiet)
