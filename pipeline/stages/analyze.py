"""``python -m pipeline analyze``: label every paper, compute the cross-field statistics, export the graphs.

Reads the ``papers``, ``citations`` and ``seeds`` tables under ``--out`` (written by fetch), writes under the
same tables directory: ``labels.parquet``, ``cross_field.csv``, ``overlap.csv``, ``bridges.csv``,
``top_cross_citations.csv``, ``cross_field_by_kind.csv``, ``coupling.csv``, ``shared_references.csv``,
``diversity.csv``, ``trend.csv`` (:mod:`pipeline.stats.beyond`), the graphs of ``--graph`` (:mod:`pipeline.graph`);
and the ``analysis`` section of ``manifest.json`` (counts, counting, E-I index, assortativity, bootstrap
settings, warnings about what was dropped or cannot be measured, and the wall/CPU seconds and peak RSS of each
phase: read, label, statistics, bootstrap, beyond, outputs; logged with ``-v``).
"""

from __future__ import annotations

import argparse
import logging
import math

import numpy as np
from tqdm.auto import tqdm

from pipeline import OTHER
from pipeline.context import Context
from pipeline.errors import UserError
from pipeline.fields import label_counts, label_papers, read_overrides
from pipeline.graph import graph_files, write_graphs
from pipeline.manifest import AnalysisSection, BootstrapSettings, read_manifest, update_manifest
from pipeline.paths import write_atomically
from pipeline.stages.options import bootstrap_params, graph_mode
from pipeline.stats import ANY_OTHER_FIELD
from pipeline.stats import citations as stats
from pipeline.stats.beyond import beyond_tables
from pipeline.stats.coupling import coupling_tables
from pipeline.tables import read_arrow, read_table, write_table
from pipeline.timing import Phases

log = logging.getLogger(__name__)

TOP = 50
"""Rows of bridges.csv and top_cross_citations.csv."""
PAPER_COLUMNS = ["paper_id", "title", "abstract", "year"]
CITATION_COLUMNS = ["citing_id", "cited_id", "is_influential", "intents"]


def run_analyze(ctx: Context, args: argparse.Namespace | None = None) -> dict:
    """Run the stage; return the manifest's ``analysis`` section as written (JSON)."""
    params, graph = bootstrap_params(args), graph_mode(args)  # validated before anything is written
    config, tables = ctx.config, ctx.paths.tables
    phases = Phases("analyze")
    with phases("read"):
        papers = read_arrow(tables, "papers", PAPER_COLUMNS).to_pandas()
        citations = read_arrow(tables, "citations", CITATION_COLUMNS, dictionary=("intents",))
        seeds = read_table(tables, "seeds")
        overrides = read_overrides(config.overrides, field_names=config.field_names) if config.overrides else None

    with phases("label"):
        labels = label_papers(papers, seeds, fields=config.fields, overrides=overrides)
        labelled = label_counts(labels, field_names=config.field_names)
    if not any(labelled[name] for name in config.field_names):
        raise UserError(f"no paper in {tables / 'papers.parquet'} belongs to a field "
                        f"({', '.join(config.field_names)}): check the seeds table and the rules in {config.path}")

    with phases("statistics"):
        data = stats.encode(papers.drop(columns="abstract"), labels, citations, field_names=config.field_names)
        del papers, citations
        if len(data.citing) == 0:
            raise UserError(f"no citation in {tables / 'citations.parquet'} links two known papers: "
                            "rerun `python -m pipeline fetch` (did it fetch references?)")
        warnings = [*empty_field_warnings(seeds, config), *stats.data_warnings(data)]
        for warning in warnings:
            log.warning("analyze: %s", warning)
        types = stats.citing_types(data)
        profiles = stats.profiles_from_types(*types, data.masks, n_fields=data.n_fields, counting=config.counting)
        mixing = stats.mixing_matrix(data, counting=config.counting)
        outputs = {"bridges.csv": stats.bridge_papers(data, top=TOP),
                   "top_cross_citations.csv": stats.top_cross_citations(data, top=TOP),
                   "cross_field_by_kind.csv": stats.shares_by_kind(data, counting=config.counting)}
    with phases("bootstrap"):
        with tqdm(total=params.resamples, desc="bootstrap", disable=ctx.quiet, leave=False) as bar:
            sums = stats.bootstrap_sums(profiles, params=params, progress=bar.update)
        overlap = stats.overlap_table(sums, fields=data.fields)
        outputs = {"cross_field.csv": stats.cross_field_table(sums, fields=data.fields), "overlap.csv": overlap,
                   **outputs}
    with phases("beyond"):
        outputs.update(beyond_tables(coupling_tables(data, level=params.level), (*types, data.masks), sums,
                                     fields=data.fields, mixing=mixing, counting=config.counting, level=params.level))

    with phases("outputs"):
        write_table(tables, "labels", labels)
        for name, frame in outputs.items():
            write_atomically(tables / name, lambda tmp, frame=frame: frame.to_csv(tmp, index=False))
        seeded = stats.paper_codes(data, seeds["paper_id"])
        is_seed = np.zeros(len(data.papers), dtype=bool)
        is_seed[seeded[seeded >= 0]] = True
        with tqdm(desc="graph files", unit=" rows", disable=ctx.quiet, leave=False) as bar:
            write_graphs(data, tables, mode=graph, seeds=is_seed, mixing=mixing, counting=config.counting,
                         synthetic=bool(read_manifest(ctx.paths.manifest).get("synthetic")), progress=bar.update)
    section = analysis_section(papers=len(data.papers), citations=len(data.citing), labelled=labelled,
                               counting=config.counting, fields=data.fields, mixing=mixing, overlap=overlap,
                               params=params, dropped=data.dropped, warnings=warnings, graph=graph,
                               outputs=["labels.parquet", *outputs, *graph_files(graph)], timings=phases.timings)
    written = update_manifest(ctx.paths.manifest, analysis=section)["analysis"]
    log.info("analyze: %d papers (%s), %d citations → %s", section.papers,
             ", ".join(f"{k} {v}" for k, v in labelled.items() if k != OTHER), section.citations, tables)
    return written


def empty_field_warnings(seeds, config) -> list[str]:
    """One line per configured field without a single seed paper (every seed id unknown to the API, no query
    hit): it has no citing papers, so its rows in every table and in the report are empty."""
    seeded = set(seeds["field"].astype(str))
    return [f"field {spec.name} is empty: none of its {len(spec.seeds)} seed ids is known to the API (manifest "
            f"fetch.unknown_ids) and {'its queries found nothing' if spec.queries else 'it has no queries'}, so "
            "it has no citing papers and its rows are empty; fix its seeds file or add queries"
            for spec in config.fields if spec.name not in seeded]


def analysis_section(*, papers: int, citations: int, labelled: dict[str, int], counting: str, fields, mixing,
                     overlap, params, dropped: dict[str, int], warnings: list[str], graph: str, outputs: list[str],
                     timings: dict | None = None) -> AnalysisSection:
    """The manifest's ``analysis`` section from a run's statistics (``analyze``, or ``corpus`` on Spark)."""
    any_other = overlap[overlap["cited_field"] == ANY_OTHER_FIELD].set_index("citing_field")["share"]
    return AnalysisSection(
        papers=papers, citations=citations, labelled=labelled, counting=counting,
        ei_index={name: _number(x) for name, x in zip(fields, stats.ei_index(mixing))},
        assortativity=_number(stats.assortativity(mixing)),
        overlap_any_other_field={name: _number(any_other[name]) for name in fields if name != OTHER},
        bootstrap=BootstrapSettings(resamples=params.resamples, seed=params.seed, level=params.level,
                                    unit="citing paper", method="poisson"),
        dropped=dropped, warnings=warnings, graph=graph, outputs=outputs, timings=timings or {})


def _number(value: float) -> float | None:
    """JSON-safe: NaN (undefined statistic) becomes null."""
    return None if value is None or math.isnan(value) else float(value)
