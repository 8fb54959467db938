"""``python -m pipeline corpus``: the study over a whole S2 Datasets release, as a PySpark job.

Data in (:mod:`pipeline.sources.s2_datasets`): ``--release latest|YYYY-MM-DD`` downloads ``papers``,
``abstracts`` and ``citations`` through the Datasets API (``S2_API_KEY``) into ``<out>/s2-datasets/``, resumable
shard by shard; ``--update`` brings the newest release there to ``--release`` with the API's diffs; ``--shards
PATH_OR_URI`` reads ``papers/``, ``abstracts/``, ``citations/`` shard folders already somewhere Spark reads.
Shards become Parquet once (``--parquet URI`` to keep it on object storage on a cluster); later runs read it.

The study (:mod:`pipeline.spark`): labelling with the config's rules (translated to Java regexes that match what
Python's do), seeds by external ids, overrides last; cleaning and aggregation in Spark down to per-citing-paper
types and label-set pair counts; every statistic, interval and table from :mod:`pipeline.stats`, as the pandas
engine computes them. The statistics beyond the paper's come from the whole release too: trends from the
bootstrap sums, diversity from the citing-paper types, coupling and shared references aggregated by cited paper
(:mod:`pipeline.spark.coupling`), and ``terminology.csv`` from every labelled paper's title and abstract
(:mod:`pipeline.spark.terminology`, ``--terms``; the manifest's ``terminology`` section says ``s2-datasets``).
Out, under the tables directory, the tables ``analyze`` writes (``cross_field.csv``, ``overlap.csv``,
``bridges.csv``, ``top_cross_citations.csv``, ``cross_field_by_kind.csv``, ``coupling.csv``,
``shared_references.csv``, ``diversity.csv``, ``trend.csv``, ``labels.parquet``), ``terminology.csv``, plus
``papers``/``citations``/``seeds``/``field_growth`` restricted to the study's papers (those with a study field,
the bridges and the cross-citation ends) so ``figures`` and the report work unchanged; ``field_growth`` is the
corpus's own count of labelled papers per year. No graph files: a 2.5B-edge GraphML helps nobody. The
manifest gets the ``analysis`` section (the same keys as ``analyze``) and a ``corpus`` section naming the
release, engine, Spark version and master, shard counts and times, with a one-line ``signature``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time

from tqdm.auto import tqdm

from pipeline import OTHER
from pipeline.context import Context
from pipeline.errors import UserError
from pipeline.manifest import CorpusSection, FetchSection, update_manifest
from pipeline.paths import write_atomically
from pipeline.sources.s2_datasets import NAME as SOURCE_NAME
from pipeline.stages.analyze import TOP, analysis_section
from pipeline.stages.options import bootstrap_params
from pipeline.stages.terminology import write_terminology
from pipeline.stats import citations as stats
from pipeline.stats.beyond import beyond_tables
from pipeline.tables import SCHEMAS, TERMINOLOGY_TABLE, write_table
from pipeline.terms import DEFAULT_TERMS, load_terms

log = logging.getLogger(__name__)


def run_corpus(ctx: Context, args: argparse.Namespace, *, api_key: str | None = None) -> dict:
    """Run the stage; return the manifest's ``corpus`` section. ``api_key`` (default ``S2_API_KEY``): the demo's
    key for its local server."""
    from pipeline.spark.session import parse_conf, require_java, require_pyspark

    started = time.perf_counter()
    conf = parse_conf(getattr(args, "spark_conf", []) or [])
    if getattr(args, "update", False) and getattr(args, "shards", None):
        raise UserError("--update applies the Datasets API's diffs to a downloaded release: it does not go with --shards")
    master = getattr(args, "master", None)
    if master is not None and not master.strip():
        raise UserError("--master must name a Spark master, e.g. local[*] or spark://host:7077")
    params = bootstrap_params(args)
    if not getattr(args, "shards", None):
        from pipeline.sources.s2_datasets.api import check_release
        check_release(getattr(args, "release", None))
    config = ctx.config
    overrides = None
    if config.overrides:
        from pipeline.fields import read_overrides
        overrides = read_overrides(config.overrides, field_names=config.field_names)
    for spec in config.fields:                       # every rule translates before Spark starts
        from pipeline.spark.regex import to_java
        for name, pattern in spec.rules.items():
            to_java(pattern, what=f"rule fields.{spec.name}.rules.{name}")
    terms_file = getattr(args, "terms", None) or DEFAULT_TERMS
    try:
        terms, concept_labels = load_terms(terms_file, field_names=config.field_names)
    except UserError as exc:
        if getattr(args, "terms", None):
            raise
        log.warning("corpus: no terminology table: %s (or give --terms PATH)", exc)
        terms = None
    require_pyspark()
    require_java()

    from pyspark.sql import SparkSession

    from pipeline.sources.s2_datasets.release import prepare
    from pipeline.spark.session import make_session
    from pipeline.spark.terminology import usage_counts

    owned = SparkSession.getActiveSession() is None
    spark = make_session(master=master, conf=conf, quiet=ctx.quiet)
    try:
        tick = time.perf_counter()
        inputs = prepare(spark, data_root=ctx.paths.datasets, api_url=ctx.api_url, release=args.release,
                         shards=args.shards, update=bool(args.update), parquet_root=args.parquet, api_key=api_key,
                         quiet=ctx.quiet)
        times = {"input": time.perf_counter() - tick}
        tick = time.perf_counter()
        analysis, fetch, labelled, abstracts = _study(spark, ctx, inputs, params=params, overrides=overrides,
                                                      times=times)
        times["study"] = time.perf_counter() - tick
        terminology = None                              # no terms: no table, and no earlier run's table either
        ctx.paths.table(TERMINOLOGY_TABLE).unlink(missing_ok=True)
        if terms:
            tick = time.perf_counter()
            counts = usage_counts(labelled, abstracts, terms, n_fields=len(config.field_names))
            _, terminology = write_terminology(ctx, counts, terms, concept_labels, terms_file=terms_file,
                                               source=SOURCE_NAME, data=inputs.source)
            times["terminology"] = time.perf_counter() - tick
        master_used, spark_version = spark.sparkContext.master, spark.version
    finally:
        if owned:
            spark.stop()
    times["total"] = time.perf_counter() - started
    corpus = CorpusSection(
        engine="spark", spark=spark_version, master=master_used, source=inputs.source, shards=inputs.shards,
        shard_counts="+".join(f"{name}={n}" for name, n in inputs.shards.items()), parquet=inputs.parquet,
        seconds={k: round(v, 1) for k, v in times.items()}, time=f"{times['total']:.0f}s", release=inputs.release,
        updated_from=inputs.updated_from, downloaded_shards=inputs.downloaded,
        unresolved_references=fetch.unresolved_references)
    sections = {"fetch": fetch, "analysis": analysis, "corpus": corpus, "terminology": terminology,
                "synthetic": inputs.synthetic}
    if inputs.synthetic_truth:
        sections["synthetic_truth"] = inputs.synthetic_truth
    elif not inputs.synthetic:
        sections["synthetic_truth"] = None
    written = update_manifest(ctx.paths.manifest, **sections)
    log.info("corpus: %s papers, %s citations, release %s on Spark %s (%s) in %.0f s", analysis.papers,
             analysis.citations, inputs.release or inputs.source, spark_version, master_used, times["total"])
    return written["corpus"]


def _study(spark, ctx: Context, inputs, *, params, overrides, times: dict) -> tuple:
    """The analysis and fetch sections, after writing the analysis and study tables; and the labelled papers and
    the abstracts (Spark frames) for the terminology count. ``times``: gets the coupling's seconds (part of the
    study's)."""
    from pipeline.spark import coupling as spark_coupling
    from pipeline.spark import labels as spark_labels
    from pipeline.spark import study

    config, tables = ctx.config, ctx.paths.tables
    papers = spark.read.parquet(inputs.parquet["papers"])
    abstracts = spark.read.parquet(inputs.parquet["abstracts"])
    citations = spark.read.parquet(inputs.parquet["citations"])
    seeds, unknown = spark_labels.resolve_seeds(spark, papers, config.fields)
    if unknown:
        log.warning("corpus: %d seed id(s) match no paper of the release: %s", len(unknown), ", ".join(unknown[:10]))
    labelled = spark_labels.label(spark, papers, abstracts, seeds, fields=config.fields, overrides=overrides) \
        .persist()
    aggregates, edges = study.aggregate(spark, labelled, citations, field_names=config.field_names, top=TOP)
    labelled_counts = dict(zip([*config.field_names, OTHER], map(int, study.papers_per_label(aggregates))))
    if not any(labelled_counts[name] for name in config.field_names):
        raise UserError(f"no paper of {inputs.source} belongs to a field ({', '.join(config.field_names)}): "
                        f"check the seeds and the rules in {config.path}")
    if aggregates.edges == 0:
        log.warning("corpus: no citation of %s links two papers of its papers dataset: the tables have no "
                    "citations (is it a sample?)", inputs.source)
    warnings = stats.warnings_from_counts(aggregates.dropped, no_year_citers=aggregates.no_year_citers,
                                             papers_per_label=study.papers_per_label(aggregates),
                                             fields=aggregates.fields)
    for warning in warnings:
        log.warning("corpus: %s", warning)

    profiles = stats.profiles_from_types(aggregates.types, aggregates.type_counts, aggregates.masks,
                                            n_fields=aggregates.n_fields, counting=config.counting)
    with tqdm(total=params.resamples, desc="bootstrap", disable=ctx.quiet, leave=False) as bar:
        sums = stats.bootstrap_sums(profiles, params=params, progress=bar.update)
    overlap = stats.overlap_table(sums, fields=aggregates.fields)
    outputs = {
        "cross_field.csv": stats.cross_field_table(sums, fields=aggregates.fields),
        "overlap.csv": overlap,
        "bridges.csv": aggregates.bridges,
        "top_cross_citations.csv": aggregates.top_cross,
        "cross_field_by_kind.csv": stats.kind_table(study.kinds(aggregates, counting=config.counting),
                                                       fields=aggregates.fields),
    }
    for name, frame in outputs.items():
        write_atomically(tables / name, lambda tmp, frame=frame: frame.to_csv(tmp, index=False))
    study_papers, study_citations = _write_study_tables(tables, labelled, papers, abstracts, edges, seeds,
                                                        aggregates, config.field_names)
    n_written, n_citations = len(study_papers), len(study_citations)
    mixing = stats.mixing_from_set_counts(aggregates.set_counts(), aggregates.masks,
                                          n_fields=aggregates.n_fields, counting=config.counting)
    # the statistics beyond the paper's, all from the whole release: trends from its bootstrap sums, diversity
    # from its citing-paper types, coupling aggregated in Spark by cited paper
    tick = time.perf_counter()
    coupling = spark_coupling.coupling_tables(edges, labelled, field_names=config.field_names, level=params.level)
    times["coupling"] = time.perf_counter() - tick
    beyond = beyond_tables(coupling, (aggregates.types, aggregates.type_counts, aggregates.masks), sums,
                           fields=aggregates.fields, mixing=mixing, counting=config.counting, level=params.level)
    for name, frame in beyond.items():
        write_atomically(tables / name, lambda tmp, frame=frame: frame.to_csv(tmp, index=False))
    outputs.update(beyond)
    analysis = analysis_section(papers=int(sum(aggregates.mask_counts.values())), citations=aggregates.edges,
                                labelled=labelled_counts, counting=config.counting, fields=aggregates.fields,
                                mixing=mixing, overlap=overlap, params=params, dropped=aggregates.dropped,
                                warnings=warnings, graph="none", outputs=["labels.parquet", *outputs])
    fetch = FetchSection(
        source=inputs.source, date=dt.date.today().isoformat(), config_hash=config.hash, source_name=SOURCE_NAME,
        seeds={name: int((seeds["field"] == name).sum()) for name in config.field_names}, unknown_ids=unknown,
        edge_details={"setting": "corpus", "citations_with_detail": aggregates.edges},
        field_growth={name: "corpus" for name in config.field_names},
        papers=n_written, citations=n_citations, unresolved_references=aggregates.unresolved)
    return analysis, fetch, labelled, abstracts


def _write_study_tables(tables, labelled, papers, abstracts, edges, seeds, aggregates, field_names) -> tuple:
    """papers/citations/labels of the study's papers, seeds and field growth, in the fetch tables' schemas; return
    the papers (with their labels) and the citations among them, as written."""
    from pyspark.sql import functions as F

    from pipeline.spark import study

    ends = {*aggregates.bridges["paper_id"], *aggregates.top_cross["citing_id"], *aggregates.top_cross["cited_id"]}
    chosen = labelled.where((F.col("mask") != 0) | F.col("paper_id").isin(sorted(ends))) \
        .select("corpusid", "paper_id", "labels", "reasons")
    rows = chosen.join(papers.drop("paper_id"), "corpusid").join(abstracts, "corpusid", "left")
    frame = rows.select(
        "paper_id", "title", "abstract", "year", "venue", "publication_date",
        F.to_json("externalids").alias("external_ids"), "fields_of_study", "reference_count", "citation_count",
        "labels", "reasons", "corpusid").toPandas()
    write_table(tables, "papers", frame)
    write_table(tables, "labels", frame)
    ids = chosen.select(F.col("corpusid").alias("id"), "paper_id")
    among = edges.join(ids.withColumnRenamed("id", "citing").withColumnRenamed("paper_id", "citing_id"), "citing") \
        .join(ids.withColumnRenamed("id", "cited").withColumnRenamed("paper_id", "cited_id"), "cited") \
        .select("citing_id", "cited_id", F.col("is_influential"), F.array_join("intents", "|").alias("intents"))
    among = among.toPandas()
    write_table(tables, "citations", among)
    write_table(tables, "seeds", seeds[list(SCHEMAS["seeds"])])
    write_table(tables, "field_growth", study.field_growth(labelled, field_names))
    log.info("corpus: %d study papers and the %d citations among them → %s", len(frame), len(among), tables)
    return frame, among
