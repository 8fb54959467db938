"""Shared words: which field uses which term for the same concept.

The paper argues the fields use redundant terminology for the same ideas (its terminology mapping: "reward
hacking" vs "metric gaming", segment-level meta-evaluation vs a DPO training signal …). ``data/terminology.toml``
lists concepts and, per field, the terms that field uses for each (:mod:`pipeline.terms`). For every concept ×
term × field F (the study fields and ``other``; whole membership, so a multi-label paper counts in each):

    share_{t,F} = k_{t,F} / n_F,

``n_F`` the field's papers and ``k_{t,F}`` those whose title or abstract uses term t. The interval is the
Wilson score interval (Wilson 1927, JASA 22:209; Brown, Cai & DasGupta 2001, Stat. Sci. 16:101 recommend it over
the Wald and the percentile-bootstrap intervals for a proportion): for papers sampled independently it is the
exact inversion of the score test, stays inside [0, 1], and is not degenerate at k = 0 — most terms are used by
no paper of most fields, where a bootstrap interval would be [0, 0] and claim certainty.

**Matching.** Text and terms are compared as sequences of whole words: lower-cased, every run of characters other
than ASCII letters and digits is a word break (so hyphens, dashes, apostrophes and slashes are spaces:
"over-optimization" = "over optimization", "Goodhart's" contains "Goodhart"; "DPO" does not match "DPOs" unless
listed) — the same as a regex ``\bterm\b`` on the folded text. A term may list spelling variants separated by
``|`` (the first is the one shown). The text column is split into words once (pyarrow), each word looked up among
the terms' words by hash (``index_in``), and each variant found as consecutive word positions in one paper: no loop
over papers, and no regex scan per term (85 scans over 1M abstracts take ~30 s; this takes a few).

A term that one of field F's labelling rules matches labels F papers by itself, so its share in F is high by
construction: such rows carry ``labelling_rule = True`` and the headline skips them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import OTHER


@dataclass(frozen=True)
class Term:
    """One term of a concept, as the terminology file gives it."""

    concept: str
    field: str
    """The field whose term it is, according to the file."""
    variants: tuple[str, ...]
    """Spellings; the first is the term's name."""

    @property
    def name(self) -> str:
        return self.variants[0]


_FOLD = np.full(256, ord(" "), dtype=np.uint8)
_FOLD[ord("0"):ord("9") + 1] = np.arange(ord("0"), ord("9") + 1)
_FOLD[ord("a"):ord("z") + 1] = np.arange(ord("a"), ord("z") + 1)
_FOLD[ord("A"):ord("Z") + 1] = np.arange(ord("a"), ord("z") + 1)
"""The folding as a byte map: ASCII letters lower-cased, digits kept, every other byte (UTF-8 multi-byte sequences
included) a space."""


def words(text) -> pa.ListArray:
    """Each text (a string array) as its list of words: lower case, broken at every run of characters other than
    a-z and 0-9. The folding is a byte map over the array's data buffer (offsets unchanged: every byte maps to one
    byte), several times faster than an RE2 replace over the same text."""
    array = pa.array(text, type=pa.string()) if not isinstance(text, (pa.Array, pa.ChunkedArray)) else text
    array = (array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array).cast(pa.string())
    validity, offsets, data = array.buffers()
    folded = _FOLD[np.frombuffer(data, dtype=np.uint8)] if data is not None else np.empty(0, np.uint8)
    plain = pa.StringArray.from_buffers(len(array), offsets, pa.py_buffer(folded), validity, array.null_count,
                                        array.offset)
    return pc.ascii_split_whitespace(plain)


def term_words(variant: str) -> tuple[str, ...]:
    """A term variant's words, split as :func:`words` splits texts."""
    return tuple(re.sub(r"[^a-z0-9]+", " ", variant.lower()).split())


def term_hits(text, terms: Sequence[Term]) -> tuple[np.ndarray, np.ndarray]:
    """The (paper, term) pairs, each once, where the text (a string array) uses the term (any variant, as
    consecutive words): two index arrays."""
    lists = words(text)
    found = [(np.empty(0, np.int64), np.empty(0, np.int64))]
    vocabulary = sorted({w for term in terms for v in term.variants for w in term_words(v)})
    if not vocabulary or not len(lists):
        return found[0]
    offsets = lists.offsets.to_numpy()
    paper = np.repeat(np.arange(len(lists)), np.diff(offsets))
    code = pc.fill_null(pc.index_in(lists.values[offsets[0]:offsets[-1]], value_set=pa.array(vocabulary)),
                        -1).to_numpy()
    relevant = np.flatnonzero(code >= 0)
    by_word = relevant[np.argsort(code[relevant], kind="stable")]
    bounds = np.searchsorted(code[by_word], np.arange(len(vocabulary) + 1))
    index = {w: i for i, w in enumerate(vocabulary)}
    for t, term in enumerate(terms):
        for variant in term.variants:
            ids = [index[w] for w in term_words(variant)]
            if not ids:
                continue
            start = by_word[bounds[ids[0]]:bounds[ids[0] + 1]]
            for offset, word in enumerate(ids[1:], start=1):
                after = start + offset
                start = start[after < len(code)]
                after = start + offset
                start = start[(code[after] == word) & (paper[after] == paper[start])]
            found.append((paper[start], np.full(len(start), t)))
    key = np.unique(np.concatenate([p for p, _ in found]) * len(terms) + np.concatenate([t for _, t in found]))
    return key // len(terms), key % len(terms)


def wilson_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval ``(p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`` of k successes in n;
    NaN for n = 0."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    z = NormalDist().inv_cdf((1 + level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))    # exact bounds at the edges, not rounding noise
    high = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def membership(labels, fields: Sequence[str]) -> np.ndarray:
    """(papers × fields) whole membership from ``|``-joined label strings (a missing label is ``other``)."""
    joined = pc.fill_null(pa.array(labels, type=pa.string(), from_pandas=True), OTHER)
    padded = pc.binary_join_element_wise("|", joined, "|", "")
    return np.column_stack([pc.match_substring(padded, f"|{name}|").to_numpy(zero_copy_only=False)
                            for name in fields]).astype(bool)


@dataclass(frozen=True)
class UsageCounts:
    """What the terminology table is made of, summable over any split of the papers (one engine's partitions):
    per field, its papers, those with an abstract, and per term those using it; and the papers in all."""

    using: np.ndarray
    """(fields, terms): papers of the field whose title or abstract uses the term."""
    papers: np.ndarray
    """(fields,): papers of the field (whole membership)."""
    with_abstract: np.ndarray
    """(fields,): of them, with an abstract."""
    total: int = 0
    """Papers counted (each once)."""
    total_with_abstract: int = 0

    def __add__(self, other: "UsageCounts") -> "UsageCounts":
        return UsageCounts(self.using + other.using, self.papers + other.papers,
                           self.with_abstract + other.with_abstract, self.total + other.total,
                           self.total_with_abstract + other.total_with_abstract)

    @classmethod
    def zero(cls, n_fields: int, n_terms: int) -> "UsageCounts":
        return cls(np.zeros((n_fields, n_terms), np.int64), np.zeros(n_fields, np.int64),
                   np.zeros(n_fields, np.int64))


def count_usage(title, abstract, member: np.ndarray, terms: Sequence[Term]) -> UsageCounts:
    """The :class:`UsageCounts` of some papers: ``title`` and ``abstract`` string arrays (null = none),
    ``member`` their (papers × fields) whole membership. Texts are title + " " + abstract, matched by
    :func:`term_hits`."""
    title, abstract = _string_array(title), _string_array(abstract)
    has_abstract = abstract.is_valid().to_numpy(zero_copy_only=False)
    title, abstract = pc.fill_null(title, ""), pc.fill_null(abstract, "")
    text = pc.binary_join_element_wise(title, abstract, " ")
    member = np.asarray(member, dtype=bool)
    paper, term = term_hits(text, terms)
    using = np.zeros((member.shape[1], len(terms)), np.int64)
    for f in range(member.shape[1]):
        using[f] = np.bincount(term[member[paper, f]], minlength=len(terms))
    return UsageCounts(using=using, papers=member.sum(axis=0).astype(np.int64),
                       with_abstract=member[has_abstract].sum(axis=0).astype(np.int64), total=len(member),
                       total_with_abstract=int(has_abstract.sum()))


def _string_array(values) -> pa.Array:
    """A string column (pandas, a list, an Arrow array or chunked array) as one Arrow string array (NaN, None →
    null)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values, type=pa.string(), from_pandas=True)


def usage_table(papers: pd.DataFrame, labels: pd.Series, terms: Sequence[Term], *, fields: Sequence[str],
                rules: dict[str, Sequence[str]] | None = None, level: float = 0.95) -> pd.DataFrame:
    """``terminology.csv`` of ``papers`` (needs ``title`` and ``abstract``; ``labels`` aligned with it,
    ``|``-joined field names): :func:`table_from_counts` of their :func:`count_usage`."""
    counts = count_usage(papers["title"], papers["abstract"], membership(labels, fields), terms)
    return table_from_counts(counts, terms, fields=fields, rules=rules, level=level)


def table_from_counts(counts: UsageCounts, terms: Sequence[Term], *, fields: Sequence[str],
                      rules: dict[str, Sequence[str]] | None = None, level: float = 0.95) -> pd.DataFrame:
    """``terminology.csv``: per concept × term × field (``fields``, ``other`` last): ``papers`` (the field's
    papers), ``with_abstract`` (of them, with an abstract), ``using`` (whose title or abstract uses the term),
    ``share``, ``ci_low``, ``ci_high`` (Wilson), ``term_field`` (whose term the file says it is) and
    ``labelling_rule`` (one of the field's ``rules`` — regexes, as in the config — matches the term itself)."""
    using = counts.using.astype(np.float64)
    n = counts.papers.astype(np.float64)
    low, high = wilson_interval(using, n[:, None], level)
    k = len(fields)
    frame = pd.DataFrame({
        "concept": np.tile([t.concept for t in terms], k), "term": np.tile([t.name for t in terms], k),
        "term_field": np.tile([t.field for t in terms], k), "field": np.repeat(list(fields), len(terms)),
        "papers": np.repeat(counts.papers, len(terms)).astype(np.int64),
        "with_abstract": np.repeat(counts.with_abstract, len(terms)).astype(np.int64),
        "using": counts.using.ravel().astype(np.int64)})
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["share"] = (using / n[:, None]).ravel()
    frame["ci_low"], frame["ci_high"] = low.ravel(), high.ravel()
    rules = rules or {}
    frame["labelling_rule"] = [any(re.search(rule, term, flags=re.IGNORECASE) for rule in rules.get(field, ()))
                               for term, field in zip(frame["term"], frame["field"])]
    return frame


def headline_terms(table: pd.DataFrame, *, fields: Sequence[str]) -> pd.DataFrame:
    """Per concept and study field: the concept's term most used by the field's papers (terms that are the
    field's own labelling rules left out; ties → the term listed first), with its share and interval. Rows
    only where the field uses some term of the concept. Columns: concept, field, term, share, ci_low, ci_high,
    using, papers."""
    rows = table[table["field"].isin(fields) & ~table["labelling_rule"] & (table["using"] > 0)]
    order = rows.assign(rank=np.arange(len(rows))).sort_values(["share", "rank"], ascending=[False, True],
                                                               kind="stable")
    best = order.drop_duplicates(["concept", "field"])
    concepts = list(dict.fromkeys(table["concept"]))
    best = best.assign(c=best["concept"].map({c: i for i, c in enumerate(concepts)}),
                       f=best["field"].map({f: i for i, f in enumerate(fields)})).sort_values(["c", "f"])
    return best[["concept", "field", "term", "share", "ci_low", "ci_high", "using", "papers"]].reset_index(drop=True)
