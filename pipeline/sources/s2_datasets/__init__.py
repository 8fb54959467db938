"""The S2 Datasets source: whole releases of the Semantic Scholar Academic Graph (``papers``, ``abstracts``,
``citations``), downloaded through the Datasets API or read from shards already there, as Parquet for Spark.

* :mod:`.api` — the Datasets API client (releases, pre-signed shard listings, diffs);
* :mod:`.download` — resumable, size- and gzip-checked shard downloads;
* :mod:`.parquet` — shards → Parquet (both record forms), diffs applied by primary key (needs pyspark);
* :mod:`.release` — a release's datasets as Parquet, by download, update or ``--shards``.

This package file stays light (no pyspark): the local server imports its constants.
"""

NAME = "s2-datasets"
"""The source's name: the manifest's ``fetch.source_name`` and ``terminology.source`` of a ``corpus`` run."""
DATASETS = ("papers", "abstracts", "citations")
"""The datasets the study reads."""
SYNTHETIC_MARKER = "SYNTHETIC.json"
"""Next to shards (or a release) made from the synthetic literature: its planted truth, and the mark that the data
is SYNTHETIC."""
