"""Preference pairs: one table, four loaders (MQM TSVs, RewardBench-style chosen/rejected files, the translation
subset of M-RewardBench, hh-rlhf).

A pair table has one row per pair and the columns in :data:`PAIR_COLUMNS`:

- ``pair_id`` — unique within the table;
- ``prompt`` — the source sentence (MT) or the conversation so far (chat);
- ``chosen``, ``rejected`` — the two outputs; the human prefers ``chosen``;
- ``references`` — tuple of human reference translations (empty when there are none);
- ``subset``, ``language`` — groups for per-subset / per-language accuracy;
- ``margin`` — gold margin ``score(rejected) − score(chosen)`` in MQM points (≥ 0; ``0`` marks a *human tie*,
  kept for tie-calibrated accuracy; NaN when the data carries only the preference);
- ``chosen_id``, ``rejected_id`` — text ids (:func:`text_id`), the keys of the ``scores:PATH`` scorer.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import logging
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import UserError
from pipeline.scoring import FORMATS

log = logging.getLogger(__name__)

PAIR_COLUMNS = ["pair_id", "prompt", "chosen", "rejected", "references", "subset", "language", "margin",
                "chosen_id", "rejected_id"]

MQM_COLUMNS = ["system", "doc", "rater", "source", "target", "category", "severity"]
MQM_SEGMENT_COLUMNS = ("seg_id", "docSegId", "globalSegId")
REFERENCE_SYSTEM = re.compile(r"^(ref|human)", re.IGNORECASE)
"""Systems whose outputs are human reference translations (``ref``, ``refA``, ``refB``, ``Human-A.0`` …)."""
_ERROR_SPAN = re.compile(r"</?v>")
_SIDE_BY_SIDE_SUFFIX = r"_with_.+$"
_ASSISTANT = "\n\nAssistant:"
M_REWARDBENCH_SUBSET = re.compile(r"^translation-([a-z]{2})-([a-z]{2})-(easy|hard)$")
"""``subset`` of an M-RewardBench translation row: ``translation-<source>-<target>-<easy|hard>``."""


@dataclass(frozen=True)
class MqmWeights:
    """MQM error weights (Freitag et al. 2021, "Experts, Errors, and Context", §3; the data's own README).

    A segment's score for one rater is the sum of the weights of the errors they marked; the segment score is the
    mean over its raters (lower is better). ``HOTW-test`` rows are the annotation tool's attention checks
    (injected errors, categories ``Found``/``Missed``), not errors of the translation: weight 0.
    """

    major: float = 5.0
    minor: float = 1.0
    minor_punctuation: float = 0.1
    non_translation: float = 25.0
    neutral: float = 0.0


def text_id(prompt: str, text: str) -> str:
    """Stable id of one output in its context: the first 16 hex digits of SHA-1(prompt ‖ U+001F ‖ text).

    The ``scores:PATH`` scorer keys its CSV on these ids, so any scorer run outside this package can be
    evaluated: score every row of ``texts.parquet`` and write ``text_id,score``.
    """
    return hashlib.sha1(f"{prompt}\x1f{text}".encode("utf-8")).hexdigest()[:16]


def strip_error_spans(texts: pd.Series) -> pd.Series:
    """Remove the ``<v>…</v>`` error-span markers MQM annotators put in target texts (vectorised)."""
    return texts.str.replace(_ERROR_SPAN.pattern, "", regex=True)


def language_from_name(name: str) -> str:
    """``mqm_ted_zhen.tsv`` → ``zh-en``; ``sxs_mqm_generalMT2023_en-de.x.tsv`` → ``en-de``; else ``""``.

    The last four-letter token (``xxyy`` or ``xx-yy``) of the name wins, as WMT file names end in the pair.
    """
    found = re.findall(r"(?:^|[_./])([a-z]{2})-?([a-z]{2})(?=[_.]|$)", name)
    return f"{found[-1][0]}-{found[-1][1]}" if found else ""


# ---------------------------------------------------------------------------------------------------- reading files


def _decode(raw: bytes, origin: str) -> str:
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (spreadsheets, Notepad) is not part of the text
    except UnicodeDecodeError as exc:
        raise UserError(f"{origin} is not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8") from None


def _utf8(raw: bytes, origin: str) -> bytes:
    """``raw`` checked to be UTF-8 text (as :func:`_decode` checks it), without a byte-order mark."""
    _decode(raw, origin)
    return raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw


def _existing(path: Path) -> Path:
    if path.is_dir():
        raise UserError(f"pairs file {path} is a directory; pass one file per --pairs (repeat --pairs for several)")
    if not path.is_file():
        raise UserError(f"pairs file {path} not found; pass an existing file or a dataset name "
                        "from `python -m pipeline score download`")
    return path


def _read_bytes(path: Path) -> bytes:
    raw = _existing(path).read_bytes()
    if path.suffix == ".gz" and not path.name.endswith((".tar.gz", ".tgz")):
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise UserError(f"{path} is not a readable gzip file ({exc})") from None
    if not raw.strip():
        raise UserError(f"{path} is empty; point --pairs at a file with pairs in it")
    return raw


def _tsv_members(path: Path) -> list[tuple[str, bytes]]:
    """(name, UTF-8 text) of the TSV inside ``path``: the file itself, or every ``.tsv`` member of a tar archive."""
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(_existing(path), mode="r|*") as archive:  # one pass: each member decompressed once
                texts = [(m.name, _utf8(archive.extractfile(m).read(), f"{path}:{m.name}")) for m in archive
                         if m.isfile() and m.name.endswith(".tsv")]
        except tarfile.TarError as exc:
            raise UserError(f"{path} is not a readable tar archive ({exc})") from None
        if not texts:
            raise UserError(f"{path} holds no .tsv file; expected an MQM TSV inside the archive")
        return texts
    return [(path.name, _utf8(_read_bytes(path), str(path)))]


def read_mqm_ratings(text: str | bytes, *, origin: str) -> pd.DataFrame:
    """Parse one MQM TSV (WMT/Google layout; text, or its UTF-8 bytes) into ratings with a ``segment`` key column.

    The segment key is ``doc`` plus the first of ``seg_id``/``docSegId``/``globalSegId`` present (TED files use
    ``seg_id``, the generalMT2023 side-by-side files ``docSegId``). Unknown extra columns (``comment``,
    ``metadata``) are ignored. The parser reads the bytes (from a ``str``, its UTF-8 encoding): half the time of
    parsing the text through a ``StringIO`` (WMT23 zh-en, 40 MB: 0.38 s vs 0.67 s).
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    if not data or data.isspace():
        raise UserError(f"{origin} is empty; point --pairs at a file with MQM ratings in it")
    header = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r").split("\t")
    missing = [c for c in MQM_COLUMNS if c not in header]
    seg_column = next((c for c in MQM_SEGMENT_COLUMNS if c in header), None)
    if missing or seg_column is None:
        need = missing + ([] if seg_column else ["seg_id|docSegId"])
        raise UserError(f"{origin} lacks MQM column(s) {', '.join(need)}; expected a WMT MQM TSV with header "
                        f"{chr(9).join(MQM_COLUMNS[:3] + ['seg_id'] + MQM_COLUMNS[3:])}")
    wanted = set(MQM_COLUMNS) | {seg_column}
    needed = max(header.index(c) for c in wanted) + 1   # trailing optional cells (metadata) may be left off
    # the TSV parser's lines are split at \n only: a U+2028 or form feed inside a text is not a line break
    for number, line in enumerate(data.split(b"\n")[1:], start=2):
        cells = line.count(b"\t") + 1
        if cells < needed and line.strip():
            raise UserError(f"{origin} line {number} has {cells} tab-separated cells, but column "
                            f"{header[cells]!r} is cell {cells + 1}: the row is cut short; fix or remove it")
    try:
        ratings = pd.read_csv(io.BytesIO(data), sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False,
                              usecols=lambda c: c in wanted, encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as exc:
        raise UserError(f"{origin} is not a well-formed TSV ({str(exc).splitlines()[0]})") from None
    if ratings.empty:
        raise UserError(f"{origin} has a header but no ratings")
    ratings["segment"] = ratings["doc"] + ":" + ratings[seg_column]
    return ratings


def error_weights(ratings: pd.DataFrame, *, weights: MqmWeights = MqmWeights()) -> np.ndarray:
    """Weight of each rating row (see :class:`MqmWeights`).

    Major → 5, Minor → 1 except Minor ``Fluency/Punctuation`` → 0.1, any ``Non-translation`` category → 25,
    Neutral / No-error / HOTW-test → 0. An unknown severity is a user error (the weighting would be a guess).
    """
    severity = ratings["severity"].str.strip().str.lower()
    category = ratings["category"].str.strip().str.lower()
    known = {"major": weights.major, "minor": weights.minor, "neutral": weights.neutral, "no-error": 0.0,
             "hotw-test": 0.0}
    unknown = sorted(set(severity) - set(known))
    if unknown:
        raise UserError(f"unknown MQM severity {unknown[0]!r}; known: Major, Minor, Neutral, No-error, HOTW-test")
    out = severity.map(known).to_numpy(dtype=float, copy=True)
    out[(severity == "minor").to_numpy() & (category == "fluency/punctuation").to_numpy()] = weights.minor_punctuation
    out[category.str.startswith("non-translation").to_numpy() & (severity != "hotw-test").to_numpy()] = \
        weights.non_translation
    return out


def mqm_segment_scores(ratings: pd.DataFrame, *, weights: MqmWeights = MqmWeights()) -> pd.DataFrame:
    """One row per (segment, system): MQM score, source, clean target text, number of raters.

    score(segment, system) = (1/|R|) Σ_{r∈R} Σ_{e ∈ errors(r)} w(e), R = raters who rated that output
    (Freitag et al. 2021), rounded to 1e-9 so that equal sums added in another order (0.1 + 5 + 0.1 vs
    5 + 0.1 + 0.1) are an exact human tie. In the generalMT2023 side-by-side files one output can be shown twice
    to the same rater under ``SYSTEM_with_OTHER`` names (identical text); those are one system, averaged over all
    its ratings. Targets and sources are stripped of ``<v>…</v>`` (omission errors mark their span in the source);
    when a system's cleaned target, or a segment's cleaned source, differs between rows (annotators occasionally
    mark a stray space), the most frequent version is kept, so a segment has one source.
    """
    rated = ratings.assign(weight=error_weights(ratings, weights=weights),
                           text=strip_error_spans(ratings["target"]),
                           source=strip_error_spans(ratings["source"]),
                           shown_as=ratings["system"],
                           system=ratings["system"].str.replace(_SIDE_BY_SIDE_SUFFIX, "", regex=True))
    keys = ["segment", "system"]
    per_rating = rated.groupby(keys + ["shown_as", "rater"], sort=False)["weight"].sum()
    scores = per_rating.groupby(level=keys, sort=False).agg(score="mean", raters="size")
    scores["score"] = scores["score"].round(9)
    return (scores.join(_most_frequent(rated, keys, "text")).reset_index()
            .join(_most_frequent(rated, ["segment"], "source"), on="segment"))


def _most_frequent(rows: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """The most frequent value of ``column`` per ``keys`` group (first seen on equal counts), indexed by ``keys``."""
    counts = rows.groupby(keys + [column], sort=False).size().rename("count").reset_index()
    return (counts.sort_values("count", ascending=False, kind="stable").drop_duplicates(keys)
            .set_index(keys)[column])


def mqm_pairs(segments: pd.DataFrame, *, name: str, language: str, hard_below: float = 5.0) -> pd.DataFrame:
    """Preference pairs from segment scores: every two non-reference systems on the same segment.

    The output with the lower MQM score is ``chosen``; ``margin`` = |Δ MQM| (rounded to 1e-9, so that float
    subtraction does not move a gap of exactly ``hard_below`` under it); ``subset`` is ``hard`` when
    margin < ``hard_below`` (default 5: less than one Major error apart), else ``easy``. Pairs with equal scores
    are kept as human ties (margin 0, subset ``hard``) for tie-calibrated accuracy; pairs whose two texts are
    identical are dropped (no scorer can tell them apart, and they say nothing about a preference). Human
    reference translations (systems matching :data:`REFERENCE_SYSTEM`) become ``references``, not candidates.
    """
    is_ref = segments["system"].str.match(REFERENCE_SYSTEM).to_numpy()
    references: dict[str, tuple[str, ...]] = {}
    for segment, text in segments[is_ref].sort_values("system")[["segment", "text"]].itertuples(index=False):
        references[segment] = references.get(segment, ()) + (text,)
    systems = segments[~is_ref]
    a, b = _pairs_within(pd.factorize(systems["segment"])[0])  # every two systems of a segment, as merge orders them
    system = systems["system"].to_numpy(dtype=object)
    text = systems["text"].to_numpy(dtype=object)
    keep = system[a] < system[b]
    a, b = a[keep], b[keep]
    identical = text[a] == text[b]
    if identical.any():
        log.info("%s: dropped %d system pairs with identical outputs", name, int(identical.sum()))
    a, b = a[~identical], b[~identical]
    score = systems["score"].to_numpy(dtype=float)
    a_better = score[a] <= score[b]
    chosen, rejected = np.where(a_better, a, b), np.where(a_better, b, a)
    margin = np.round(np.abs(score[a] - score[b]), 9)  # 10.2 − 5.2 is one Major, not < 5
    segment = systems["segment"].to_numpy(dtype=object)
    pairs = pd.DataFrame({
        "pair_id": [f"{name}:{seg}:{win}>{lose}" for seg, win, lose in zip(segment[a], system[chosen], system[rejected])],
        "prompt": systems["source"].to_numpy(dtype=object)[a],
        "chosen": text[chosen],
        "rejected": text[rejected],
        "references": [references.get(seg, ()) for seg in segment[a]],
        "subset": np.where(margin < hard_below, "hard", "easy"),
        "language": language,
        "margin": margin,
    })
    return _finish(pairs)


def _pairs_within(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a, b): every ordered pair of rows with the same ``group``, in the order of a self-merge on it (each row a in
    order, then the rows b of its group in order; a = b included)."""
    order = np.argsort(group, kind="stable")
    size = np.bincount(group)
    start = np.cumsum(size) - size
    per_row = size[group]
    a = np.repeat(np.arange(len(group)), per_row)
    offset = np.arange(per_row.sum()) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    return a, order[np.repeat(start[group], per_row) + offset]


def load_mqm(path: Path, *, hard_below: float = 5.0, weights: MqmWeights = MqmWeights()) -> pd.DataFrame:
    """Pairs from an MQM TSV, plain or a ``.tar.gz`` of TSVs (one language pair per TSV, from its name)."""
    frames = []
    for member, text in _tsv_members(path):
        ratings = read_mqm_ratings(text, origin=f"{path}" if member == path.name else f"{path}:{member}")
        language = language_from_name(Path(member).name) or _language_from_docs(ratings["doc"])
        name = Path(member).name.split(".")[0]
        frames.append(mqm_pairs(mqm_segment_scores(ratings, weights=weights), name=name, language=language,
                                hard_below=hard_below))
    return pd.concat(frames, ignore_index=True)


def _language_from_docs(docs: pd.Series) -> str:
    """generalMT2023 doc ids end in ``:en-de``."""
    suffix = docs.str.extract(r":([a-z]{2}-[a-z]{2})$", expand=False).dropna()
    return suffix.iloc[0] if len(suffix) else ""


# -------------------------------------------------------------------------------------- chosen/rejected records


def _read_records(path: Path) -> list[dict]:
    """Records of a ``.jsonl[.gz]`` / ``.json[.gz]`` (array of objects) / ``.parquet`` file."""
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(_existing(path))
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise UserError(f"{path} is not a readable parquet file ({str(exc).splitlines()[0]})") from None
        if frame.empty:
            raise UserError(f"{path} has no rows; point --pairs at a file with pairs in it")
        return frame.to_dict("records")
    text = _decode(_read_bytes(path), str(path))
    whole = path.name.endswith((".json", ".json.gz")) or text.lstrip().startswith("[")
    if whole:  # one JSON document, pretty-printed or not: an array of objects, one object, or {"data": [...]}
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if isinstance(records, dict):
            records = records["data"] if isinstance(records.get("data"), list) else [records]
        if not isinstance(records, list):
            raise UserError(f"{path} must hold a JSON array of objects (one pair each), or JSON Lines")
    else:
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path} line {number} is not valid JSON ({exc.msg})") from None
    if not all(isinstance(r, dict) for r in records):
        raise UserError(f"{path} must hold JSON objects (one pair each), not bare values")
    return records


def preference_pairs(records: list[dict], *, name: str, origin: str) -> pd.DataFrame:
    """Pairs from RewardBench / M-RewardBench rows: ``prompt``, ``chosen``, ``rejected`` and optionally ``id``,
    ``subset`` (or M-RewardBench's ``category``), ``language``.
    """
    frame = pd.DataFrame.from_records(records)
    _require(frame, ["prompt", "chosen", "rejected"], origin=origin,
             hint="a RewardBench-style file needs prompt, chosen, rejected (and optionally id, subset, language)")
    subset = frame["subset"] if "subset" in frame else frame.get("category", pd.Series(name, index=frame.index))
    language = frame["language"].fillna("").astype(str).to_numpy() if "language" in frame else ""
    return _record_pairs(frame, name=name, origin=origin, prompt=frame["prompt"].to_numpy(),
                         subset=subset.fillna(name).astype(str).to_numpy(), language=language)


def _record_pairs(frame: pd.DataFrame, *, name: str, origin: str, prompt, subset, language) -> pd.DataFrame:
    """The pair table of chosen/rejected rows (no references, no margin); ids from ``id``, else the row number."""
    ids = frame["id"].astype(str) if "id" in frame else pd.Series(np.arange(len(frame)).astype(str))
    pairs = pd.DataFrame({
        "pair_id": (f"{name}:" + ids).to_numpy(),
        "prompt": prompt,
        "chosen": frame["chosen"].to_numpy(),
        "rejected": frame["rejected"].to_numpy(),
        "references": [()] * len(frame),
        "subset": subset,
        "language": language,
        "margin": np.nan,
    })
    return _finish(pairs, origin=origin)


def m_rewardbench_translation_pairs(records: list[dict], *, name: str, origin: str) -> pd.DataFrame:
    """Pairs from the translation subset of M-RewardBench (Gureja et al. 2025, "M-RewardBench: Evaluating Reward
    Models in Multilingual Settings", ACL; the ``translation`` config, ``test`` split, of the Hugging Face data set
    C4AI-Community/multilingual-reward-bench — see :data:`pipeline.scoring.download.M_REWARDBENCH_REVISION` for what of its
    schema was confirmed and what was not).

    Each row is one preference between two translations of ``source``: ``chosen``, ``rejected``, and ``subset`` =
    ``translation-<src>-<tgt>-<easy|hard>`` (:data:`M_REWARDBENCH_SUBSET`), optionally ``id``. The pair's
    ``language`` is ``<src>-<tgt>`` and its ``subset`` the difficulty; its ``prompt`` is the source sentence (what
    COMET/CometKiwi take as ``src`` and a reward model sees as the user turn). There are no human references, so
    reference-based scorers (BLEU, chrF, TER) cannot score these pairs. A row whose ``subset`` does not parse is
    a user error naming the file and the row.
    """
    frame = pd.DataFrame.from_records(records)
    _require(frame, ["source", "chosen", "rejected", "subset"], origin=origin,
             hint="an M-RewardBench translation file needs source, chosen, rejected, subset (and optionally id)")
    _check_strings(frame, ["source", "subset"], origin=origin)
    parsed = frame["subset"].str.extract(M_REWARDBENCH_SUBSET)
    bad = parsed[0].isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise UserError(f"{origin} row {row + 1}: subset {frame['subset'].iloc[row]!r} is not "
                        "translation-<src>-<tgt>-<easy|hard> (e.g. translation-de-en-hard)")
    return _record_pairs(frame, name=name, origin=origin, prompt=frame["source"].to_numpy(),
                         subset=parsed[2].to_numpy(), language=(parsed[0] + "-" + parsed[1]).to_numpy())


def looks_like_m_rewardbench_translation(record: dict) -> bool:
    """A row with a ``source`` and a ``translation-…`` subset."""
    return "source" in record and str(record.get("subset", "")).startswith("translation-")


def split_dialogue(chosen: str, rejected: str) -> tuple[str, str, str]:
    """Split two hh-rlhf transcripts into (shared prompt, chosen response, rejected response).

    The prompt is the longest common prefix of the two transcripts, cut back to its last ``\\n\\nAssistant:``
    turn marker (kept in the prompt); each response is the rest of its transcript.
    """
    limit = min(len(chosen), len(rejected))
    common = next((i for i in range(limit) if chosen[i] != rejected[i]), limit)
    cut = chosen.rfind(_ASSISTANT, 0, common + len(_ASSISTANT))
    cut = cut + len(_ASSISTANT) if cut >= 0 and cut + len(_ASSISTANT) <= common else 0
    return chosen[:cut], chosen[cut:], rejected[cut:]


def hh_rlhf_pairs(records: list[dict], *, name: str, origin: str) -> pd.DataFrame:
    """Pairs from Anthropic hh-rlhf rows (``chosen``/``rejected`` full transcripts); subset = file name."""
    frame = pd.DataFrame.from_records(records)
    _require(frame, ["chosen", "rejected"], origin=origin,
             hint="an hh-rlhf file needs chosen and rejected transcripts")
    _check_strings(frame, ["chosen", "rejected"], origin=origin)
    split = [split_dialogue(c, r) for c, r in zip(frame["chosen"], frame["rejected"])]
    pairs = pd.DataFrame(split, columns=["prompt", "chosen", "rejected"])
    pairs.insert(0, "pair_id", [f"{name}:{i}" for i in range(len(pairs))])
    pairs["references"] = [()] * len(pairs)
    pairs["subset"] = name
    pairs["language"] = "en"
    pairs["margin"] = np.nan
    return _finish(pairs, origin=origin)


# --------------------------------------------------------------------------------------------------- the loaders


def detect_format(path: Path) -> str:
    """``mqm`` for ``.tsv``/``.tar.gz``; ``rewardbench`` for json/jsonl/parquet (whose columns then tell hh-rlhf and
    M-RewardBench translation rows apart, in :func:`load_pairs`)."""
    name = path.name
    if name.endswith((".tsv", ".tsv.gz", ".tar.gz", ".tgz", ".tar")):
        return "mqm"
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet")):
        return "rewardbench"
    raise UserError(f"cannot tell the format of {path} from its name; pass --format {'|'.join(FORMATS)}")


def load_pairs(path: Path, *, fmt: str | None = None, hard_below: float = 5.0) -> pd.DataFrame:
    """The pair table of one file (format from its name, or ``fmt``); see the module docstring for columns."""
    path = Path(path)
    name = path.name.split(".")[0]
    if (fmt or detect_format(_existing(path))) == "mqm":
        pairs = load_mqm(path, hard_below=hard_below)
    else:
        records = _read_records(path)
        if not records:
            raise UserError(f"{path} has no rows; point --pairs at a file with pairs in it")
        looks_hh = "prompt" not in records[0] and "source" not in records[0] and {"chosen", "rejected"} <= set(
            records[0])
        if fmt == "hh-rlhf" or (fmt is None and looks_hh):
            pairs = hh_rlhf_pairs(records, name=name, origin=str(path))
        elif fmt == "m-rewardbench-translation" or (fmt is None and looks_like_m_rewardbench_translation(records[0])):
            pairs = m_rewardbench_translation_pairs(records, name=name, origin=str(path))
        else:
            pairs = preference_pairs(records, name=name, origin=str(path))
    if pairs.empty:
        raise UserError(f"{path} yields no pairs (every segment had fewer than two distinct outputs)")
    return pairs


def _require(frame: pd.DataFrame, columns: list[str], *, origin: str, hint: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UserError(f"{origin} lacks column(s) {', '.join(missing)}; {hint}")


def _check_strings(frame: pd.DataFrame, columns: list[str], *, origin: str) -> None:
    for column in columns:
        if isinstance(frame[column].dtype, pd.StringDtype) and frame[column].notna().all():
            continue  # a string column without missing values: nothing to look at row by row
        bad = ~frame[column].map(lambda v: isinstance(v, str))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UserError(f"{origin} row {row + 1}: {column} is not text ({frame[column].iloc[row]!r})")


def _text_ids(prompts: list[str], texts: list[str]) -> list[str]:
    """:func:`text_id` of each (prompt, text), hashing each distinct one once (an MQM output is in many pairs)."""
    prompt, prompts_seen = pd.factorize(pd.Series(prompts, dtype=object))
    text, texts_seen = pd.factorize(pd.Series(texts, dtype=object))
    key, keys = pd.factorize(prompt.astype(np.int64) * len(texts_seen) + text)
    prompts_seen, texts_seen = prompts_seen.tolist(), texts_seen.tolist()
    ids = np.array([text_id(prompts_seen[k // len(texts_seen)], texts_seen[k % len(texts_seen)])
                    for k in keys.tolist()], dtype=object)
    return ids[key].tolist()


def _finish(pairs: pd.DataFrame, *, origin: str | None = None) -> pd.DataFrame:
    """Validate a pair table and add text ids; ``origin`` names the file in errors."""
    origin = origin or "pairs"
    _check_strings(pairs, ["prompt", "chosen", "rejected"], origin=origin)
    same = (pairs["chosen"] == pairs["rejected"]).to_numpy()
    if same.any():
        raise UserError(f"{origin}: pair {pairs['pair_id'].iloc[int(np.flatnonzero(same)[0])]} has the same text as "
                        f"chosen and rejected ({int(same.sum())} such pairs); drop them from the file")
    duplicated = pairs["pair_id"].duplicated()
    if duplicated.any():
        raise UserError(f"{origin}: pair id {pairs['pair_id'][duplicated].iloc[0]} occurs more than once; "
                        "ids must be unique")
    ids = _text_ids(pairs["prompt"].tolist() * 2, pairs["chosen"].tolist() + pairs["rejected"].tolist())
    pairs["chosen_id"], pairs["rejected_id"] = ids[:len(pairs)], ids[len(pairs):]
    return pairs[PAIR_COLUMNS].reset_index(drop=True)
