"""The stage registry: every command the pipeline has, declared once.

The CLI (:mod:`pipeline.cli`) builds its subcommands from :data:`COMMANDS`; ``run`` runs the study stages
(:data:`STUDY`: fetch → growth → analyze → terminology → figures) in order, skipping the ones whose inputs are unchanged
(:mod:`pipeline.stages.run`). A stage's runner (``run``) and its options (``options``) are ``"module:function"``
strings, imported only when that stage's parser is built or the stage runs, so ``--help`` and skipped stages pay
for nothing; this module imports nothing heavy (no pandas, matplotlib, networkx) and must stay that way.

To add a stage: write ``pipeline/stages/<name>.py`` with ``run_<name>(ctx, args)``, give it light options (in
:mod:`pipeline.stages.options` when they are shared), declare it below, and have the runner add its typed
section to the manifest (:mod:`pipeline.manifest`). A stage declared with ``study=True`` becomes part of ``run``
after the ones before it: it may read their outputs, never the other way round.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from pipeline.tables import ANALYSIS_TABLES, FETCH_TABLES, TERMINOLOGY_TABLE


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    run: str
    """``"module:function"`` taking ``(ctx, args)``; imported when the stage runs."""
    options: str | None = None
    """``"module:function"`` adding the stage's own options to its argparse parser (keep that module light)."""
    needs_config: bool = True
    """Whether the stage reads a study config (``--config``)."""
    study: bool = False
    """Part of ``run`` (the citation study), in declaration order."""
    inputs: tuple[str, ...] = ()
    """Files the stage reads, by :meth:`pipeline.paths.RunPaths.output` name: part of its fingerprint."""
    outputs: tuple[str, ...] = ()
    """Files the stage writes (:meth:`~pipeline.paths.RunPaths.output` names); all must exist for a skip."""
    figures: bool = False
    """The stage also writes every figure of :data:`pipeline.figures.FIGURES` (PNG and PDF)."""
    incremental: bool = False
    """Always run: the stage itself does only the missing work (fetch asks the API only for what it lacks)."""
    settings: str | None = None
    """``"module:function"`` mapping the parsed args to the settings that change the outputs (fingerprinted)."""
    signs: bool = True
    """The CLI stores and logs the run's signature after the stage (:func:`pipeline.manifest.sign_manifest`);
    False for commands that sign themselves (``run``, ``demo``: at the end of :func:`~pipeline.stages.run.run_all`)
    or write no manifest (``serve-s2``)."""
    locks: bool = True
    """The CLI holds the run directory's lock (:mod:`pipeline.lock`) while the stage runs; False for
    ``serve-s2`` (writes nothing) and ``demo`` (locks the directory it picks itself)."""


def resolve(spec: str):
    """The object a ``"module:function"`` spec names, importing its module."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


PLAN = Stage(
    "plan", "print per field the bulk-search totals and seeds, and the requests and time the fetch will take",
    run="pipeline.stages.plan:run_plan", signs=False)
FETCH = Stage(
    "fetch", "fetch seeds, metadata and references from Semantic Scholar into the store and tables",
    run="pipeline.stages.fetch:run_fetch", study=True, outputs=FETCH_TABLES, incremental=True)
GROWTH = Stage(
    "growth", "field growth per year (the paper's Figure 1): from S2 searches, or ACL Anthology papers by rule",
    run="pipeline.stages.growth:run_growth", options="pipeline.stages.options:add_growth_arguments", study=True,
    outputs=("field_growth.parquet",), settings="pipeline.stages.options:growth_settings")
ANALYZE = Stage(
    "analyze", "label fields, compute cross-field statistics, export the study and field graphs",
    run="pipeline.stages.analyze:run_analyze", options="pipeline.stages.options:add_analyze_arguments",
    study=True, inputs=("papers.parquet", "citations.parquet", "seeds.parquet"), outputs=ANALYSIS_TABLES,
    settings="pipeline.stages.options:analyze_settings")
TERMINOLOGY = Stage(
    "terminology", "which terms each field uses for the same concepts (data/terminology.toml), in the study's "
                   "papers or (--source acl-anthology) the ACL Anthology's",
    run="pipeline.stages.terminology:run_terminology", options="pipeline.stages.options:add_terminology_arguments",
    study=True, inputs=("papers.parquet", "labels.parquet"), outputs=(TERMINOLOGY_TABLE,),
    settings="pipeline.stages.options:terminology_settings")
FIGURES = Stage(
    "figures", "draw the figures and write report.md from the analysis tables",
    run="pipeline.stages.figures:run_figures", study=True,
    inputs=(*FETCH_TABLES, *ANALYSIS_TABLES, TERMINOLOGY_TABLE), outputs=("report.md",), figures=True)
CORPUS = Stage(
    "corpus", "the study over a whole S2 Datasets release (papers, abstracts, ~2.5B citations) with PySpark",
    run="pipeline.stages.corpus:run_corpus", options="pipeline.stages.options:add_corpus_arguments",
    outputs=(*FETCH_TABLES, *ANALYSIS_TABLES, TERMINOLOGY_TABLE))
SCORE = Stage(
    "score", "how often a metric or reward model prefers the human-preferred output",
    run="pipeline.stages.score:run_score", options="pipeline.stages.options:add_score_arguments",
    needs_config=False)
DEMO = Stage(
    "demo", "run the whole study offline against the local synthetic S2 server",
    run="pipeline.stages.demo:run_demo", options="pipeline.stages.options:add_demo_arguments", needs_config=False,
    signs=False, locks=False)
SERVE = Stage(
    "serve-s2", "serve the synthetic literature over a local S2-compatible HTTP API (127.0.0.1 only)",
    run="pipeline.stages.serve:run_serve", options="pipeline.stages.options:add_serve_arguments",
    needs_config=False, signs=False, locks=False)

STAGES: tuple[Stage, ...] = (PLAN, FETCH, GROWTH, ANALYZE, TERMINOLOGY, FIGURES, CORPUS, SCORE, DEMO, SERVE)
STUDY: tuple[Stage, ...] = tuple(s for s in STAGES if s.study)
"""The stages ``run`` runs, in order: fetch → growth → analyze → terminology → figures."""

RUN = Stage(
    "run", "the whole study: " + " → ".join(s.name for s in STUDY) + "/report (default)",
    run="pipeline.stages.run:run_all", options="pipeline.stages.options:add_run_arguments", signs=False)

COMMANDS: dict[str, Stage] = {s.name: s for s in (RUN, *STAGES)}
"""Every subcommand of ``python -m pipeline``, ``run`` first."""
