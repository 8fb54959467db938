"""The terminology statistic in Spark (``corpus``): counts per field from the label bitmask, summed over
partitions, with the pandas engine's matcher; the numbers on a hand-made release."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.stats.terminology import Term, table_from_counts

FIELDS = ("m", "r", "other")
TERMS = (Term("hacking", "r", ("reward hacking",)), Term("hacking", "m", ("Goodhart",)),
         Term("signal", "r", ("DPO",)))


@pytest.fixture()
def release(spark):
    """Five papers over three partitions: bit 0 = m, bit 1 = r, 0 = other; two without an abstract."""
    labelled = spark.createDataFrame([
        (1, "Reward Hacking in RLHF", 2), (2, "On Goodhart's law", 1), (3, "Metrics and rewards", 3),
        (4, "Nothing here", 0), (5, "DPO, again", 2)], "corpusid long, title string, mask int").repartition(3)
    abstracts = spark.createDataFrame([(1, "We train with DPO."), (3, "reward-hacking meets Goodhart."),
                                       (4, "DPO")], "corpusid long, abstract string")
    return labelled, abstracts


def test_spark_counts_each_field_whole_membership_over_partitions(release):
    from pipeline.spark.terminology import usage_counts

    counts = usage_counts(*release, TERMS, n_fields=2)
    # rows: m, r, other; columns: reward hacking, Goodhart, DPO
    assert counts.using.tolist() == [[1, 2, 0], [2, 1, 2], [0, 0, 1]]
    assert counts.papers.tolist() == [2, 3, 1] and counts.with_abstract.tolist() == [1, 2, 1]
    assert (counts.total, counts.total_with_abstract) == (5, 3)
    table = table_from_counts(counts, TERMS, fields=FIELDS, rules={"r": [r"\bdpo\b"]}).set_index(["term", "field"])
    assert table.loc[("reward hacking", "r"), "share"] == pytest.approx(2 / 3)
    assert table.loc[("DPO", "other"), ["using", "papers", "with_abstract"]].tolist() == [1, 1, 1]
    assert table.loc[("DPO", "r"), "labelling_rule"] and not table.loc[("DPO", "m"), "labelling_rule"]
    assert table.loc[("Goodhart", "other"), "ci_low"] == 0 and table.loc[("Goodhart", "other"), "ci_high"] < 1


def test_spark_counts_a_release_without_abstracts_or_terms_found(spark):
    from pipeline.spark.terminology import usage_counts

    labelled = spark.createDataFrame([(1, None, 0), (2, "plain", 1)], "corpusid long, title string, mask int")
    abstracts = spark.createDataFrame([], "corpusid long, abstract string")
    counts = usage_counts(labelled, abstracts, TERMS, n_fields=2)
    assert counts.using.sum() == 0 and counts.papers.tolist() == [1, 0, 1] and counts.with_abstract.sum() == 0
    assert np.isnan(table_from_counts(counts, TERMS, fields=FIELDS).set_index(["term", "field"])
                    .loc[("DPO", "r"), "share"])
