"""Coupling in Spark (``corpus``) is the pandas engine's: the same table and intervals on a hand-made literature
with multi-label and undated citing papers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.stats import citations
from pipeline.stats.coupling import coupling_tables

FIELDS = ("m", "r", "j")


def _literature():
    """40 papers: m, r, m|r, j, other, every fifth without a year; each cites 2-6 of the others (seeded)."""
    rng = np.random.default_rng(7)
    labels = np.array(["m", "r", "m|r", "j", "other"])[np.arange(40) % 5]
    years = pd.array([None if i % 5 == 4 else 2020 + i % 3 for i in range(40)], dtype="Int64")
    papers = pd.DataFrame({"paper_id": [f"p{i:02d}" for i in range(40)], "title": [f"T{i}" for i in range(40)],
                           "year": years})
    edges = [(i, j) for i in range(40) for j in rng.choice(40, size=rng.integers(2, 7), replace=False) if i != j]
    cites = pd.DataFrame({"citing_id": [f"p{i:02d}" for i, _ in edges], "cited_id": [f"p{j:02d}" for _, j in edges],
                          "is_influential": None, "intents": ""})
    return papers, pd.DataFrame({"paper_id": papers["paper_id"], "labels": labels}), cites


def test_spark_coupling_equals_the_pandas_engine_with_undated_and_multi_label_citers(spark):
    from pipeline.spark.coupling import coupling_tables as spark_coupling

    papers, labels, cites = _literature()
    data = citations.encode(papers, labels, cites, field_names=FIELDS)
    expected, expected_shared = coupling_tables(data, top=5)
    year = data.papers["year"].to_numpy(dtype=np.float64, na_value=np.nan)
    edges = spark.createDataFrame(pd.DataFrame({
        "citing": data.citing, "cited": data.cited, "citing_mask": data.paper_masks[data.citing],
        "citing_year": np.where(np.isnan(year), citations.NO_YEAR, year)[data.citing].astype(np.int64)}))
    labelled = spark.createDataFrame(data.papers.assign(corpusid=np.arange(len(data.papers)),
                                                        labels=data.papers["labels"].astype(str)))
    table, shared = spark_coupling(edges, labelled, field_names=FIELDS, top=5)
    assert list(table["year"]) == list(expected["year"]) and set(table["year"]) == {"all", "2020", "2021", "2022"}
    pd.testing.assert_frame_equal(table, expected, check_exact=False, rtol=1e-12, check_dtype=False)
    assert table["jaccard_low"].notna().all() and (table["cosine_high"] > table["cosine"]).all()
    key = ["field_a", "field_b", "cited_by_a", "cited_by_b"]
    assert shared[key].values.tolist() == expected_shared[key].values.tolist() and len(shared) == 15
