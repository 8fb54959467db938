"""``python -m pipeline terminology``: which terms each field uses for the same concepts.

Counts the terms of ``data/terminology.toml`` (``--terms``) in titles and abstracts
(:mod:`pipeline.stats.terminology`):

- ``--source study`` (default; part of ``run``): the run's ``papers`` and ``labels`` tables (fetch and analyze)
  → ``terminology.csv`` beside them; the figures stage draws its heatmap into the report;
- ``--source acl-anthology --acl-data DIR --out OUT``: the ACL Anthology's papers (real titles and abstracts, read
  offline by :mod:`pipeline.sources.acl_anthology`), labelled by the config's keyword rules (there are no seeds)
  → ``OUT/processed/terminology.csv``, ``OUT/figures/terminology.png|pdf`` and ``OUT/figures/terminology.md``
  (``--out`` is required: the Anthology's table must not replace the study's).

Each adds a ``terminology`` section to the run's manifest. The ``corpus`` stage counts every labelled paper of a
whole release with the same matcher (:mod:`pipeline.spark.terminology`) and writes the same table and section
(``source`` ``s2-datasets``) through :func:`write_terminology`; on such a run directory ``--source study`` refuses,
in one line, to replace that table by one of the study papers alone (rerun ``corpus --terms`` to recount).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging

import numpy as np
import pandas as pd

from pipeline import OTHER
from pipeline.context import Context
from pipeline.errors import UserError
from pipeline.manifest import TerminologySection, read_manifest, update_manifest
from pipeline.paths import write_atomically
from pipeline.sources.s2_datasets import NAME as S2_DATASETS
from pipeline.stats.citations import mask_names
from pipeline.stats.terminology import UsageCounts, count_usage, membership, table_from_counts
from pipeline.tables import TERMINOLOGY_TABLE, read_table
from pipeline.terms import DEFAULT_TERMS, load_terms, terms_hash

log = logging.getLogger(__name__)


def run_terminology(ctx: Context, args: argparse.Namespace | None = None) -> pd.DataFrame:
    """Run the stage; return the table it wrote."""
    source = getattr(args, "source", "study")
    if source == "acl-anthology" and not getattr(args, "out", None):
        raise UserError("--source acl-anthology needs --out DIR: the Anthology's terminology table must not "
                        "replace the study's in data/processed")
    if source == "study":
        _refuse_to_replace_the_release_table(ctx)
    terms_file = getattr(args, "terms", None) or DEFAULT_TERMS
    terms, concept_labels = load_terms(terms_file, field_names=ctx.config.field_names)
    if source == "acl-anthology":
        papers, labels, data, skipped = _anthology(ctx, args)
    else:
        papers, labels = read_table(ctx.paths.tables, "papers"), read_table(ctx.paths.tables, "labels")
        labels = papers[["paper_id"]].merge(labels, on="paper_id", how="left")["labels"]
        data, skipped = str(ctx.paths.tables), []
    fields = (*ctx.config.field_names, OTHER)
    counts = count_usage(papers["title"], papers["abstract"], membership(labels, fields), terms)
    table, section = write_terminology(ctx, counts, terms, concept_labels, terms_file=terms_file, source=source,
                                       data=data, skipped=skipped)
    if source == "acl-anthology":
        section = dataclasses.replace(section, outputs=[*section.outputs, *_anthology_figure(ctx, table)])
    update_manifest(ctx.paths.manifest, terminology=section)
    return table


def write_terminology(ctx: Context, counts: UsageCounts, terms, concept_labels: dict[str, str], *, terms_file,
                      source: str, data: str, skipped=()) -> tuple[pd.DataFrame, TerminologySection]:
    """Write ``terminology.csv`` from the counts of either engine (:func:`~pipeline.stats.terminology.
    table_from_counts`); return it and the manifest's ``terminology`` section for it."""
    fields = (*ctx.config.field_names, OTHER)
    table = table_from_counts(counts, terms, fields=fields,
                              rules={spec.name: list(spec.rules.values()) for spec in ctx.config.fields})
    table.insert(1, "concept_label", table["concept"].map(concept_labels))
    path = ctx.paths.table(TERMINOLOGY_TABLE)
    write_atomically(path, lambda tmp: table.to_csv(tmp, index=False))
    section = TerminologySection(
        source=source, date=dt.date.today().isoformat(), terms_file=str(terms_file), terms_hash=terms_hash(terms_file),
        concepts=len(concept_labels), terms=len(terms), papers=int(counts.total),
        with_abstract=int(counts.total_with_abstract),
        papers_per_field={name: int(n) for name, n in zip(fields, counts.papers)}, data=data,
        skipped_files=list(skipped), outputs=[TERMINOLOGY_TABLE])
    log.info("terminology: %d terms of %d concepts in %d papers → %s", len(terms), len(concept_labels),
             counts.total, path)
    return table, section


def _refuse_to_replace_the_release_table(ctx: Context) -> None:
    """The study papers of a ``corpus`` run are a subset of the release whose every paper its terminology table
    already counts: recounting them would silently replace the whole release's table by a smaller one."""
    manifest = read_manifest(ctx.paths.manifest)
    written_by = (manifest.get("terminology") or {}).get("source")
    tables_from = (manifest.get("fetch") or {}).get("source_name")
    if written_by == S2_DATASETS and tables_from == S2_DATASETS:
        raise UserError(f"{ctx.paths.table(TERMINOLOGY_TABLE)} counts every paper of the S2 Datasets release "
                        "(written by corpus); the study papers' table would replace it: recount with "
                        "`python -m pipeline corpus ... --terms PATH` (it reads the Parquet, no download)")


def _anthology(ctx: Context, args) -> tuple[pd.DataFrame, pd.Series, str, list[str]]:
    """The Anthology's papers (``--acl-data``; without it acl-anthology fetches the data) and their labels by the
    config's rules (a paper matching no field's rule is ``other``)."""
    from pipeline.sources import acl_anthology

    papers, report = acl_anthology.load(getattr(args, "acl_data", None), quiet=ctx.quiet)
    matches = acl_anthology.field_matches(papers, ctx.config.fields)
    masks, code = np.unique(matches.to_numpy(dtype=bool) @ (1 << np.arange(matches.shape[1])), return_inverse=True)
    names = np.array([mask_names(int(mask), list(matches.columns)) for mask in masks], dtype=object)
    return papers, pd.Series(names[code.reshape(-1)], dtype="string"), str(report.xml_dir), list(report.skipped)


def _anthology_figure(ctx: Context, table: pd.DataFrame) -> list[str]:
    """The heatmap (PNG + PDF) and ``terminology.md`` (the headline sentences and the table) under the run's
    figures directory. Real data: no SYNTHETIC mark."""
    from pipeline.figures import FIGURES
    from pipeline.markdown import markdown_table
    from pipeline.paths import write_text_atomically
    from pipeline.plots import terminology_heatmap
    from pipeline.report_beyond import terminology_sentences, terminology_table
    from pipeline.style import publication_style, save, use_file_backend

    use_file_backend()
    fields = (*ctx.config.field_names, OTHER)
    declared = FIGURES["terminology"]
    with publication_style():
        fig = terminology_heatmap(table, fields=fields, size=declared.size)
        fig.suptitle(f"{declared.title} (ACL Anthology)")
        saved = save(fig, ctx.paths.figures, "terminology")
    lines = [f"# {declared.title}: the ACL Anthology", "",
             f"Papers of the ACL Anthology labelled by the study's keyword rules ({ctx.config.path.name}); for each "
             "concept of the terminology file, the term each field's papers use most (share of the field's papers "
             "whose title or abstract uses it, 95% Wilson interval; a field's own labelling-rule terms left out):", "",
             *[f"- {sentence}" for sentence in terminology_sentences(table, fields=ctx.config.field_names)], "",
             f"![{declared.caption}]({saved['png'].name})", "",
             "Every term some paper uses (‡: one of the field's labelling rules matches the term itself):", "",
             markdown_table(terminology_table(table, fields=fields)), ""]
    write_text_atomically(ctx.paths.figures / "terminology.md", "\n".join(lines))
    return [saved["png"].name, saved["pdf"].name, "terminology.md"]
