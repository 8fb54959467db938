"""Hand-built tables for the fields/graph/analysis tests (hand-computed expectations live in the tests)."""

import pandas as pd

from pipeline.tables import conform

FIELDS = ("m", "r", "j")


def tiny_papers() -> pd.DataFrame:
    """a: m (2020), b: r (2021), c: m|r (no year), d: other (2020), e: j (2021)."""
    return conform("papers", pd.DataFrame({
        "paper_id": list("abcde"), "title": ["A", "B", "C", "D", "E"], "abstract": [None] * 5,
        "year": pd.array([2020, 2021, None, 2020, 2021], dtype="Int64"), "venue": "", "publication_date": None,
        "external_ids": "{}", "fields_of_study": "", "reference_count": 0, "citation_count": 0}))


def tiny_labels() -> pd.DataFrame:
    return pd.DataFrame({"paper_id": list("abcde"), "labels": ["m", "r", "m|r", "other", "j"]})


def tiny_citations() -> pd.DataFrame:
    """Six clean edges a→b, a→c, b→a, c→a, c→d, e→c plus a self-citation, a duplicate and an unknown paper."""
    rows = [("a", "b", True, "methodology|background"), ("a", "c", False, ""), ("b", "a", None, "background"),
            ("c", "a", None, ""), ("c", "d", True, ""), ("a", "a", True, ""), ("a", "b", True, ""),
            ("x", "a", False, None), ("e", "c", False, "result")]
    return conform("citations", pd.DataFrame(rows, columns=["citing_id", "cited_id", "is_influential", "intents"]))
