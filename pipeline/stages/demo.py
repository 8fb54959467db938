"""``python -m pipeline demo``: the whole study offline, against the synthetic literature, in seconds.

Starts :class:`~pipeline.localapi.server.LocalS2Server` in-process on a free loopback port, serving
``generate(DEMO_PARAMS)``; runs fetch → analyze → terminology → figures against it with ``data/demo.toml`` (or ``--config``);
writes to ``data/demo/`` and ``figures/demo/`` (or under ``--out``), never to the real outputs; stops the
server and prints where the report is. The store starts empty on every demo run (it holds a generated
literature, and the server's port changes from run to run), so each demo is a complete fetch over HTTP.
Everything it makes is marked SYNTHETIC: the server says so in a response header, the fetch stage records it.
The generator's ground truth (the mixing rates it planted) is the demo's to record (it made the literature):
it goes into the manifest as ``synthetic_truth``; the production fetcher never asks a server for it.
"""

from __future__ import annotations

import dataclasses
import logging

from pipeline.config import load_config
from pipeline.context import Context
from pipeline.lock import run_lock
from pipeline.manifest import read_sections, update_manifest
from pipeline.paths import REPO_ROOT, RunPaths
from pipeline.stages.run import run_all

log = logging.getLogger(__name__)

DEMO_CONFIG = REPO_ROOT / "data" / "demo.toml"


def _fresh_store(paths: RunPaths) -> None:
    """Remove the demo's previous store (and its SQLite WAL/SHM companions)."""
    for store in (paths.store, paths.legacy_store):
        for suffix in ("", "-wal", "-shm", "-journal"):
            store.with_name(store.name + suffix).unlink(missing_ok=True)


def run_demo(ctx: Context, args=None) -> RunPaths:
    """Run the demo study; return the paths it wrote."""
    from pipeline.localapi import DEMO_PARAMS
    from pipeline.localapi.server import LocalS2Server
    from pipeline.localapi.synth import generate

    out = getattr(args, "out", None)
    if getattr(args, "corpus", False):
        return _run_corpus_demo(ctx, args, paths=RunPaths.under(out) if out else RunPaths.demo_corpus())
    paths = RunPaths.under(out) if out else RunPaths.demo()
    config = load_config(getattr(args, "config", None) or DEMO_CONFIG)
    paths.check_writable()
    with run_lock(paths.lock, directory=paths.data):
        read_sections(paths.manifest)  # a damaged manifest stops the demo before it removes anything
        _fresh_store(paths)
        log.info("demo: generating the synthetic literature (%s)", DEMO_PARAMS)
        literature = generate(DEMO_PARAMS)
        # the demo owns the server, so it knows the truth the generator planted: recorded for checking the analysis
        update_manifest(paths.manifest, synthetic_truth=literature.truth)
        with LocalS2Server(literature) as server:
            run_all(dataclasses.replace(ctx, config=config, paths=paths, api_url=server.url), args)
    print(f"SYNTHETIC demo done: report {paths.report}, figures in {paths.figures}, tables in {paths.tables}")
    return paths


def _run_corpus_demo(ctx: Context, args, *, paths: RunPaths) -> RunPaths:
    """``demo --corpus``: the local server's Datasets API → download → Parquet → Spark → tables (terminology of
    the whole release included) → figures/report.

    The data directory starts without the demo's release (a literature generated afresh is downloaded whole, as
    a real first run would be); the key is the demo's own, for the local server only. As for the study demo, the
    planted truth is recorded by the demo, which generated the literature.
    """
    import argparse
    import shutil

    from pipeline.localapi import DEMO_PARAMS
    from pipeline.localapi.server import LocalS2Server
    from pipeline.localapi.synth import generate
    from pipeline.manifest import sign_manifest
    from pipeline.stages.corpus import run_corpus
    from pipeline.stages.figures import run_figures

    config = load_config(getattr(args, "config", None) or DEMO_CONFIG)
    paths.check_writable()
    with run_lock(paths.lock, directory=paths.data):           # as the study demo: the directory is the demo's
        shutil.rmtree(paths.datasets, ignore_errors=True)
        corpus_args = argparse.Namespace(release="latest", shards=None, update=False, parquet=None,
                                         master=args.master or "local[*]", spark_conf=args.spark_conf,
                                         resamples=args.resamples, bootstrap_seed=args.bootstrap_seed)
        literature = generate(DEMO_PARAMS)
        with LocalS2Server(literature) as server:
            run_ctx = dataclasses.replace(ctx, config=config, paths=paths, api_url=server.url)
            run_corpus(run_ctx, corpus_args, api_key="local-demo-key")
        update_manifest(paths.manifest, synthetic_truth=literature.truth)
        run_figures(run_ctx, args)
        sign_manifest(paths.manifest)
    print(f"SYNTHETIC corpus demo done: report {paths.report}, figures in {paths.figures}, tables in {paths.tables}")
    return paths
