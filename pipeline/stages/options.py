"""Command-line options of the stages, kept light: building a parser (``--help``) imports no stage.

The bootstrap options are shared by the citation study (``analyze``, ``run``, ``demo``) and ``score``:
``--resamples N`` and ``--bootstrap-seed S``, read by :func:`bootstrap_params` into the one
:class:`~pipeline.stats.bootstrap.BootstrapParams`. Scoring's old ``--bootstrap``/``--seed`` still work for one
release, with a one-line deprecation warning.

Every numeric option has a range (:mod:`pipeline.validate`): nan, inf, negative, huge or fractional values
stop the command at parse time, before anything is written.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from pipeline.stats.bootstrap import BootstrapParams
from pipeline.validate import Range, check_number, number, seed_type

RESAMPLES = Range(1, 1_000_000, integral=True, hint="1000 is the usual choice")
HARD_BELOW = Range(0, 1000, hint="5 is one Major MQM error")
PORT = Range(0, 65535, integral=True, hint="0 picks a free port")
MAX_SYNTHETIC_PAPERS = 1_000_000
"""Largest ``serve-s2 --papers``: the generator holds about 7.5 KB per paper in memory (1M papers ≈ 7.5 GB)."""
PAPERS = Range(10, MAX_SYNTHETIC_PAPERS, integral=True, hint="the literature is held in memory, ~7.5 KB a paper")
FAULT_RATE = Range(0, 1, hint="a fraction of requests, e.g. 0.1")


class _DeprecatedAlias(argparse.Action):
    """An old option name: stores into the new option's ``dest``, warns once on stderr."""

    def __init__(self, *args, new: str, **kwargs):
        self.new = new
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"warning: {option_string} is deprecated and will be removed; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_flag", option_string)


def add_bootstrap_arguments(parser: argparse.ArgumentParser, *, deprecated_aliases: bool = False) -> None:
    """``--resamples`` and ``--bootstrap-seed`` (with ``deprecated_aliases``: also scoring's ``--bootstrap`` and
    ``--seed``)."""
    defaults = BootstrapParams()
    parser.add_argument("--resamples", type=number(RESAMPLES), default=defaults.resamples, metavar="N",
                        help="bootstrap resamples for the 95%% confidence intervals (default: %(default)s)")
    parser.add_argument("--bootstrap-seed", type=seed_type(), default=defaults.seed, metavar="S",
                        help="seed of the bootstrap (default: %(default)s)")
    if deprecated_aliases:
        parser.add_argument("--bootstrap", dest="resamples", type=number(RESAMPLES), action=_DeprecatedAlias,
                            new="--resamples",
                            help=argparse.SUPPRESS)
        parser.add_argument("--seed", dest="bootstrap_seed", type=seed_type(), action=_DeprecatedAlias,
                            new="--bootstrap-seed", help=argparse.SUPPRESS)


def bootstrap_params(args: argparse.Namespace | None) -> BootstrapParams:
    """The bootstrap parameters the options ask for (defaults without ``args``); validated."""
    defaults = BootstrapParams()
    resamples = check_number(getattr(args, "resamples", defaults.resamples),
                             getattr(args, "resamples_flag", "--resamples"), RESAMPLES)
    seed = check_number(getattr(args, "bootstrap_seed", defaults.seed), "--bootstrap-seed", seed_type().allowed)
    return BootstrapParams(resamples=resamples, seed=seed)


GRAPH_MODES = ("study", "full", "none")
"""``--graph``: the graph files analyze writes (:mod:`pipeline.graph`)."""


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``analyze`` (and of ``run``/``demo``): the bootstrap's and ``--graph``."""
    add_bootstrap_arguments(parser)
    parser.add_argument("--graph", choices=GRAPH_MODES, default="study",
                        help="graph files for Gephi/VOSviewer: study = seed and bridge papers and the field graph; "
                             "full = also every paper and citation (large); none (default: %(default)s)")


def graph_mode(args: argparse.Namespace | None) -> str:
    return getattr(args, "graph", "study")


def analyze_settings(args: argparse.Namespace | None) -> tuple:
    """The options that change analyze's outputs (part of its fingerprint)."""
    return bootstrap_params(args), graph_mode(args)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``run`` and ``demo``: ``--force`` plus the study stages' own options."""
    parser.add_argument("--force", action="store_true", help="rerun every stage even if its inputs are unchanged")
    add_analyze_arguments(parser)


def add_growth_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``growth``: what to count and, for the ACL Anthology, where its data is."""
    from pathlib import Path

    from pipeline.config import GROWTH_SOURCES

    parser.add_argument("--source", choices=GROWTH_SOURCES, default=None,
                        help="what to count: s2 = S2 searches of each field's queries, acl-anthology = ACL "
                             "Anthology papers whose title or abstract matches each field's rules (default: the "
                             "config's [growth] source, else s2)")
    parser.add_argument("--acl-data", type=Path, default=None, metavar="DIR",
                        help="the ACL Anthology's data directory (with xml/*.xml), e.g. ../shared/acl-anthology "
                             "(default: the config's [growth] acl_data, else acl-anthology clones the Anthology)")
    parser.add_argument("--force", action="store_true",
                        help="recount the ACL Anthology even if code, config and data are unchanged")


def growth_settings(args: argparse.Namespace | None) -> tuple:
    """What the growth options ask for (the config's ``[growth]`` is in the config hash already)."""
    return getattr(args, "source", None), str(getattr(args, "acl_data", None) or "")


def _add_spark_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master", default=None,
                        help="Spark master (default: spark-submit's, else local[*])")
    parser.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                        help="a Spark setting, e.g. spark.driver.memory=4g (repeatable)")


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``corpus``: where the release comes from, the terms to count, where Spark runs, the bootstrap."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--release", metavar="latest|YYYY-MM-DD",
                        help="download this S2 Datasets release (needs S2_API_KEY; default: latest)")
    source.add_argument("--shards", metavar="PATH_OR_URI",
                        help="read shards already there: a directory (or s3a://, gs://, hdfs:// URI) with papers/, "
                             "abstracts/ and citations/ folders of *.gz shards")
    parser.add_argument("--update", action="store_true",
                        help="bring the newest downloaded release to --release (default latest) with the Datasets "
                             "API's diffs instead of downloading it again")
    parser.add_argument("--parquet", metavar="URI",
                        help="where the converted Parquet lives (default: under <out>/s2-datasets/; on a cluster, "
                             "an object-storage URI every executor reads)")
    _add_terms_argument(parser)
    _add_spark_arguments(parser)
    add_bootstrap_arguments(parser)


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``demo``: ``run``'s, and ``--corpus`` for the whole-corpus path with its Spark options."""
    add_run_arguments(parser)
    parser.add_argument("--corpus", action="store_true",
                        help="the whole-corpus path instead: local Datasets API → download → Parquet → Spark → "
                             "tables → figures (needs the [spark] extra)")
    _add_spark_arguments(parser)


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline.scoring import FORMATS, KNOWN_SCORERS

    parser.add_argument("action", nargs="?", choices=["download"],
                        help="'download NAME' fetches a named public data set into the cache (no NAME: list them)")
    parser.add_argument("dataset", nargs="?", metavar="NAME", help="data set to download")
    parser.add_argument("--pairs", action="append", default=[], metavar="SOURCE",
                        help="pairs file (MQM .tsv/.tar.gz, RewardBench-style or M-RewardBench translation "
                             ".jsonl/.json/.parquet, hh-rlhf .jsonl.gz) or a downloaded data set's NAME; repeatable")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="format of every --pairs file (default: from the file name and columns)")
    parser.add_argument("--scorer", action="append", default=[], metavar="NAME",
                        help=f"repeatable; one of: {KNOWN_SCORERS}. None: only write pairs and texts")
    parser.add_argument("--hard-below", type=number(HARD_BELOW), default=5.0, metavar="GAP",
                        help="MQM pairs whose score gap is below GAP are 'hard', the rest 'easy' "
                             "(default: %(default)s = one Major error)")
    parser.add_argument("--language", action="append", default=[], metavar="PAIR",
                        help="keep only pairs of this language (pair), e.g. zh-en; repeatable")
    parser.add_argument("--subset", action="append", default=[], metavar="NAME",
                        help="keep only pairs of this subset (difficulty), e.g. hard; repeatable")
    parser.add_argument("--no-figure", dest="figure", action="store_false",
                        help="write the tables only, no scoring_accuracy figure (matplotlib is then never imported)")
    parser.add_argument("--pdf", action="store_true",
                        help="write the figure as PDF too, beside the PNG (vector, for a paper; costs about 0.2 s)")
    add_bootstrap_arguments(parser, deprecated_aliases=True)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline.localapi import DEMO_PARAMS

    parser.add_argument("--port", type=number(PORT), default=8765,
                        help="port on 127.0.0.1 (default: %(default)s; 0 = any)")
    parser.add_argument("--seed", type=seed_type(), default=DEMO_PARAMS.seed,
                        help="seed of the synthetic literature (default: the demo's, %(default)s)")
    parser.add_argument("--papers", type=number(PAPERS), default=DEMO_PARAMS.n_papers,
                        help="number of synthetic papers (default: the demo's, %(default)s)")
    parser.add_argument("--faults", type=number(FAULT_RATE), default=0.0, metavar="RATE",
                        help="fraction of requests that fail (429, 5xx, slow, dropped, truncated); default 0")
    parser.add_argument("--fault-seed", type=seed_type(), default=0, help="seed of the fault sequence (default: 0)")


TERMINOLOGY_SOURCES = ("study", "acl-anthology")


def add_terminology_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``terminology``: where the papers come from and which terms to count."""
    parser.add_argument("--source", choices=TERMINOLOGY_SOURCES, default="study",
                        help="papers to count terms in: the study's (its papers and labels tables, default) or the "
                             "ACL Anthology's (labelled by the config's rules; needs --acl-data)")
    parser.add_argument("--acl-data", type=Path, metavar="DIR",
                        help="for --source acl-anthology: the Anthology's data directory (with xml/*.xml), e.g. "
                             "../shared/acl-anthology (default: acl-anthology clones the Anthology)")
    _add_terms_argument(parser)


def _add_terms_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--terms", type=Path, metavar="PATH",
                        help="concepts and each field's terms (default: data/terminology.toml)")


def terminology_settings(args: argparse.Namespace | None) -> tuple[str, str]:
    """What changes the terminology table besides the config and the input tables: the source and the bytes of
    the terms file (its sha256)."""
    from pipeline.paths import REPO_ROOT

    terms = getattr(args, "terms", None) or REPO_ROOT / "data" / "terminology.toml"
    try:
        digest = hashlib.sha256(Path(terms).read_bytes()).hexdigest()
    except OSError:
        digest = "missing"  # the stage itself reports a missing file, with how to fix it
    return getattr(args, "source", "study"), digest
