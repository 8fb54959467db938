"""The run manifest: one JSON file per run that every stage adds its section to, and the run's signature.

Sections: ``fetch`` (source, dates, config hash, seeds, requests …; :mod:`pipeline.sources.s2_graph.export`),
``growth`` (when field growth was counted from the ACL Anthology; :mod:`pipeline.stages.growth`), ``analysis``
(:mod:`pipeline.stages.analyze`, or ``corpus``), ``corpus`` (release, engine, Spark version and master, shards, times;
:mod:`pipeline.stages.corpus`), ``terminology`` (:mod:`pipeline.stages.terminology`), ``scoring``
(:mod:`pipeline.stages.score`), and
``synthetic``/``synthetic_truth`` when the data came from the local server. Stage fingerprints are not here
(:attr:`pipeline.paths.RunPaths.stage_cache`).

The **signature** is one line in sacrebleu's style (``nrefs:1|case:mixed|…|version:2.4.0``), package version last,
that a reader can paste next to a number::

    source:s2-graph|data:real|date:2026-12-01|config:1a2b3c4d|counting:fractional|resamples:1000|seed:0|engine:pandas|version:0.1.0

:func:`sign_manifest` stores it as ``manifest["signature"]`` at the end of every command (and of ``run``);
``report.md`` computes the same line with :func:`signature`. A stage that adds a field to it declares the field
in :data:`STUDY_SIGNATURE` (key, and where in its manifest section it is read).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import pipeline
from pipeline.errors import CorruptOutput, UserError
from pipeline.paths import write_text_atomically

log = logging.getLogger(__name__)

ENGINE = "pandas"
"""The engine of ``analyze``; ``corpus`` names its own (``spark``) in its section."""

STUDY_SIGNATURE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("source", ("fetch", "source_name")),
    ("date", ("fetch", "date")),
    ("config", ("fetch", "config_hash")),
    ("growth", ("growth", "source")),
    ("counting", ("analysis", "counting")),
    ("resamples", ("analysis", "bootstrap", "resamples")),
    ("seed", ("analysis", "bootstrap", "seed")),
    ("release", ("corpus", "release")),
    ("spark", ("corpus", "spark")),
    ("master", ("corpus", "master")),
    ("shards", ("corpus", "shard_counts")),
    ("time", ("corpus", "time")),
)
"""The citation study's signature fields: (key, path into the manifest); ``data``, ``engine`` and ``version``
are added around them."""

SCORING_SIGNATURE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pairs", ("sources",)),
    ("language", ("filters", "language")),
    ("subset", ("filters", "subset")),
    ("scorers", ("scorers",)),
    ("resamples", ("bootstrap", "resamples")),
    ("seed", ("bootstrap", "seed")),
)


# --- typed sections --------------------------------------------------------------------------------------------
# Each stage writes its section as one of these dataclasses (``update_manifest(path, analysis=AnalysisSection(…))``);
# :func:`read_sections` reads a manifest back as a :class:`Manifest`, checking every key and type on the way.
# A new stage adds its section dataclass here and a field to :class:`Manifest`.


@dataclass(frozen=True)
class BootstrapSettings:
    """How a section's confidence intervals were made (:class:`pipeline.stats.bootstrap.BootstrapParams`)."""

    resamples: int
    seed: int
    level: float = 0.95
    unit: str = ""
    """The resampling unit: ``citing paper`` (study) or ``cluster of pairs`` (scoring)."""
    method: str = ""
    """How units are drawn: ``poisson`` (study: Poisson(1) copies of each unit), ``""`` = with replacement."""


@dataclass(frozen=True)
class FetchSection:
    """What a source fetched (written by the source's export, e.g. :mod:`pipeline.sources.s2_graph.export`)."""

    source: str
    """Where from: the API base URL."""
    date: str
    config_hash: str
    source_name: str = "s2-graph"
    fetched_between: list[str] = field(default_factory=list)
    store: str = ""
    seeds: dict[str, int] = field(default_factory=dict)
    unknown_ids: list[str] = field(default_factory=list)
    truncated: list[dict] = field(default_factory=list)
    """``{"paper_id", "list"}`` of lists at the service's cap."""
    short_lists: list[dict] = field(default_factory=list)
    """``{"paper_id", "list", "entries", "reference_count"}`` of seed lists shorter than referenceCount."""
    lists: dict[str, Any] = field(default_factory=dict)
    """How the seeds' lists came: ``batched`` (nested in ``POST /paper/batch``), ``empty`` (their count was 0: no
    request), ``paged`` (why → lists: ``detail``, ``long``, or a reason of :attr:`asked_again`)."""
    asked_again: list[dict] = field(default_factory=list)
    """``{"paper_id", "list", "reason"}`` of batched lists that came back shorter than their count and were paged
    (``response cap``, ``paper cap``, ``short``, ``no count``)."""
    edge_details: dict[str, Any] = field(default_factory=dict)
    """``{"setting", "citations_with_detail"}``: ``[fetch] edge_details`` and how many citations carry intents and
    the influential flag (what ``cross_field_by_kind.csv`` covers)."""
    max_seed_papers: Optional[int] = None
    """``[study] max_seed_papers``: per field, the most-cited papers of its searches kept (None: all)."""
    field_growth: dict[str, str] = field(default_factory=dict)
    """field → ``counted`` (its fully paged seed searches counted per year: exact) or ``search totals``."""
    papers: int = 0
    citations: int = 0
    missing_metadata: list[str] = field(default_factory=list)
    unresolved_references: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    """Requests per endpoint, and ``total``."""
    retries: int = 0
    throttle_wait_seconds: float = 0.0


@dataclass(frozen=True)
class AnalysisSection:
    """What analyze computed (:mod:`pipeline.stages.analyze`)."""

    papers: int
    citations: int
    labelled: dict[str, int]
    counting: str
    ei_index: dict[str, Optional[float]] = field(default_factory=dict)
    assortativity: Optional[float] = None
    """Attribute assortativity of the field labels on the mixing matrix (Newman 2003)."""
    overlap_any_other_field: dict[str, Optional[float]] = field(default_factory=dict)
    bootstrap: Optional[BootstrapSettings] = None
    dropped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    graph: str = "study"
    """The ``--graph`` mode: which graph files were written (:mod:`pipeline.graph`)."""
    outputs: list[str] = field(default_factory=list)
    timings: dict[str, dict] = field(default_factory=dict)
    """Per phase (read, label, statistics, bootstrap, outputs): ``wall`` and ``cpu`` seconds, ``peak_rss_gib``
    so far (:class:`pipeline.timing.Phases`)."""


@dataclass(frozen=True)
class CorpusSection:
    """How ``corpus`` ran (:mod:`pipeline.stages.corpus`): the release, the engine and where it ran."""

    engine: str
    spark: str
    master: str
    source: str
    """The Datasets API URL or the shards URI (never a pre-signed URL)."""
    shards: dict[str, int]
    shard_counts: str
    """``papers=60+abstracts=30+citations=360``, as in the signature."""
    parquet: dict[str, str]
    seconds: dict[str, float]
    time: str
    """Total wall time, as in the signature (``312s``)."""
    release: Optional[str] = None
    updated_from: Optional[str] = None
    downloaded_shards: dict[str, int] = field(default_factory=dict)
    unresolved_references: int = 0


@dataclass(frozen=True)
class ScoringSection:
    """What score measured (:mod:`pipeline.stages.score`)."""

    date: str
    sources: list[str]
    pairs: int
    human_ties: int
    hard_below: float
    bootstrap: BootstrapSettings
    synthetic: bool = False
    per_language: dict[str, int] = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)
    """``--language`` / ``--subset`` values the pairs were narrowed to (absent: all pairs)."""
    scorers: dict[str, str] = field(default_factory=dict)
    """Scorer name → its own signature (sacrebleu's for BLEU/chrF/TER)."""
    outputs: list[str] = field(default_factory=list)
    signature: str = ""


@dataclass(frozen=True)
class GrowthSection:
    """Where the field-growth table came from when it was counted from the ACL Anthology
    (:mod:`pipeline.stages.growth`, :func:`pipeline.sources.acl_anthology.growth_table`)."""

    source: str
    """``acl-anthology``."""
    data: str
    """The directory of the Anthology XML files that were read."""
    read_on: str
    files: int
    papers: int
    papers_with_abstract: int
    years: list[int]
    counting: str
    data_version: Optional[str] = None
    """The git commit of the data checkout, when it is one."""
    files_skipped: list[str] = field(default_factory=list)
    """``"<file>: <reason>"`` of files that could not be read (their papers are not counted)."""


@dataclass(frozen=True)
class TerminologySection:
    """What the terminology stage counted (:mod:`pipeline.stages.terminology`)."""

    source: str
    """``study`` (the run's papers and labels), ``acl-anthology``, or ``s2-datasets`` (every labelled paper of a
    whole release, counted by ``corpus``)."""
    date: str
    terms_file: str
    terms_hash: str
    concepts: int
    terms: int
    papers: int
    with_abstract: int
    papers_per_field: dict[str, int] = field(default_factory=dict)
    data: str = ""
    """Where the papers came from: the tables directory, the Anthology XML directory, or the release's shards."""
    skipped_files: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """A whole manifest, typed."""

    fetch: Optional[FetchSection] = None
    growth: Optional[GrowthSection] = None
    analysis: Optional[AnalysisSection] = None
    corpus: Optional[CorpusSection] = None
    scoring: Optional[ScoringSection] = None
    terminology: Optional[TerminologySection] = None
    synthetic: bool = False
    synthetic_truth: Optional[dict] = None
    signature: Optional[str] = None


class ManifestError(UserError, ValueError):
    """A manifest section with a key or a type its dataclass does not have (one line; rerun the stage)."""


def _check(value, hint, where: str):
    """``value`` as type ``hint`` (dataclasses built from dicts), or ValueError naming ``where``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _check(value, inner, where)
    if dataclasses.is_dataclass(hint):
        return _from_json(hint, value, where)
    expected = origin or hint
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is Any or isinstance(value, expected):
        return value
    raise ManifestError(f"manifest {where}: expected {getattr(expected, '__name__', expected)}, "
                        f"got {type(value).__name__} (rerun the stage that writes it)")


def _from_json(cls, data, where: str):
    if not isinstance(data, dict):
        raise ManifestError(f"manifest {where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ManifestError(f"manifest {where or 'top level'}: unknown keys {unknown} (written by another version? "
                            "rerun the stage that writes it)")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ManifestError(f"manifest {where}: missing keys {missing} (rerun the stage that writes it)")
    return cls(**{key: _check(value, hints[key], f"{where}.{key}") for key, value in data.items()})


LEGACY_KEYS = ("stages",)
"""Top-level keys of manifests written before the typed sections (stage fingerprints now live in
``cache/stages.json``): ignored when read, dropped at the next write."""


def sections(manifest: dict[str, Any]) -> Manifest:
    """A manifest (as read from JSON) as a typed :class:`Manifest`; ValueError on a bad key or type."""
    return _from_json(Manifest, {k: v for k, v in manifest.items() if k not in LEGACY_KEYS}, "")


def _move_aside(path: Path) -> str:
    return (f"it only records the runs: move it aside (mv {path} {path}.bad) and rerun the stages "
            "(`python -m pipeline run`; fetch asks the API only for what the store lacks)")


def read_sections(path: Path) -> Manifest:
    """The manifest at ``path``, typed (an empty :class:`Manifest` when there is none); a damaged one is a
    :class:`~pipeline.errors.CorruptOutput` naming the file."""
    try:
        return sections(read_manifest(path))
    except ManifestError as exc:
        raise CorruptOutput(path, str(exc).removesuffix(" (rerun the stage that writes it)"),
                            _move_aside(path)) from None


def _jsonable(value):
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def read_manifest(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        problem = "a directory, not a manifest" if path.is_dir() else f"not a JSON manifest ({str(exc).splitlines()[0][:80]})"
        raise CorruptOutput(path, problem, _move_aside(path)) from None
    if not isinstance(manifest, dict):
        raise CorruptOutput(path, f"not a manifest (a JSON object) but a {type(manifest).__name__}",
                            _move_aside(path))
    return manifest


def _lookup(section: dict, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(section, dict) or key not in section:
            return None
        section = section[key]
    return section


def _value(value) -> str:
    if isinstance(value, dict):  # scorers: name → sacrebleu signature; keep the names (the signatures are long)
        return "+".join(value)
    if isinstance(value, (list, tuple)):
        return "+".join(Path(str(v)).name.split(".")[0] for v in value)
    return str(value)


def _join(fields: list[tuple[str, object]]) -> str:
    fields = [*fields, ("version", pipeline.__version__)]
    return "|".join(f"{key}:{_value(value)}" for key, value in fields if value is not None)


def signature(manifest: dict[str, Any]) -> str | None:
    """The citation study's one-line signature (None before any fetch section exists)."""
    if "fetch" not in manifest:
        return None
    fields = [(key, _lookup(manifest, where)) for key, where in STUDY_SIGNATURE]
    if fields[0][1] is None:  # a manifest written before sources had names
        fields[0] = ("source", "s2-graph")
    fields.insert(1, ("data", "synthetic" if manifest.get("synthetic") else "real"))
    if isinstance(fields[3][1], str):
        fields[3] = ("config", fields[3][1][:8])
    engine = _lookup(manifest, ("corpus", "engine")) or ENGINE
    fields.append(("engine", engine if "analysis" in manifest else None))
    return _join(fields)


def scoring_signature(section: dict[str, Any]) -> str:
    """The score stage's one-line signature: pair sources, scorers, bootstrap resamples and seed, version."""
    return _join([(key, _lookup(section, where)) for key, where in SCORING_SIGNATURE])


def update_manifest(path: Path, **sections: Any) -> dict[str, Any]:
    """Merge top-level ``sections`` (typed sections or plain JSON values) into the manifest at ``path``
    (atomically) and return it."""
    path = Path(path)
    manifest = read_manifest(path)
    manifest.update({name: _jsonable(section) for name, section in sections.items()})
    for key in LEGACY_KEYS:
        manifest.pop(key, None)
    write_text_atomically(path, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    return manifest


def sign_manifest(path: Path) -> str | None:
    """Store the run's signature as ``manifest["signature"]`` (the study's; a scoring-only run: scoring's), log
    it (the last line of every run, on stderr; ``-q`` hides it) and return it. None without a manifest."""
    manifest = read_manifest(path)
    sig = signature(manifest) or (manifest.get("scoring") or {}).get("signature")
    if not sig:
        return None
    if manifest.get("signature") != sig:
        update_manifest(path, signature=sig)
    log.info("signature: %s", sig)
    return sig
