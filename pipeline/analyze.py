"""``python -m pipeline analyze``: label every paper, build the citation graph, compute the cross-field statistics.

Reads the ``papers``, ``citations`` and ``seeds`` tables under ``--out`` (written by fetch), writes under the
same tables directory: ``labels.parquet``, ``cross_field.csv``, ``overlap.csv``, ``bridges.csv``,
``top_cross_citations.csv``, ``cross_field_by_kind.csv``, ``graph.graphml``, ``graph.gexf``; and the
``analysis`` section of ``manifest.json`` (counts, counting, E-I index, assortativity, bootstrap settings,
warnings about what was dropped or cannot be measured).
"""

from __future__ import annotations

import argparse
import logging
import math


from pipeline import OTHER, analysis
from pipeline.context import Context
from pipeline.errors import UserError
from pipeline.fields import label_counts, label_papers, read_overrides
from pipeline.graph import GRAPH_FILES, build_graph, label_assortativity, write_graph
from pipeline.manifest import update_manifest
from pipeline.paths import write_atomically
from pipeline.tables import read_table, write_table

log = logging.getLogger(__name__)

TOP = 50
"""Rows of bridges.csv and top_cross_citations.csv."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = analysis.BootstrapParams()
    parser.add_argument("--resamples", type=int, default=defaults.resamples,
                        help="bootstrap resamples of citing papers for the confidence intervals (default: %(default)s)")
    parser.add_argument("--bootstrap-seed", type=int, default=defaults.seed,
                        help="seed of the bootstrap (default: %(default)s)")


def run_analyze(ctx: Context, args: argparse.Namespace | None = None) -> dict:
    """Run the stage; return the manifest's ``analysis`` section."""
    config, tables = ctx.config, ctx.paths.tables
    papers = read_table(tables, "papers")
    citations = read_table(tables, "citations")
    seeds = read_table(tables, "seeds")
    overrides = read_overrides(config.overrides, field_names=config.field_names) if config.overrides else None

    labels = label_papers(papers, seeds, fields=config.fields, overrides=overrides)
    labelled = label_counts(labels, field_names=config.field_names)
    if not any(labelled[name] for name in config.field_names):
        raise UserError(f"no paper in {tables / 'papers.parquet'} belongs to a field "
                        f"({', '.join(config.field_names)}): check the seeds table and the rules in {config.path}")
    write_table(tables, "labels", labels)

    data = analysis.encode(papers, labels, citations, field_names=config.field_names)
    if len(data.citing) == 0:
        raise UserError(f"no citation in {tables / 'citations.parquet'} links two known papers: "
                        "rerun `python -m pipeline fetch` (did it fetch references?)")
    warnings = analysis.data_warnings(data)
    for warning in warnings:
        log.warning("analyze: %s", warning)

    params = bootstrap_params(args)
    sums = analysis.bootstrap_sums(analysis.citing_profiles(data, counting=config.counting), params=params,
                                   quiet=ctx.quiet)
    overlap = analysis.overlap_table(sums, fields=data.fields)
    outputs = {
        "cross_field.csv": analysis.cross_field_table(sums, fields=data.fields),
        "overlap.csv": overlap,
        "bridges.csv": analysis.bridge_papers(data, top=TOP),
        "top_cross_citations.csv": analysis.top_cross_citations(data, top=TOP),
        "cross_field_by_kind.csv": analysis.shares_by_kind(data, counting=config.counting),
    }
    for name, frame in outputs.items():
        write_atomically(tables / name, lambda tmp, frame=frame: frame.to_csv(tmp, index=False))

    mixing = analysis.mixing_matrix(data, counting=config.counting)
    graph = build_graph(data, quiet=ctx.quiet)
    write_graph(graph, tables)
    any_other = overlap[overlap["cited_field"] == analysis.ANY_OTHER_FIELD].set_index("citing_field")["share"]
    section = {
        "papers": len(data.papers),
        "citations": len(data.citing),
        "labelled": labelled,
        "counting": config.counting,
        "ei_index": {name: _number(x) for name, x in zip(data.fields, analysis.ei_index(mixing))},
        "assortativity": _number(label_assortativity(graph)),
        "assortativity_mixing": _number(analysis.assortativity(mixing)),
        "overlap_any_other_field": {name: _number(any_other[name]) for name in config.field_names},
        "bootstrap": {"resamples": params.resamples, "seed": params.seed, "level": params.level,
                      "unit": "citing paper"},
        "dropped": data.dropped,
        "warnings": warnings,
        "outputs": ["labels.parquet", *outputs, *GRAPH_FILES],
    }
    update_manifest(ctx.paths.manifest, analysis=section)
    log.info("analyze: %d papers (%s), %d citations → %s", section["papers"],
             ", ".join(f"{k} {v}" for k, v in labelled.items() if k != OTHER), section["citations"], tables)
    return section


def bootstrap_params(args: argparse.Namespace | None) -> analysis.BootstrapParams:
    defaults = analysis.BootstrapParams()
    resamples = getattr(args, "resamples", defaults.resamples)
    if resamples < 1:
        raise UserError(f"--resamples must be at least 1, got {resamples}")
    return analysis.BootstrapParams(resamples=resamples, seed=getattr(args, "bootstrap_seed", defaults.seed))


def _number(value: float) -> float | None:
    """JSON-safe: NaN (undefined statistic) becomes null."""
    return None if value is None or math.isnan(value) else float(value)

