"""A small, complete run directory with exactly the columns of the stage contracts (pipeline/tables.py).

The numbers are plausible, not the output of the analysis code: the figures and the report must draw whatever the
tables say, so a handmade literature of 80 papers is enough to pin their behaviour down in milliseconds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipeline import OTHER
from pipeline.manifest import update_manifest
from pipeline.paths import RunPaths
from pipeline.tables import write_table

FIELDS = ("metrics", "reward_models", "llm_judge")
ALL_FIELDS = (*FIELDS, OTHER)
YEARS = (2016, 2024)


def _papers(rng) -> pd.DataFrame:
    n = 80
    ids = [f"{i:040x}" for i in range(1, n + 1)]
    field = np.array(ALL_FIELDS)[np.arange(n) % 4]
    return pd.DataFrame({
        "paper_id": ids,
        "title": [f"A {f.replace('_', ' ')} paper number {i} with a rather long title" for i, f in enumerate(field)],
        "abstract": None, "year": rng.integers(YEARS[0], YEARS[1] + 1, n), "venue": "ACL",
        "publication_date": None, "external_ids": "{}", "fields_of_study": "Computer Science",
        "reference_count": 10, "citation_count": rng.integers(0, 500, n),
    }).assign(field=field)


def _citations(papers, rng) -> pd.DataFrame:
    """Each paper cites 8 others: 80% within its field, the rest anywhere."""
    rows = []
    for citing in papers.itertuples():
        same = papers[(papers.field == citing.field) & (papers.paper_id != citing.paper_id)]
        for _ in range(8):
            pool = same if rng.random() < 0.8 else papers[papers.paper_id != citing.paper_id]
            rows.append((citing.paper_id, pool.paper_id.iloc[rng.integers(len(pool))]))
    edges = pd.DataFrame(rows, columns=["citing_id", "cited_id"]).drop_duplicates()
    return edges.assign(is_influential=rng.random(len(edges)) < 0.2,
                        intents=np.where(rng.random(len(edges)) < 0.5, "background", "methodology|result"))


def _cross_field(edges) -> pd.DataFrame:
    """Shares per citing field (and year), with made-up CIs and O/E against the cited fields' overall shares."""
    full = pd.MultiIndex.from_product([ALL_FIELDS, ALL_FIELDS], names=["citing_field", "cited_field"])
    tables = []
    for year, group in [("all", edges), *[(str(y), g) for y, g in edges.groupby("year")]]:
        counts = group.groupby(["citing_field", "cited_field"]).size().reindex(full, fill_value=0).astype(float)
        share = counts / counts.groupby(level=0).transform("sum")
        expected = counts.groupby(level=1).sum() / counts.sum()
        frame = pd.DataFrame({"citations": counts, "share": share}).reset_index()
        frame["expected_share"] = frame.cited_field.map(expected)
        half = 0.05 + 0.5 / np.sqrt(1 + counts.groupby(level=0).transform("sum").to_numpy())
        frame["ci_low"] = (frame.share - half).clip(0, 1)
        frame["ci_high"] = (frame.share + half).clip(0, 1)
        ratio = frame.share / frame.expected_share
        frame["obs_exp"] = ratio
        frame["obs_exp_low"] = frame.ci_low / frame.expected_share
        frame["obs_exp_high"] = frame.ci_high / frame.expected_share
        tables.append(frame.assign(year=year))
    columns = ["year", "citing_field", "cited_field", "citations", "share", "ci_low", "ci_high", "expected_share",
               "obs_exp", "obs_exp_low", "obs_exp_high"]
    return pd.concat(tables)[columns]


def _overlap(edges) -> pd.DataFrame:
    rows = []
    for citing, group in edges.groupby("citing_field"):
        cited_by_paper = group.groupby("citing_id").cited_field.agg(set)
        targets = [*ALL_FIELDS, "any_other_field"]
        for cited in targets:
            hits = cited_by_paper.map(lambda s: bool(s - {citing}) if cited == "any_other_field" else cited in s)
            share = hits.mean()
            rows.append((citing, cited, len(hits), int(hits.sum()), share, max(share - 0.1, 0), min(share + 0.1, 1)))
    return pd.DataFrame(rows, columns=["citing_field", "cited_field", "papers", "citing_papers", "share", "ci_low",
                                       "ci_high"])


def _bridges(papers, edges) -> pd.DataFrame:
    stats = edges.groupby("cited_id").agg(citations=("citing_id", "size"),
                                          n_citing_fields=("citing_field", "nunique"),
                                          citing_fields=("citing_field", lambda s: "|".join(sorted(set(s)))))
    stats = stats[stats.n_citing_fields >= 2].sort_values("citations", ascending=False).head(15)
    info = papers.set_index("paper_id").loc[stats.index]
    return pd.DataFrame({"paper_id": stats.index, "title": info.title.to_numpy(), "year": info.year.to_numpy(),
                         "labels": info.field.to_numpy(), "citations": stats.citations.to_numpy(),
                         "n_citing_fields": stats.n_citing_fields.to_numpy(),
                         "citing_fields": stats.citing_fields.to_numpy()})


def _top_cross(papers, edges) -> pd.DataFrame:
    cross = edges[(edges.citing_field != edges.cited_field) & (edges.citing_field != OTHER)
                  & (edges.cited_field != OTHER)]
    titles = papers.set_index("paper_id").title
    cited_counts = edges.cited_id.value_counts()
    return pd.DataFrame({
        "citing_id": cross.citing_id, "citing_title": cross.citing_id.map(titles), "citing_field": cross.citing_field,
        "cited_id": cross.cited_id, "cited_title": cross.cited_id.map(titles), "cited_field": cross.cited_field,
        "cited_citations": cross.cited_id.map(cited_counts),
    }).sort_values("cited_citations", ascending=False).head(20)


def _by_kind(edges) -> pd.DataFrame:
    kinds = pd.concat([
        edges.assign(kind="influential:" + edges.is_influential.map({True: "true", False: "false"})),
        edges.assign(kind=edges.intents.str.split("|")).explode("kind").assign(kind=lambda f: "intent:" + f.kind),
    ])
    counts = kinds.groupby(["kind", "citing_field", "cited_field"]).size().rename("citations").reset_index()
    counts["share"] = counts.citations / counts.groupby(["kind", "citing_field"]).citations.transform("sum")
    return counts


def _beyond(papers, edges, paths) -> None:
    """coupling, shared references, diversity, trend (the real statistics on the handmade literature: they are
    milliseconds here) and terminology (the default terms file on the papers' titles)."""
    from pipeline.stats import citations
    from pipeline.stats.beyond import beyond_tables
    from pipeline.stats.coupling import coupling_tables
    from pipeline.stats.terminology import usage_table
    from pipeline.terms import DEFAULT_TERMS, load_terms

    labels = pd.DataFrame({"paper_id": papers.paper_id, "labels": papers.field})
    data = citations.encode(papers, labels, edges, field_names=FIELDS)
    params = citations.BootstrapParams(resamples=50)
    sums = citations.bootstrap_sums(citations.citing_profiles(data), params=params)
    tables = beyond_tables(coupling_tables(data), (*citations.citing_types(data), data.masks), sums,
                           fields=data.fields, mixing=citations.mixing_matrix(data), counting="fractional")
    for name, frame in tables.items():
        frame.to_csv(paths.table(name), index=False)
    terms, concepts = load_terms(DEFAULT_TERMS, field_names=FIELDS)
    titled = papers.assign(title=papers.title + np.where(papers.field == "metrics", " with quality estimation", ""))
    table = usage_table(titled, papers.field, terms, fields=ALL_FIELDS)
    table.insert(1, "concept_label", table.concept.map(concepts))
    table.to_csv(paths.table("terminology.csv"), index=False)


def build_run(root, *, synthetic: bool = True, seed: int = 0) -> RunPaths:
    """Write a complete small run (fetch tables, analysis tables, manifest) under ``root``; return its paths."""
    rng = np.random.default_rng(seed)
    paths = RunPaths.under(root)
    papers = _papers(rng)
    edges = _citations(papers, rng)
    field_of, year_of = papers.set_index("paper_id").field, papers.set_index("paper_id").year
    labelled = edges.assign(citing_field=edges.citing_id.map(field_of), cited_field=edges.cited_id.map(field_of),
                            year=edges.citing_id.map(year_of))
    write_table(paths.tables, "papers", papers)
    write_table(paths.tables, "citations", edges)
    seeds = papers[papers.field != OTHER].groupby("field").head(6)
    write_table(paths.tables, "seeds", pd.DataFrame({"field": seeds.field, "paper_id": seeds.paper_id,
                                                     "origin": "id:CorpusId:" + seeds.index.astype(str)}))
    years = np.arange(YEARS[0], YEARS[1] + 1)
    growth = pd.DataFrame([(f, y, int(50 * (i + 1) * 1.3 ** (y - YEARS[0]))) for i, f in enumerate(FIELDS)
                           for y in years], columns=["field", "year", "total"])
    write_table(paths.tables, "field_growth", growth.assign(source="s2", papers=None, papers_with_abstract=None))
    pd.DataFrame({"paper_id": papers.paper_id, "labels": papers.field,
                  "reasons": papers.field + ":" + np.where(papers.field == OTHER, "default", "seed")}
                 ).to_parquet(paths.table("labels.parquet"), index=False)
    _cross_field(labelled).to_csv(paths.table("cross_field.csv"), index=False)
    _overlap(labelled).to_csv(paths.table("overlap.csv"), index=False)
    _bridges(papers, labelled).to_csv(paths.table("bridges.csv"), index=False)
    _top_cross(papers, labelled).to_csv(paths.table("top_cross_citations.csv"), index=False)
    _by_kind(labelled).to_csv(paths.table("cross_field_by_kind.csv"), index=False)
    _beyond(papers, edges, paths)
    fetch = {"source": "http://127.0.0.1:1", "date": "2026-01-02T03:04:05+00:00", "config_hash": "abc123def4567890",
             "seeds": {f: 6 for f in FIELDS}, "unknown_ids": ["CorpusId:999999"],
             "truncated": [{"paper_id": papers.paper_id[0], "list": "references"}],
             "short_lists": [{"paper_id": papers.paper_id[1], "list": "references", "entries": 7,
                              "reference_count": 9}],
             "requests": {"total": 42, "paper/batch": 2, "references": 24, "search/bulk": 16}, "retries": 3,
             "throttle_wait_seconds": 1.5,
             "field_growth": {f: "counted" if i == 0 else "search totals" for i, f in enumerate(FIELDS)},
             "edge_details": {"setting": "seeds", "citations_with_detail": len(edges)}}
    analysis = {"papers": len(papers), "citations": len(edges), "labelled": field_of.value_counts().to_dict(),
                "counting": "fractional", "ei_index": {f: -0.6 for f in FIELDS}, "assortativity": 0.55,
                "bootstrap": {"resamples": 200, "seed": 0}, "warnings": []}
    sections = {"fetch": fetch, "analysis": analysis, "synthetic": synthetic}
    if synthetic:
        sections["synthetic_truth"] = json.loads('{"mixing": {}, "params": {"seed": 0}}')
    update_manifest(paths.manifest, **sections)
    return paths


def real_outputs_state() -> dict[str, tuple[bool, int]]:
    """(exists, mtime) of every output a real (non-demo) run writes, to show a demo left them alone."""
    from pipeline.paths import REPO_ROOT

    real = RunPaths.default()
    paths = [real.store, real.tables, real.manifest, real.report, REPO_ROOT / "data" / "demo"]
    return {str(p): (p.exists(), p.stat().st_mtime_ns if p.exists() else 0) for p in paths}


def shared_demo_run(tmp_path_factory):
    """One `python -m pipeline demo --out DIR` per test session, shared by the test modules that read it.

    Returns (paths, real outputs' state before, after). The run lives under the session's base temp dir.
    """
    from pipeline.cli import main

    out = tmp_path_factory.getbasetemp() / "shared-demo"
    state_file = out / "real-outputs.json"
    if not state_file.exists():
        before = real_outputs_state()
        assert main(["demo", "--out", str(out), "-q"]) == 0
        state_file.write_text(json.dumps({"before": before, "after": real_outputs_state()}))
    state = json.loads(state_file.read_text())
    return RunPaths.under(out), state["before"], state["after"]
