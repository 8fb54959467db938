"""The terminology statistic over every labelled paper of a release, in Spark, with the pandas engine's matcher.

Each partition of the labelled papers (title, label bitmask) joined with their abstracts goes, as Arrow record
batches, through :func:`pipeline.stats.terminology.count_usage` — the one word matcher both engines use (no second
implementation, no regex per term) — which returns per field its papers, those with an abstract and per term those
using it (``DataFrame.mapInArrow``: one row of counts per partition). The driver sums the partitions' rows and
:func:`pipeline.stats.terminology.table_from_counts` makes ``terminology.csv`` from them, as it does for the
pandas engine: so both print the same table on the same papers. Membership is whole, from the label bitmask (bit f
= study field f; no bit = ``other``), as :func:`pipeline.stats.terminology.membership` reads the label strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame

from pipeline.stats.terminology import Term, UsageCounts, count_usage

_SCHEMA = ("using array<bigint>, papers array<bigint>, with_abstract array<bigint>, total bigint, "
           "total_with_abstract bigint")


def usage_counts(labelled: DataFrame, abstracts: DataFrame, terms: Sequence[Term], *, n_fields: int) -> UsageCounts:
    """The :class:`~pipeline.stats.terminology.UsageCounts` of every paper of ``labelled`` (``corpusid``,
    ``title``, ``mask``) with its abstract (``abstracts``: ``corpusid``, ``abstract``; a paper without one has
    none), over the ``n_fields`` study fields and ``other``."""
    terms = list(terms)
    papers = labelled.select("corpusid", "title", "mask").join(abstracts.select("corpusid", "abstract"),
                                                                "corpusid", "left").select("title", "abstract", "mask")

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        total = UsageCounts.zero(n_fields + 1, len(terms))
        for batch in batches:
            mask = batch.column("mask").to_numpy(zero_copy_only=False).astype(np.int64)
            member = np.column_stack([(mask >> f) & 1 for f in range(n_fields)] + [mask == 0]).astype(bool)
            total = total + count_usage(batch.column("title"), batch.column("abstract"), member, terms)
        yield pa.RecordBatch.from_pydict({
            "using": [total.using.ravel().tolist()], "papers": [total.papers.tolist()],
            "with_abstract": [total.with_abstract.tolist()], "total": [int(total.total)],
            "total_with_abstract": [int(total.total_with_abstract)]})

    rows = papers.mapInArrow(count, _SCHEMA).collect()
    counts = UsageCounts.zero(n_fields + 1, len(terms))
    for row in rows:
        counts = counts + UsageCounts(
            using=np.array(row["using"], np.int64).reshape(n_fields + 1, len(terms)),
            papers=np.array(row["papers"], np.int64), with_abstract=np.array(row["with_abstract"], np.int64),
            total=int(row["total"]), total_with_abstract=int(row["total_with_abstract"]))
    return counts
