"""The study over a whole release in Spark, aggregated down to the small inputs of :mod:`pipeline.stats.citations`.

Spark does everything proportional to the corpus — labelling ~200M papers, cleaning and joining ~2.5B
citations — and hands the driver only what the statistics need, so both engines share one implementation of
every statistic and print identical point estimates on identical input:

* **citing-paper types**: per citing paper (citing year, label set, references per cited label set), grouped
  and counted — the rows :func:`pipeline.stats.citations.profiles_from_types` takes (their number is bounded by the
  variety of reference profiles, not by the corpus: ~10⁵–10⁶ on a full release);
* **label-set pair counts** per (influential flag, intent set): the mixing matrix, the by-kind shares, E-I and
  assortativity come from these few hundred numbers;
* the top **bridges** and **cross-field citations**, and the study papers themselves (for the tables the
  figures read).

*Bootstrap on a cluster.* The intervals resample citing papers, as the pandas engine does, in the Poisson form
(every paper appears Poisson(1) times; :func:`pipeline.stats.citations.bootstrap_sums`). Papers of the same type
contribute identically to every statistic, so a type of c papers appears Poisson(c) times: the resamples are
drawn on the driver over the collected types, and no resample touches the edges — 1,000 resamples of a full
release cost seconds there instead of 1,000 passes over 2.5B rows (summing Poisson weights per paper in Spark
would be the same bootstrap at one pass over the edges per batch of resamples). Same types and seed → the same
intervals as the pandas engine.

Cleaning is the pandas engine's (:func:`pipeline.stats.citations.encode`): references S2 could not resolve
(``cited`` null) are counted as ``unresolved``; records with a paper missing from the ``papers`` dataset, self-
citations and duplicate (citing, cited) pairs are dropped and counted. Of duplicates, the record with the smallest
``citationid`` is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline import OTHER
from pipeline.sources.s2_datasets import NAME as SOURCE
from pipeline.stats import citations as stats

log = logging.getLogger(__name__)

_NO_CITATIONID = 2 ** 63 - 1


@dataclass
class Aggregates:
    """What the driver collects from Spark: everything :mod:`pipeline.stats.citations` needs."""

    fields: tuple[str, ...]
    masks: np.ndarray
    types: np.ndarray
    type_counts: np.ndarray
    kind_counts: pd.DataFrame
    """Columns ``citing_set``, ``cited_set``, ``is_influential`` (nullable), ``intents`` (tuple), ``n``."""
    mask_counts: dict[int, int]
    """Papers per label bitmask (all papers)."""
    dropped: dict[str, int]
    unresolved: int
    no_year_citers: int
    bridges: pd.DataFrame
    top_cross: pd.DataFrame
    edges: int

    @property
    def n_fields(self) -> int:
        return len(self.fields) - 1

    def set_counts(self, rows=None) -> np.ndarray:
        """``C[p, q]``: cleaned citations from label set p to q (optionally only ``rows`` of ``kind_counts``)."""
        k = len(self.masks)
        table = self.kind_counts if rows is None else self.kind_counts[rows]
        counts = np.zeros((k, k), dtype=np.int64)
        np.add.at(counts, (table["citing_set"].to_numpy(int), table["cited_set"].to_numpy(int)),
                  table["n"].to_numpy(np.int64))
        return counts


def aggregate(spark: SparkSession, labelled: DataFrame, citations: DataFrame, *, field_names: Sequence[str],
              top: int) -> tuple[Aggregates, DataFrame]:
    """Collect the :class:`Aggregates` of a labelled corpus; also return the cleaned edge frame (persisted)."""
    fields = (*field_names, OTHER)
    mask_counts = {int(r["mask"]): int(r["count"]) for r in labelled.groupBy("mask").count().collect()}
    masks = np.array(sorted(mask_counts), dtype=np.int64)
    codes = F.broadcast(spark.createDataFrame([(int(m), i) for i, m in enumerate(masks)], "mask long, code int"))
    papers = labelled.select("corpusid", F.col("mask").cast("long").alias("mask"),
                             F.coalesce("year", F.lit(stats.NO_YEAR)).alias("year")).join(codes, "mask")
    grouped = citations.groupBy("citing", "cited").agg(
        F.count(F.lit(1)).alias("n"),
        F.min_by(F.struct("is_influential", "intents"),
                 F.coalesce("citationid", F.lit(_NO_CITATIONID))).alias("first"))
    citing = papers.select(F.col("corpusid").alias("citing"), F.col("code").alias("citing_set"),
                           F.col("mask").alias("citing_mask"), F.col("year").alias("citing_year"))
    cited = papers.select(F.col("corpusid").alias("cited"), F.col("code").alias("cited_set"),
                          F.col("mask").alias("cited_mask"))
    joined = grouped.join(citing, "citing", "left").join(cited, "cited", "left")
    resolved = F.col("cited").isNotNull()
    known = F.col("citing_set").isNotNull() & F.col("cited_set").isNotNull()
    counts = joined.agg(
        F.sum(F.when(~resolved, F.col("n")).otherwise(0)).alias("unresolved"),
        F.sum(F.when(resolved & ~known, F.col("n")).otherwise(0)).alias("unknown_papers"),
        F.sum(F.when(known & (F.col("citing") == F.col("cited")), F.col("n")).otherwise(0)).alias("self_citations"),
        F.sum(F.when(known & (F.col("citing") != F.col("cited")), F.col("n") - 1).otherwise(0)).alias("duplicates"),
    ).collect()[0]
    edges = joined.where(known & (F.col("citing") != F.col("cited"))).select(
        "citing", "cited", "citing_set", "cited_set", "citing_mask", "cited_mask", "citing_year",
        F.col("first.is_influential").alias("is_influential"), F.col("first.intents").alias("intents")).persist()

    n_sets = len(masks)
    per_paper = edges.groupBy("citing", "citing_year", "citing_set").agg(
        *[F.sum((F.col("cited_set") == q).cast("long")).alias(f"r{q}") for q in range(n_sets)])
    type_rows = per_paper.groupBy("citing_year", "citing_set", *[f"r{q}" for q in range(n_sets)]).count().toPandas()
    types = type_rows[["citing_year", "citing_set", *[f"r{q}" for q in range(n_sets)]]].to_numpy(np.int64)
    no_year = int(type_rows.loc[type_rows["citing_year"] == stats.NO_YEAR, "count"].sum())
    kind_counts = edges.groupBy("citing_set", "cited_set", "is_influential", "intents").count().toPandas() \
        .rename(columns={"count": "n"})
    kind_counts["intents"] = kind_counts["intents"].map(lambda xs: tuple(xs) if xs is not None else ())
    bridges, top_cross = _bridges_and_cross(labelled, edges, field_names, top=top)
    aggregates = Aggregates(
        fields=fields, masks=masks, types=types.reshape(len(type_rows), 2 + n_sets),
        type_counts=type_rows["count"].to_numpy(np.int64), kind_counts=kind_counts, mask_counts=mask_counts,
        dropped={k: int(counts[k] or 0) for k in ("unknown_papers", "self_citations", "duplicates")},
        unresolved=int(counts["unresolved"] or 0), no_year_citers=no_year, bridges=bridges, top_cross=top_cross,
        edges=int(kind_counts["n"].sum()))
    return aggregates, edges


def _bridges_and_cross(labelled: DataFrame, edges: DataFrame, field_names: Sequence[str], *, top: int):
    """The top ``top`` bridge papers and cross-field citations (see :func:`pipeline.stats.citations.bridge_papers`
    and :func:`pipeline.stats.citations.top_cross_citations`); ties broken by paper id."""
    study = (1 << len(field_names)) - 1
    received = edges.groupBy("cited").agg(F.count(F.lit(1)).alias("citations"),
                                          F.bit_or(F.col("citing_mask")).alias("reached"))
    info = labelled.select(F.col("corpusid"), "paper_id", "title", "year", "labels")
    bridges = received.withColumn("n_citing_fields", F.bit_count(F.col("reached").bitwiseAND(study))) \
        .where(F.col("n_citing_fields") >= 2) \
        .join(info.withColumnRenamed("corpusid", "cited"), "cited") \
        .orderBy(F.desc("citations"), "paper_id").limit(top).toPandas()
    bits = bridges["reached"].to_numpy(np.int64) if len(bridges) else np.zeros(0, np.int64)
    citing_fields = ["|".join(name for f, name in enumerate(field_names) if r >> f & 1) for r in bits]
    bridges = pd.DataFrame({"paper_id": bridges["paper_id"].astype("string"),
                            "title": bridges["title"].astype("string"), "year": bridges["year"].astype("Int64"),
                            "labels": bridges["labels"].astype("string"),
                            "citations": bridges["citations"].astype(np.int64),
                            "n_citing_fields": bridges["n_citing_fields"].astype(np.int64),
                            "citing_fields": citing_fields})
    cross = edges.where((F.col("citing_mask") > 0) & (F.col("cited_mask") > 0)
                        & (F.col("citing_mask").bitwiseAND(F.col("cited_mask")) == 0)) \
        .join(received.select("cited", F.col("citations").alias("cited_citations")), "cited")
    citing_info = info.select(F.col("corpusid").alias("citing"), F.col("paper_id").alias("citing_id"),
                              F.col("title").alias("citing_title"), F.col("labels").alias("citing_field"))
    cited_info = info.select(F.col("corpusid").alias("cited"), F.col("paper_id").alias("cited_id"),
                             F.col("title").alias("cited_title"), F.col("labels").alias("cited_field"))
    top = cross.join(citing_info, "citing").join(cited_info, "cited") \
        .orderBy(F.desc("cited_citations"), "citing_id", "cited_id").limit(top) \
        .select("citing_id", "citing_title", "citing_field", "cited_id", "cited_title", "cited_field",
                "cited_citations").toPandas()
    return bridges, top


# --- from the aggregates to the analysis tables -----------------------------------------------------------------


def kinds(aggregates: Aggregates, *, counting: str) -> list[tuple[str, np.ndarray]]:
    """(kind, mixing matrix) for each citation intent and the influential flag, as
    :func:`pipeline.stats.citations.shares_by_kind` lists them."""
    table = aggregates.kind_counts
    out = []
    for intent in sorted({i for s in table["intents"] for i in s}):
        having = table["intents"].map(lambda s, intent=intent: intent in s).to_numpy(bool)
        out.append((f"intent:{intent}", having))
    flag = table["is_influential"]
    if flag.notna().any():
        out += [("influential:true", (flag == True).fillna(False).to_numpy(bool)),  # noqa: E712 (nullable)
                ("influential:false", (flag == False).fillna(False).to_numpy(bool))]  # noqa: E712
    return [(kind, stats.mixing_from_set_counts(aggregates.set_counts(rows), aggregates.masks,
                                                   n_fields=aggregates.n_fields, counting=counting))
            for kind, rows in out]


def papers_per_label(aggregates: Aggregates) -> np.ndarray:
    """Papers carrying each label (whole membership), ``other`` last."""
    masks = np.array(list(aggregates.mask_counts), dtype=np.int64)
    counts = np.array(list(aggregates.mask_counts.values()), dtype=np.float64)
    member = stats.label_weights(masks, n_fields=aggregates.n_fields, counting="whole")
    return counts @ member


def field_growth(labelled: DataFrame, field_names: Sequence[str]) -> pd.DataFrame:
    """Papers labelled with each study field per publication year (the corpus's own growth curve)."""
    names = F.array(*[F.when(F.col("mask").bitwiseAND(1 << f) != 0, F.lit(name)) for f, name in enumerate(field_names)])
    rows = labelled.where(F.col("year").isNotNull() & (F.col("mask") != 0)) \
        .select("year", F.explode(names).alias("field")).where(F.col("field").isNotNull()) \
        .groupBy("field", "year").count().toPandas()
    return pd.DataFrame({"field": rows["field"], "year": rows["year"], "total": rows["count"], "source": SOURCE,
                         "papers": pd.NA, "papers_with_abstract": pd.NA}) \
        .sort_values(["field", "year"]).reset_index(drop=True)
