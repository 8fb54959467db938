"""``python -m pipeline run``: the whole study, fetch → analyze → figures/report, redoing only what changed.

What "skip" means per stage:

- **fetch** always runs: it is incremental by itself (it asks the API only for what the store lacks, so an
  unchanged study costs zero requests, and works offline once the store is complete) and re-exports its tables.
- **analyze** and **figures** are skipped when their *fingerprint* equals the one recorded by their last
  successful run and all their outputs exist. A fingerprint is the sha256 of the package's source code, the config
  hash (fields, rules, seeds, overrides, counting …) and the bytes of every input file the stage reads. Fingerprints
  live in the manifest under ``"stages"``. ``--force`` reruns every stage.

So editing a labelling rule reruns analyze and figures with no network; rerunning an unchanged study makes zero
requests and redraws nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pipeline
from pipeline.analyze import add_arguments as add_analyze_arguments
from pipeline.analyze import bootstrap_params
from pipeline.context import Context
from pipeline.manifest import read_manifest, update_manifest
from pipeline.paths import RunPaths
from pipeline.figures import FIGURES
from pipeline.report import ANALYSIS_TABLES

log = logging.getLogger(__name__)

FETCH_TABLES = ("papers.parquet", "citations.parquet", "seeds.parquet", "field_growth.parquet")


@dataclass(frozen=True)
class Stage:
    name: str
    run: str
    """``module:function(ctx, args)``, imported when the stage runs (fetch pulls in the HTTP stack)."""
    inputs: Callable[[RunPaths], list[Path]]
    outputs: Callable[[RunPaths], list[Path]]
    incremental: bool = False
    """Always run: the stage itself does only the missing work (fetch)."""
    settings: Callable[[object], object] = lambda args: None
    """The stage's command-line settings that change its outputs (part of the fingerprint)."""


def _tables(*names: str) -> Callable[[RunPaths], list[Path]]:
    return lambda paths: [paths.table(n) for n in names]


STAGES = (
    Stage("fetch", "pipeline.fetch:run_fetch", inputs=lambda paths: [], outputs=_tables(*FETCH_TABLES),
          incremental=True),
    Stage("analyze", "pipeline.analyze:run_analyze", inputs=_tables("papers.parquet", "citations.parquet",
                                                                    "seeds.parquet"),
          outputs=_tables(*ANALYSIS_TABLES), settings=bootstrap_params),
    Stage("figures", "pipeline.figures:run_figures", inputs=_tables(*FETCH_TABLES, *ANALYSIS_TABLES),
          outputs=lambda paths: [paths.report, *(paths.figures / f"{n}.{ext}" for n in FIGURES
                                                 for ext in ("png", "pdf"))]),
)


@functools.cache
def code_hash() -> str:
    """sha256 over the package's Python sources: a code change (an edited statistic, a new figure) is a change."""
    digest = hashlib.sha256()
    root = Path(pipeline.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fingerprint(stage: Stage, ctx: Context, args=None) -> str:
    """sha256 over the package's code, the config hash, the stage's settings and the bytes of its input files."""
    digest = hashlib.sha256(f"{stage.name}|{code_hash()}|{ctx.config.hash}|{stage.settings(args)!r}".encode())
    for path in stage.inputs(ctx.paths):
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def is_current(stage: Stage, ctx: Context, args=None) -> bool:
    """Whether ``stage`` can be skipped: not incremental, outputs present, fingerprint as last recorded."""
    if stage.incremental or not all(p.exists() for p in stage.outputs(ctx.paths)):
        return False
    recorded = read_manifest(ctx.paths.manifest).get("stages", {}).get(stage.name, {})
    return recorded.get("fingerprint") == fingerprint(stage, ctx, args)


def _record(stage: Stage, ctx: Context, args=None) -> None:
    stages = read_manifest(ctx.paths.manifest).get("stages", {})
    stages[stage.name] = {"fingerprint": fingerprint(stage, ctx, args),
                          "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    update_manifest(ctx.paths.manifest, stages=stages)


def run_all(ctx: Context, args=None) -> list[str]:
    """Run fetch → analyze → figures, skipping up-to-date stages; return the names of the stages that ran."""
    force = bool(getattr(args, "force", False))
    ran = []
    for stage in STAGES:
        if not force and is_current(stage, ctx, args):
            log.info("%s: inputs unchanged since the last run, skipped (--force redoes it)", stage.name)
            continue
        module, _, function = stage.run.partition(":")
        started = time.perf_counter()
        getattr(importlib.import_module(module), function)(ctx, args)
        _record(stage, ctx, args)
        ran.append(stage.name)
        log.info("%s: done in %.1f s", stage.name, time.perf_counter() - started)
    log.info("report: %s", ctx.paths.report)
    return ran


def add_arguments(parser) -> None:
    """Options of ``run`` (and ``demo``): ``--force`` plus every stage's own options."""
    parser.add_argument("--force", action="store_true", help="rerun every stage even if its inputs are unchanged")
    add_analyze_arguments(parser)
