"""Field labelling: which of the study's fields each paper belongs to, and why.

Precedence, per paper (a paper may carry several labels):

1. **override** — the rows of the overrides file (``paper_id,field``) for the paper replace everything else;
2. **seed** — otherwise, the fields whose seed set (the ``seeds`` table: explicit ids and bulk-search hits)
   contains the paper;
3. **rule** — otherwise, the fields with at least one keyword rule (case-insensitive regular expression)
   matching the title or the abstract; the reason names the field's first matching rule in config order;
4. **default** — otherwise ``other``.

The result is the ``labels`` table: ``paper_id``, ``labels`` (``|``-joined in config field order, ``other``
when none) and ``reasons`` (``|``-joined ``field:reason`` with reason ``seed``, ``rule:<name>``, ``override``
or ``default``). Work is vectorised over papers: one regex pass per rule, and the label strings are built once
per distinct combination of reasons, not once per paper.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline import OTHER
from pipeline.config import FieldSpec
from pipeline.errors import UserError

log = logging.getLogger(__name__)

# Per paper and field, the reason code: 0 = not labelled, 1 = seed, 2 = override, 3 + r = rule number r.
_NONE, _SEED, _OVERRIDE, _RULE = 0, 1, 2, 3


def read_overrides(path: Path, *, field_names: Sequence[str]) -> pd.DataFrame:
    """Read the manual overrides CSV (columns ``paper_id,field``; ``field`` is a config field or ``other``).

    A missing file, missing columns or an unknown field is a :class:`UserError` naming the file (and the field).
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype="string", comment="#", skipinitialspace=True)
    except FileNotFoundError:
        raise UserError(f"overrides file {path} not found: fix study.overrides in the config") from None
    missing = {"paper_id", "field"} - set(frame.columns)
    if missing:
        raise UserError(f"overrides file {path} lacks column(s) {', '.join(sorted(missing))}: "
                        "it needs a header paper_id,field")
    frame = frame[["paper_id", "field"]].dropna().apply(lambda column: column.str.strip())
    allowed = set(field_names) | {OTHER}
    unknown = sorted(set(frame["field"]) - allowed)
    if unknown:
        raise UserError(f"overrides file {path} names unknown field {unknown[0]!r}; "
                        f"allowed: {', '.join([*field_names, OTHER])}")
    return frame.drop_duplicates().reset_index(drop=True)


def label_papers(papers: pd.DataFrame, seeds: pd.DataFrame, *, fields: Sequence[FieldSpec],
                 overrides: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``labels`` table for every row of ``papers`` (same order), by override > seed > rule > other.

    ``papers`` needs ``paper_id``, ``title``, ``abstract``; ``seeds`` needs ``field`` and ``paper_id`` (seeds of
    fields the config does not define are ignored with a warning); ``overrides`` needs ``paper_id`` and ``field``
    (see :func:`read_overrides`). An override to ``other`` together with a real field for the same paper is a
    :class:`UserError`.
    """
    names = [spec.name for spec in fields]
    ids = papers["paper_id"].astype("string")
    codes = np.zeros((len(papers), len(fields)), dtype=np.int64)
    text = _title_and_abstract(papers)
    for column, spec in enumerate(fields):
        codes[:, column] = _first_matching_rule(text, spec.rules)
    seeded, _ = _membership(ids, seeds, names)
    foreign = sorted(set(seeds["field"].astype("string")) - set(names))
    if foreign:
        log.warning("the seeds table lists fields the config does not define (%s): ignored", ", ".join(foreign))
    codes[seeded.any(axis=1)] = _NONE
    codes[seeded] = _SEED
    forced_other = np.zeros(len(papers), dtype=bool)
    if overrides is not None and len(overrides):
        overridden, stray = _membership(ids, overrides, [*names, OTHER])
        if stray.any():
            log.warning("overrides name %d paper(s) not in the papers table: ignored", int(stray.sum()))
        overridden, forced_other = overridden[:, :-1], overridden[:, -1]
        clash = forced_other & overridden.any(axis=1)
        if clash.any():
            raise UserError(f"overrides give paper {ids.iloc[np.argmax(clash)]} both {OTHER!r} and a field: keep one")
        touched = overridden.any(axis=1) | forced_other
        codes[touched] = _NONE
        codes[overridden] = _OVERRIDE
    labels, reasons = _label_strings(codes, forced_other, fields)
    return pd.DataFrame({"paper_id": papers["paper_id"].astype("string").to_numpy(),
                         "labels": pd.array(labels, dtype="string"),
                         "reasons": pd.array(reasons, dtype="string")})


def label_counts(labels: pd.DataFrame, *, field_names: Sequence[str]) -> dict[str, int]:
    """Papers per label (a multi-label paper counts once in each of its fields), ``other`` included."""
    exploded = labels["labels"].str.split("|").explode()
    counts = exploded.value_counts()
    return {name: int(counts.get(name, 0)) for name in [*field_names, OTHER]}


def _title_and_abstract(papers: pd.DataFrame) -> pd.Series:
    title = papers["title"].astype("string").fillna("")
    abstract = papers["abstract"].astype("string").fillna("")
    return title.str.cat(abstract, sep="\n")


def _first_matching_rule(text: pd.Series, rules: dict[str, str]) -> np.ndarray:
    """Per paper: ``3 + r`` for the first rule ``r`` (config order) matching ``text``, else 0."""
    code = np.zeros(len(text), dtype=np.int64)
    for number, pattern in reversed(list(enumerate(rules.values()))):
        with warnings.catch_warnings():  # "has match groups": we only want the boolean, groups are the user's
            warnings.simplefilter("ignore", UserWarning)
            hit = text.str.contains(pattern, case=False, regex=True).fillna(False).to_numpy(dtype=bool)
        code[hit] = _RULE + number
    return code


def _membership(ids: pd.Series, table: pd.DataFrame, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Boolean (papers × names): ``table`` (``paper_id``, ``field``) lists the paper under that name; and the
    rows of ``table`` under one of ``names`` whose ``paper_id`` is not among ``ids``."""
    listed_ids, listed_fields = table["paper_id"].astype("string"), table["field"].astype("string").fillna("")
    member = np.column_stack([ids.isin(listed_ids[listed_fields == name]).to_numpy(dtype=bool) for name in names])
    stray = (listed_fields.isin(names) & ~listed_ids.isin(ids)).to_numpy(dtype=bool)
    return member.reshape(len(ids), len(names)), stray


def _label_strings(codes: np.ndarray, forced_other: np.ndarray, fields: Sequence[FieldSpec]):
    """The ``labels`` and ``reasons`` strings, built once per distinct row of reason codes."""
    keyed = np.column_stack([codes, forced_other.astype(np.int64)])
    distinct, inverse = np.unique(keyed, axis=0, return_inverse=True)
    labels, reasons = [], []
    for row in distinct:
        named = [(spec.name, _reason(code, spec)) for spec, code in zip(fields, row[:-1]) if code != _NONE]
        if not named:
            named = [(OTHER, "override" if row[-1] else "default")]
        labels.append("|".join(name for name, _ in named))
        reasons.append("|".join(f"{name}:{reason}" for name, reason in named))
    inverse = inverse.reshape(-1)
    return np.array(labels, dtype=object)[inverse], np.array(reasons, dtype=object)[inverse]


def _reason(code: int, spec: FieldSpec) -> str:
    if code == _SEED:
        return "seed"
    if code == _OVERRIDE:
        return "override"
    return "rule:" + list(spec.rules)[code - _RULE]
