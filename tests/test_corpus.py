"""``corpus``: the study on a whole release with Spark gives the pandas engine's numbers, and ``demo --corpus`` runs
the whole path offline (local Datasets API → download → Parquet → Spark → tables → figures), recovering the
planted mixing; the real S2AG sample records parse to the end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.stats import citations as analysis
from pipeline.stats.bootstrap import BootstrapParams
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.fields import label_papers
from pipeline.manifest import read_manifest, sections
from pipeline.paths import REPO_ROOT, RunPaths

SAMPLE = Path(REPO_ROOT).parent / "shared" / "s2-datasets-sample"
RESAMPLES = 200


@pytest.fixture(scope="module")
def demo_run(spark, tmp_path_factory):
    """``demo --corpus`` once (through the CLI, on the shared session), and the literature it served."""
    from pipeline.localapi import DEMO_PARAMS
    from pipeline.localapi.synth import generate

    out = tmp_path_factory.mktemp("demo-corpus")
    assert main(["demo", "--corpus", "--out", str(out), "--master", "local[2]", "--resamples", str(RESAMPLES),
                 "-q"]) == 0
    return RunPaths.under(out), generate(DEMO_PARAMS)


@pytest.fixture(scope="module")
def pandas_engine(demo_run):
    """The pandas engine on the same literature, labelled with the same (resolved) seeds."""
    paths, literature = demo_run
    config = load_config(REPO_ROOT / "data" / "demo.toml")
    seeds = pd.read_parquet(paths.table("seeds.parquet"))
    labels = label_papers(literature.papers, seeds, fields=config.fields)
    data = analysis.encode(literature.papers, labels, literature.citations, field_names=config.field_names)
    sums = analysis.bootstrap_sums(analysis.citing_profiles(data, counting=config.counting),
                                   params=BootstrapParams(resamples=RESAMPLES))
    return {"cross_field": analysis.cross_field_table(sums, fields=data.fields),
            "overlap": analysis.overlap_table(sums, fields=data.fields),
            "by_kind": analysis.shares_by_kind(data, counting=config.counting),
            "bridges": analysis.bridge_papers(data, top=50), "top_cross": analysis.top_cross_citations(data, top=50),
            "mixing": analysis.mixing_matrix(data, counting=config.counting), "data": data, "labels": labels}


def test_engines_give_identical_shares_ratios_and_intervals(demo_run, pandas_engine):
    paths, _ = demo_run
    spark_table = pd.read_csv(paths.table("cross_field.csv"), dtype={"year": str})
    pd.testing.assert_frame_equal(spark_table, pandas_engine["cross_field"], check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(paths.table("overlap.csv")), pandas_engine["overlap"],
                                  check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(paths.table("cross_field_by_kind.csv")), pandas_engine["by_kind"],
                                  check_exact=True, check_dtype=False)


def test_engines_agree_on_the_manifest_statistics_and_the_top_tables(demo_run, pandas_engine):
    paths, literature = demo_run
    section = read_manifest(paths.manifest)["analysis"]
    data, mixing = pandas_engine["data"], pandas_engine["mixing"]
    assert section["papers"] == len(literature.papers) and section["citations"] == len(data.citing)
    assert section["dropped"] == data.dropped
    assert section["ei_index"] == {f: float(x) for f, x in zip(data.fields, analysis.ei_index(mixing))}
    assert section["assortativity"] == analysis.assortativity(mixing)
    bridges = pd.read_csv(paths.table("bridges.csv"), dtype={"paper_id": str})
    ours, theirs = bridges["citations"].tolist(), pandas_engine["bridges"]["citations"].tolist()
    assert ours == theirs                                         # ties may list other papers at the cut
    above_the_cut = bridges["citations"] > bridges["citations"].min()
    expected = pandas_engine["bridges"].set_index("paper_id").loc[bridges.loc[above_the_cut, "paper_id"]]
    assert expected["n_citing_fields"].tolist() == bridges.loc[above_the_cut, "n_citing_fields"].tolist()
    cross = pd.read_csv(paths.table("top_cross_citations.csv"))
    assert cross["cited_citations"].tolist() == pandas_engine["top_cross"]["cited_citations"].tolist()


def test_corpus_demo_recovers_the_planted_mixing_within_005(demo_run):
    paths, literature = demo_run
    table = pd.read_csv(paths.table("cross_field.csv"), dtype={"year": str})
    overall = table[table["year"] == "all"]
    truth = literature.truth["mixing"]
    errors = [abs(row.share - truth[row.citing_field][row.cited_field]) for row in overall.itertuples()]
    assert len(errors) == 16 and max(errors) < 0.05


def test_corpus_demo_writes_synthetic_figures_report_and_a_signed_manifest(demo_run):
    paths, literature = demo_run
    manifest = read_manifest(paths.manifest)
    corpus, fetch = manifest["corpus"], manifest["fetch"]
    assert manifest["synthetic"] is True and manifest["synthetic_truth"] == literature.truth
    assert corpus["engine"] == "spark" and corpus["master"] == "local[2]" and corpus["release"] == "2025-01-14"
    assert corpus["shards"] == {"papers": 3, "abstracts": 2, "citations": 4}
    assert corpus["unresolved_references"] > 0 and corpus["seconds"]["total"] > 0
    assert fetch["source_name"] == "s2-datasets" and fetch["unknown_ids"] == ["arXiv:2999.00001"]
    assert manifest["signature"].startswith("source:s2-datasets|data:synthetic|")
    assert (f"|release:2025-01-14|spark:{corpus['spark']}|master:local[2]|shards:papers=3+abstracts=2+citations=4|"
            f"time:{corpus['time']}|engine:spark|") in manifest["signature"]
    sections(manifest)                                                    # every key typed and known
    report = paths.report.read_text(encoding="utf-8")
    assert report.startswith("# SYNTHETIC") and "the papers of the whole release labelled with the field" in report
    assert all((paths.figures / f"{name}.png").stat().st_size > 10_000 for name in ("mixing_heatmap", "network"))
    labels = pd.read_parquet(paths.table("labels.parquet"))
    papers = pd.read_parquet(paths.table("papers.parquet"))
    assert set(labels["paper_id"]) == set(papers["paper_id"]) and (labels["labels"] != "other").sum() > 1000


def test_a_second_run_reads_the_parquet_without_downloading(demo_run, spark):
    from pipeline.localapi import DEMO_PARAMS
    from pipeline.localapi.server import LocalS2Server
    from pipeline.localapi.synth import generate
    from pipeline.sources.s2_datasets.release import prepare

    paths, _ = demo_run
    with LocalS2Server(generate(DEMO_PARAMS)) as server:
        inputs = prepare(spark, data_root=paths.datasets, api_url=server.url, release="2025-01-14", quiet=True)
        assert server.requests == []
    assert inputs.downloaded == {} and inputs.synthetic
    assert inputs.parquet == read_manifest(paths.manifest)["corpus"]["parquet"]


def test_spark_labels_every_synthetic_paper_as_pandas_does(demo_run, spark):
    from pipeline.spark import labels

    paths, literature = demo_run
    parquet = read_manifest(paths.manifest)["corpus"]["parquet"]
    config = load_config(REPO_ROOT / "data" / "demo.toml")
    papers, abstracts = spark.read.parquet(parquet["papers"]), spark.read.parquet(parquet["abstracts"])
    seeds, unknown = labels.resolve_seeds(spark, papers, config.fields)
    assert len(seeds) > 30 and unknown == ["arXiv:2999.00001"]   # the demo lists one unknown id on purpose
    ids = literature.papers["paper_id"]
    overrides = pd.DataFrame({"paper_id": [ids[0], ids[1], ids[2]], "field": ["reward_models", "other", "metrics"]})
    ours = labels.label(spark, papers, abstracts, seeds, fields=config.fields, overrides=overrides) \
        .select("paper_id", "labels", "reasons").toPandas().set_index("paper_id").sort_index()
    theirs = label_papers(literature.papers, seeds, fields=config.fields, overrides=overrides) \
        .set_index("paper_id").sort_index()
    assert len(ours) == len(theirs) == len(literature.papers)
    assert (ours["labels"] == theirs["labels"]).all() and (ours["reasons"] == theirs["reasons"]).all()
    assert theirs["reasons"].str.contains(":rule:").sum() > 100          # the rules did most of the labelling
    assert theirs.loc[ids[1], "reasons"] == "other:override"


@pytest.mark.shared
@pytest.mark.skipif(not SAMPLE.exists(), reason=f"real S2 datasets sample not found in {SAMPLE}")
def test_real_sample_records_run_through_corpus_shards(spark, tmp_path):
    config = tmp_path / "sample.toml"
    config.write_text("""
[study]
name = "real S2AG sample records"
[fields.medicine]
queries = ["unused by corpus"]
[fields.medicine.rules]
clinical = '\\b(patients?|clinical|cancer|nurses?)\\b'
[fields.education]
queries = ["unused by corpus"]
[fields.education.rules]
education = '\\b(education|students?|teachers?)\\b'
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["corpus", "--config", str(config), "--shards", str(SAMPLE), "--out", str(out),
                 "--master", "local[2]", "--resamples", "20", "-q"]) == 0
    manifest = read_manifest(out / "manifest.json")
    assert manifest["corpus"]["shards"] == {"papers": 1, "abstracts": 1, "citations": 1}
    assert manifest["synthetic"] is False and "data:real" in manifest["signature"]
    assert manifest["analysis"]["papers"] == 100 and manifest["analysis"]["labelled"]["medicine"] > 0
    # the sample's citations point outside its 100 papers: counted, dropped, not fatal
    assert manifest["analysis"]["dropped"]["unknown_papers"] + manifest["corpus"]["unresolved_references"] == 100
    papers = pd.read_parquet(out / "processed" / "papers.parquet")
    assert papers["paper_id"].str.fullmatch(r"[0-9a-f]{40}").all()
    assert json.loads(papers["external_ids"].iloc[0])["CorpusId"]


def test_corpus_without_a_source_key_is_one_line(tmp_path, capsys, monkeypatch, spark):
    monkeypatch.delenv("S2_API_KEY", raising=False)
    code = main(["corpus", "--config", str(REPO_ROOT / "data" / "demo.toml"), "--api-url", "http://127.0.0.1:9",
                 "--out", str(tmp_path), "--release", "2025-01-14"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "S2_API_KEY" in err[0]
    assert not (tmp_path / "processed").exists()


@pytest.mark.parametrize("argv, message", [
    (["--spark-conf", "driver.memory=4g"], "--spark-conf takes KEY=VALUE"),
    (["--shards", "EMPTY_DIR"], "has no shards (*.gz) under papers/, abstracts/, citations/"),
    (["--shards", "/nonexistent/shards"], "no such directory"),
    (["--release", "2025/01/14"], "--release must be latest or YYYY-MM-DD"),
    (["--shards", "x", "--update"], "does not go with --shards"),
])
def test_bad_corpus_options_are_one_line_before_anything_is_written(argv, message, tmp_path, capsys, spark):
    (tmp_path / "empty").mkdir()
    argv = [str(tmp_path / "empty") if a == "EMPTY_DIR" else a for a in argv]
    code = main(["corpus", "--config", str(REPO_ROOT / "data" / "demo.toml"), "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not (tmp_path / "processed").exists() and not (tmp_path / "manifest.json").exists()



def test_corpus_without_pyspark_names_the_extra_in_one_line(tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['pyspark'] = None; from pipeline.cli import main; "
            f"sys.exit(main(['corpus', '--config', {str(REPO_ROOT / 'data' / 'demo.toml')!r}, '--out', "
            f"{str(tmp_path)!r}, '--shards', {str(tmp_path)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the corpus stage needs PySpark: install the extra with pip install -e '.[spark]' "
        "(and a Java 17+ runtime)"]


@pytest.mark.parametrize("java, message", [
    (None, "needs a Java 17+ runtime and found none"),
    ('openjdk version "11.0.2" 2019-01-15', "needs Java 17+ (Spark 4), found Java 11"),
    ('java version "1.8.0_202"', "found Java 8"),
])
def test_a_missing_or_old_java_is_one_line(java, message, tmp_path, monkeypatch, capsys):
    home = tmp_path / "jdk"
    if java:
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").write_text(f"#!/bin/sh\necho '{java}' >&2\n")
        (home / "bin" / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(home))
    code = main(["corpus", "--config", str(REPO_ROOT / "data" / "demo.toml"), "--out", str(tmp_path / "out"),
                 "--shards", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not (tmp_path / "out").exists()


def test_a_truncated_shard_is_named_in_one_line_and_the_others_are_kept(spark, tmp_path, capsys):
    from pipeline.localapi.datasets import write_release
    from pipeline.localapi.synth import SynthParams, generate

    shards = write_release(generate(SynthParams(seed=1, n_papers=200)), tmp_path / "shards")
    cut = sorted((shards / "citations").glob("*.gz"))[1]
    cut.write_bytes(cut.read_bytes()[:-200])
    code = main(["corpus", "--config", str(REPO_ROOT / "data" / "demo.toml"), "--shards", str(shards),
                 "--out", str(tmp_path / "out"), "--master", "local[2]", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{cut} is truncated or not gzip" in err[0]
    assert len(list((shards / "citations").glob("*.gz"))) == 4
    assert not (tmp_path / "out" / "processed").exists()


def test_corpus_terminology_counts_every_paper_of_the_release_as_the_pandas_engine(demo_run, pandas_engine):
    from pipeline.stats.terminology import usage_table
    from pipeline.terms import DEFAULT_TERMS, load_terms

    paths, literature = demo_run
    config = load_config(REPO_ROOT / "data" / "demo.toml")
    terms, concept_labels = load_terms(DEFAULT_TERMS, field_names=config.field_names)
    labels = literature.papers[["paper_id"]].merge(pandas_engine["labels"], on="paper_id", how="left")["labels"]
    expected = usage_table(literature.papers, labels, terms, fields=pandas_engine["data"].fields,
                           rules={spec.name: list(spec.rules.values()) for spec in config.fields})
    expected.insert(1, "concept_label", expected["concept"].map(concept_labels))
    written = pd.read_csv(paths.table("terminology.csv"))
    pd.testing.assert_frame_equal(written, pd.read_csv(io.StringIO(expected.to_csv(index=False))), check_exact=True)
    section = read_manifest(paths.manifest)["terminology"]
    assert section["source"] == "s2-datasets" and section["papers"] == len(literature.papers)
    assert section["with_abstract"] == int(literature.papers["abstract"].notna().sum())
    assert section["papers_per_field"]["other"] == (labels == "other").sum() > 0
    assert section["papers"] > len(pd.read_parquet(paths.table("papers.parquet")))   # not the study papers alone
    assert written["using"].sum() > 0


def test_terminology_refuses_to_replace_the_release_table_by_the_study_papers(demo_run, capsys):
    paths, _ = demo_run
    before = paths.table("terminology.csv").read_bytes()
    code = main(["terminology", "--config", str(REPO_ROOT / "data" / "demo.toml"), "--out", str(paths.data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "counts every paper of the S2 Datasets release" in err[0]
    assert "corpus ... --terms PATH" in err[0] and paths.table("terminology.csv").read_bytes() == before


def test_corpus_diversity_comes_from_the_whole_release_as_the_pandas_engine(demo_run, pandas_engine):
    from pipeline.stats.diversity import diversity_table

    paths, _ = demo_run
    expected = diversity_table(pandas_engine["data"], mixing=pandas_engine["mixing"])
    written = pd.read_csv(paths.table("diversity.csv"), dtype={"year": str})
    pd.testing.assert_frame_equal(written, pd.read_csv(io.StringIO(expected.to_csv(index=False)), dtype={"year": str}),
                                  check_exact=True)


def test_corpus_coupling_and_shared_references_come_from_the_whole_release_as_the_pandas_engine(demo_run,
                                                                                                pandas_engine):
    from pipeline.stats.coupling import coupling_tables

    paths, _ = demo_run
    expected, shared = coupling_tables(pandas_engine["data"])
    written = pd.read_csv(paths.table("coupling.csv"), dtype={"year": str})
    expected = pd.read_csv(io.StringIO(expected.to_csv(index=False)), dtype={"year": str})
    counts = ["papers_a", "papers_b", "references_a", "references_b", "shared_references", "jaccard", "cosine"]
    pd.testing.assert_frame_equal(written[["year", "field_a", "field_b", *counts]],
                                  expected[["year", "field_a", "field_b", *counts]], check_exact=True)
    # the jackknife's sums of influences run in another order: equal to the last few bits
    pd.testing.assert_frame_equal(written, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    assert written["jaccard_low"].notna().sum() > 10 and (written["jaccard_low"] < written["jaccard"]).any()
    ours = pd.read_csv(paths.table("shared_references.csv"), dtype={"paper_id": str})

    def ranking(table):                      # per pair: the ranking key of each row, and the rows ahead of the cut
        rows = [(r.field_a, r.field_b, min(r.cited_by_a, r.cited_by_b), r.cited_by_a + r.cited_by_b, r.paper_id,
                 r.cited_by_a) for r in table.itertuples()]
        cut = {(a, b): (m, t) for a, b, m, t, *_ in rows}                 # the last row's key of each pair
        return [row[:4] for row in rows], {row for row in rows if row[2:4] > cut[row[:2]]}

    (our_keys, our_ahead), (their_keys, their_ahead) = ranking(ours), ranking(shared)
    assert len(ours) == len(shared) > 0 and our_keys == their_keys     # ties may list other papers in their place
    assert our_ahead == their_ahead and len(our_ahead) > 10
    assert "computed on the study papers" not in " ".join(read_manifest(paths.manifest)["analysis"]["warnings"])
