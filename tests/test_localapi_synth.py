"""The synthetic literature: determinism, planted growth and mixing, ids, and the demo config's fit to it."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.localapi import DEMO_PARAMS
from pipeline.localapi.server import _Catalogue
from pipeline.localapi.synth import FIELDS, SynthParams, expected_mixing, generate
from pipeline.paths import REPO_ROOT
from pipeline.tables import conform


@pytest.fixture(scope="module")
def large():
    return generate(SynthParams(seed=11, n_papers=20_000))


@pytest.fixture(scope="module")
def demo():
    return generate(DEMO_PARAMS)


def realised_mixing(literature, citing_ids=None) -> np.ndarray:
    """Fractional counting written independently of the generator: each edge adds 1/(k_u k_v) per label pair."""
    labels = literature.papers.set_index("paper_id")["true_fields"].str.split("|")
    weights = pd.DataFrame([{f: (f in fs) / len(fs) for f in FIELDS} for fs in labels], index=labels.index)
    edges = literature.citations
    if citing_ids is not None:
        edges = edges[edges["citing_id"].isin(citing_ids)]
    counts = weights.loc[edges["citing_id"]].to_numpy().T @ weights.loc[edges["cited_id"]].to_numpy()
    totals = counts.sum(1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def as_matrix(mixing: dict) -> np.ndarray:
    return np.array([[mixing[a][b] for b in FIELDS] for a in FIELDS])


def test_same_seed_gives_the_same_literature_and_another_seed_does_not():
    a, b = generate(SynthParams(seed=5, n_papers=800)), generate(SynthParams(seed=5, n_papers=800))
    c = generate(SynthParams(seed=6, n_papers=800))
    pd.testing.assert_frame_equal(a.papers, b.papers)
    pd.testing.assert_frame_equal(a.citations, b.citations)
    assert a.truth == b.truth
    assert not a.papers["paper_id"].equals(c.papers["paper_id"])


def test_tables_conform_to_the_stage_contracts(demo):
    assert list(conform("papers", demo.papers).columns) == list(demo.papers.columns[:-2])
    assert list(demo.papers.columns[-2:]) == ["true_fields", "corpus_id"]
    conform("citations", demo.citations)
    json.dumps(demo.truth)                                           # JSON-able


def test_growth_is_shaped_like_the_real_fields(large):
    papers = large.papers.dropna(subset=["year"])
    per_year = pd.crosstab(papers["year"].astype(int), papers["true_fields"])
    metrics = per_year["metrics"]
    assert metrics.loc[2016:2025].max() / metrics.loc[2016:2025].min() < 1.6     # flattened
    assert metrics.loc[2014:2016].mean() > 3 * metrics.loc[2000:2002].mean()      # after rising
    for steep in ("reward_models", "llm_judge"):
        assert per_year[steep].loc[2024:2025].mean() > 4 * per_year[steep].loc[2018:2021].mean()
    assert per_year["other"].sum() > per_year[["metrics", "reward_models", "llm_judge"]].sum().sum()


def test_realised_fractional_mixing_recovers_the_truth(large):
    realised = realised_mixing(large)
    truth = as_matrix(large.truth["mixing"])
    assert np.allclose(truth.sum(1), 1.0)
    assert np.abs(realised - truth).max() < 0.01
    assert large.truth["duplicate_draws"] < 0.001 * large.truth["reference_draws"]


def test_expected_mixing_of_a_subset_matches_its_realised_mixing(large):
    judges = large.papers.loc[large.papers["true_fields"] == "llm_judge", "paper_id"]
    subset = judges.iloc[: len(judges) // 2]
    realised = realised_mixing(large, set(subset))
    expected = as_matrix(expected_mixing(large, subset))
    row = FIELDS.index("llm_judge")
    assert np.abs(realised[row] - expected[row]).max() < 0.02
    assert np.allclose(as_matrix(expected_mixing(large)), as_matrix(large.truth["mixing"]))


def test_within_field_citing_dominates_and_cross_field_rates_are_small(large):
    truth = large.truth["mixing"]
    for field in ("metrics", "reward_models", "llm_judge"):
        assert truth[field][field] == max(truth[field][b] for b in FIELDS if b != "other") > 0.4
    assert truth["reward_models"]["metrics"] < 0.1 and truth["metrics"]["reward_models"] < 0.05


def test_citations_only_go_to_earlier_or_same_year_papers(large):
    year = large.papers.set_index("paper_id")["year"]
    citing = year.loc[large.citations["citing_id"]].to_numpy()
    cited = year.loc[large.citations["cited_id"]].to_numpy()
    known = ~(pd.isna(citing) | pd.isna(cited))
    assert (citing[known] >= cited[known]).all()
    assert not (large.citations["citing_id"] == large.citations["cited_id"]).any()
    assert not large.citations.duplicated(["citing_id", "cited_id"]).any()


def test_ids_look_like_s2_ids_and_missing_values_occur(demo):
    papers = demo.papers
    assert papers["paper_id"].str.fullmatch(r"[0-9a-f]{40}").all() and papers["paper_id"].is_unique
    assert papers["corpus_id"].is_unique
    external = papers["external_ids"].map(json.loads)
    for source in ("ArXiv", "DOI", "ACL"):
        assert external.map(lambda e, s=source: s in e).mean() > 0.05
    assert (external.map(lambda e: e["CorpusId"]) == papers["corpus_id"]).all()
    assert 0 < papers["year"].isna().mean() < 0.05
    assert 0.05 < papers["abstract"].isna().mean() < 0.3
    bridges = papers["true_fields"].str.contains("|", regex=False)
    assert 10 < bridges.sum() < 0.1 * len(papers)
    edges = demo.citations
    assert edges["is_influential"].any() and not edges["is_influential"].all()
    assert set("|".join(edges["intents"]).split("|")) - {""} == {"background", "methodology", "result"}


def test_some_papers_need_pagination_and_large_literatures_exceed_the_citation_cap(demo):
    assert (demo.papers["reference_count"] > 1000).sum() >= 1
    big = generate(SynthParams(seed=2, n_papers=20_000, mean_refs=30, landmark_share=0.06))
    assert big.papers["citation_count"].max() > 9_999


@pytest.mark.parametrize("seed", [DEMO_PARAMS.seed, 123])
def test_demo_keyword_rules_label_papers_as_their_true_fields(seed):
    config = load_config(REPO_ROOT / "data" / "demo.toml")
    papers = generate(SynthParams(seed=seed, n_papers=DEMO_PARAMS.n_papers)).papers
    text = (papers["title"].fillna("") + " " + papers["abstract"].fillna("")).tolist()
    rules = {spec.name: [re.compile(p, re.I) for p in spec.rules.values()] for spec in config.fields}
    labels = ["|".join(f for f, rs in rules.items() if any(r.search(t) for r in rs)) or "other" for t in text]
    assert labels == papers["true_fields"].tolist()
    titles_only = ["|".join(f for f, rs in rules.items() if any(r.search(t) for r in rs)) or "other"
                   for t in papers["title"]]
    assert titles_only == labels                      # papers without abstracts are labelled alike


def test_demo_seed_ids_name_papers_of_their_field_except_one_unknown(demo):
    config = load_config(REPO_ROOT / "data" / "demo.toml")
    catalogue = _Catalogue(demo)
    unknown, kinds = [], set()
    for spec in config.fields:
        for seed in spec.seeds:
            i = catalogue.lookup(seed.id)
            if i is None:
                unknown.append(seed.id)
                continue
            kinds.add(seed.id.split(":")[0] if ":" in seed.id else "paperId")
            assert spec.name in demo.papers["true_fields"].iloc[i].split("|")
            assert demo.papers["title"].iloc[i] == seed.title
    assert unknown == ["arXiv:2999.00001"]
    assert kinds == {"paperId", "CorpusId", "arXiv", "DOI", "ACL"}


def test_invalid_mixing_is_rejected():
    with pytest.raises(ValueError, match="sum to 1"):
        SynthParams(mixing={f: {f: 0.5} for f in FIELDS}).resolved_mixing()
