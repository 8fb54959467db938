"""Cross-field citation statistics, vectorised over the edge table (no Python loop over edges or papers).

Notation. The study has fields ``F_1 … F_n`` plus ``other`` (``K = n + 1`` labels); a paper with no study field
is ``other``. A citation (edge) goes from a *citing* paper ``i`` with label set ``L_i`` (``k = |L_i|``) to a *cited*
paper ``j`` with label set ``L_j`` (``m = |L_j|``). The mixing matrix ``M`` (K × K, rows = citing field):

* **fractional** counting (default): every edge adds ``1/(k·m)`` to ``M[A, B]`` for each ``A ∈ L_i``,
  ``B ∈ L_j`` — each edge has total weight 1, a paper with k labels counts 1/k to each;
* **whole** counting: every edge adds 1 to each such pair (total weight ``k·m``).

From ``M``: shares ``s_AB = M_AB / Σ_B' M_AB'``; the normalised matrix ``e = M / ΣM`` with row sums ``a`` and
column sums ``b`` (Newman 2003); observed/expected ``e_AB / (a_A · b_B) = s_AB / b_B`` (1 = random mixing, with
``expected_share = b_B``); the E-I index per field (Krackhardt & Stern 1988); attribute assortativity
(Newman 2003). Confidence intervals: percentile bootstrap over citing papers (Efron & Tibshirani 1993) — see
:func:`bootstrap_sums`.

Internally, papers are integer codes and labels are bitmasks over the study fields (0 = ``other``); everything
is a ``np.bincount`` or a small matrix product over those codes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from pipeline import OTHER
from pipeline.stats import ANY_OTHER_FIELD, COUNTING
from pipeline.stats.bootstrap import BootstrapParams, percentile_interval

log = logging.getLogger(__name__)

NO_YEAR = -1
"""The year code of citing papers without a publication year."""
MIN_BOOTSTRAP_PAPERS = 2
"""Fewest citing papers of a field for a bootstrap interval: resampling a single paper only ever reproduces it,
so its percentile interval has zero width and would claim certainty; the interval is NaN instead."""



@dataclass(frozen=True)
class CitationData:
    """The cleaned edge table as integer codes, with the papers it refers to.

    ``papers`` (columns ``paper_id``, ``title``, ``year``, ``labels``) is indexed by paper code; ``mask_code[p]``
    indexes ``masks`` (the distinct label bitmasks; bit f = study field f, 0 = ``other``).
    """

    fields: tuple[str, ...]
    """The K labels: the study fields in config order, then ``other``."""
    papers: pd.DataFrame
    masks: np.ndarray
    mask_code: np.ndarray
    citing: np.ndarray
    cited: np.ndarray
    influential: np.ndarray
    """Per edge: 1 influential, 0 not, -1 unknown."""
    intent_code: np.ndarray
    """Per edge: index into ``intent_sets``."""
    intent_sets: tuple[tuple[str, ...], ...]
    dropped: dict[str, int]
    """Edges removed while cleaning: ``unknown_papers``, ``self_citations``, ``duplicates``."""

    @property
    def n_fields(self) -> int:
        return len(self.fields) - 1

    @property
    def paper_masks(self) -> np.ndarray:
        return self.masks[self.mask_code]


def encode(papers: pd.DataFrame, labels: pd.DataFrame, citations: pd.DataFrame | pa.Table, *,
           field_names: Sequence[str]) -> CitationData:
    """Clean and encode the ``citations`` table against ``papers`` and their ``labels``.

    Cleaning, each counted in ``dropped``: edges with an endpoint missing from ``papers`` are dropped (a paper we
    have no record of cannot be labelled by rule, and calling it ``other`` would inflate ``other``);
    self-citations are dropped; duplicate (citing, cited) pairs keep their first row. Duplicate paper ids keep
    their first row; papers without a ``labels`` row are ``other``.

    ``citations`` may be a pandas frame or an arrow table (its ``intents`` may be dictionary-encoded, as
    :func:`pipeline.tables.read_arrow` reads it): ids become paper codes with one hash lookup per column.
    """
    papers = papers.iloc[_first_rows(papers["paper_id"])].reset_index(drop=True)
    ids = papers["paper_id"]
    masks, mask_code = np.unique(_paper_masks(ids, labels, field_names), return_inverse=True)
    mask_code = mask_code.reshape(-1)
    rows, citing, cited, dropped = _clean_edges(ids, citations)
    influential = pc.fill_null(pc.cast(_arrow(citations["is_influential"]), pa.int8()), -1).to_numpy()
    intent_code, intent_strings = _factorize(citations["intents"])
    return CitationData(
        fields=(*field_names, OTHER),
        papers=pd.DataFrame({"paper_id": ids.astype("string"), "title": papers["title"].astype("string"),
                             "year": papers["year"].astype("Int64"),
                             "labels": pd.Categorical.from_codes(
                                 mask_code, categories=[mask_names(mask, field_names) for mask in masks])}),
        masks=masks, mask_code=mask_code, citing=citing, cited=cited,
        influential=influential[rows], intent_code=intent_code[rows],
        intent_sets=tuple(tuple(sorted(set(s.split("|")) - {""})) for s in intent_strings),
        dropped=dropped,
    )


def _paper_masks(ids: pd.Series, labels: pd.DataFrame, field_names: Sequence[str]) -> np.ndarray:
    """Label bitmask of each paper id (0 = ``other``, also for papers without a labels row)."""
    aligned = len(labels) == len(ids) and bool(pc.all(pc.equal(_strings(labels["paper_id"]), _strings(ids))).as_py())
    rows = np.arange(len(ids)) if aligned else _positions(labels["paper_id"], ids)
    label_code, label_strings = pd.factorize(labels["labels"].astype("string").fillna(OTHER))
    masks = np.append(_label_masks(label_strings, field_names), 0)  # the last entry: no labels row
    return masks[np.where(rows >= 0, label_code[np.maximum(rows, 0)], -1)]


def _first_rows(ids) -> np.ndarray:
    """Positions of the first row of each distinct id (a lookup of the ids among themselves finds the first)."""
    return np.flatnonzero(_positions(ids, ids) == np.arange(len(ids)))


def _clean_edges(ids: pd.Series, citations: pd.DataFrame | pa.Table):
    """The citation rows kept, their citing and cited paper codes, and the counts of dropped rows by reason."""
    citing_ids, cited_ids = _strings(citations["citing_id"]), _strings(citations["cited_id"])
    endpoints = _positions(ids, pa.chunked_array([*citing_ids.chunks, *cited_ids.cast(citing_ids.type).chunks],
                                                 type=citing_ids.type))  # one hash table for both columns
    citing, cited = endpoints[:len(citing_ids)], endpoints[len(citing_ids):]
    known = (citing >= 0) & (cited >= 0)
    not_self = citing != cited
    rows = np.flatnonzero(known & not_self)
    key = citing[rows] * len(ids) + cited[rows]
    # fetch writes its edges sorted: strictly increasing keys have no repeats, and checking that is O(n)
    repeated = np.zeros(len(key), dtype=bool) if (np.diff(key) > 0).all() else pd.Index(key).duplicated(keep="first")
    dropped = {"unknown_papers": int((~known).sum()), "self_citations": int((known & ~not_self).sum()),
               "duplicates": int(repeated.sum())}
    rows = rows[~repeated]
    return rows, citing[rows], cited[rows], dropped


def paper_codes(data: CitationData, ids) -> np.ndarray:
    """The code (row of ``data.papers``) of each of ``ids``, -1 for ids not among the papers."""
    return _positions(data.papers["paper_id"], ids)


def _positions(haystack, needles) -> np.ndarray:
    """Position of each of ``needles`` in ``haystack`` (unique ids), -1 when absent (a pyarrow hash lookup)."""
    found = pc.index_in(_strings(needles), value_set=_strings(haystack))
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


def _arrow(values) -> pa.ChunkedArray:
    """A column (pandas or arrow) as an arrow chunked array, without copying arrow-backed data."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, from_pandas=True)
    return pa.chunked_array([values]) if isinstance(values, pa.Array) else values


def _strings(values) -> pa.ChunkedArray:
    values = _arrow(values)
    return values if values.type in (pa.string(), pa.large_string()) else values.cast(pa.string())


def _factorize(values) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct strings of a string column (null counts as ``""``); dictionary columns are used as
    they are, so a dictionary-encoded column is never expanded to its strings."""
    values = _arrow(values)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(_strings(values))
    values = values.unify_dictionaries()
    strings = values.chunk(0).dictionary.to_pylist() if values.num_chunks else []
    indices = pa.chunked_array([chunk.indices for chunk in values.chunks], type=values.type.index_type)
    codes = pc.fill_null(indices, len(strings)).to_numpy().astype(np.int64)
    return codes, [s or "" for s in strings] + [""]


def mask_names(mask: int, field_names: Sequence[str]) -> str:
    """The ``|``-joined labels of a bitmask, in config order (``other`` for 0)."""
    return "|".join(name for f, name in enumerate(field_names) if mask >> f & 1) or OTHER


def _label_masks(label_strings: Sequence[str], field_names: Sequence[str]) -> np.ndarray:
    """Bitmask per ``|``-joined label string (names outside ``field_names``, e.g. ``other``, set no bit)."""
    bit = {name: 1 << f for f, name in enumerate(field_names)}
    return np.array([sum(bit.get(name, 0) for name in set(s.split("|"))) for s in label_strings], dtype=np.int64)


def label_weights(masks: np.ndarray, *, n_fields: int, counting: str = "fractional") -> np.ndarray:
    """Weight of each label (K = n_fields + 1 columns, ``other`` last) for papers with the given bitmasks.

    Whole: 1 for each label of the paper. Fractional: ``1/k`` for each of its k labels (rows sum to 1).
    A paper with no study field has the single label ``other``.
    """
    if counting not in COUNTING:
        raise ValueError(f"counting must be one of {COUNTING}, got {counting!r}")
    masks = np.asarray(masks, dtype=np.int64)
    member = ((masks[:, None] >> np.arange(n_fields)) & 1).astype(np.float64)
    member = np.column_stack([member, masks == 0])
    return member / member.sum(axis=1, keepdims=True) if counting == "fractional" else member


def mixing_matrix(data: CitationData, *, counting: str = "fractional", edges: np.ndarray | None = None) -> np.ndarray:
    """The K × K mixing matrix ``M[A, B]`` of citations from field-A papers to field-B papers.

    Fractional: each edge i → j adds ``1/(k·m)`` to every pair (A ∈ L_i, B ∈ L_j); whole: adds 1 (see the module
    docstring). Computed as ``M = Wᵀ C W`` where ``C[p, q]`` counts edges from label set p to label set q (one
    ``np.bincount`` over the edges) and ``W`` holds the label weights of each label set. ``edges``: an optional
    boolean selection of edges (e.g. one citation intent).
    """
    n_sets = len(data.masks)
    pair = data.mask_code[data.citing] * n_sets + data.mask_code[data.cited]
    if edges is not None:
        pair = pair[edges]
    return _weighted(np.bincount(pair, minlength=n_sets * n_sets).reshape(n_sets, n_sets), data, counting)


def _weighted(counts: np.ndarray, data: CitationData, counting: str) -> np.ndarray:
    """``Wᵀ C W``: label-set pair counts ``C`` to the K × K mixing matrix."""
    return mixing_from_set_counts(counts, data.masks, n_fields=data.n_fields, counting=counting)


def mixing_from_set_counts(counts: np.ndarray, masks: np.ndarray, *, n_fields: int,
                           counting: str = "fractional") -> np.ndarray:
    """``M = Wᵀ C W`` from ``C[p, q]``, the edges from label set ``masks[p]`` to label set ``masks[q]`` (what an
    engine that aggregates elsewhere, e.g. Spark, hands over); see :func:`mixing_matrix`."""
    weights = label_weights(masks, n_fields=n_fields, counting=counting)
    return weights.T @ np.asarray(counts) @ weights


def shares(mixing: np.ndarray) -> np.ndarray:
    """Share of field A's references going to field B: ``s_AB = M_AB / Σ_B' M_AB'`` (NaN for a field with none)."""
    mixing = np.asarray(mixing, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mixing / mixing.sum(axis=-1, keepdims=True)


def expected_shares(mixing: np.ndarray) -> np.ndarray:
    """Share under random mixing: ``b_B = Σ_A e_AB`` with ``e = M / ΣM`` (Newman 2003), one value per cited field."""
    mixing = np.asarray(mixing, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return mixing.sum(axis=-2) / mixing.sum(axis=(-2, -1))[..., None]


def obs_exp(mixing: np.ndarray) -> np.ndarray:
    """Observed/expected ratio ``e_AB / (a_A · b_B)`` on ``e = M / ΣM`` with ``a`` = row sums, ``b`` = column sums.

    1 means field-A papers cite field B as often as random mixing would (Newman 2003, "Mixing patterns in
    networks", Phys. Rev. E 67, 026126, eq. 1-2); > 1 over-, < 1 under-representation. Equal to
    ``s_AB / b_B``. NaN where ``a_A`` or ``b_B`` is 0.

    The rows of ``M`` are the citing papers in the table and the columns everything they cite, so ``a`` and ``b``
    are different populations (when only the seeds' references are fetched, ``a_other`` is 0 while ``b_other`` is
    large). "Random mixing" here is the independence model of this citing × cited table: the cited field of a
    reference drawn at random from all analysed references, whatever its citing field. ``b_B`` is therefore the
    pooled reference profile of the citing papers and depends on how many papers of each field cite (the seed
    sets' sizes); it is not field B's share of the literature.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return shares(mixing) / expected_shares(mixing)[..., None, :]


def ei_index(mixing: np.ndarray) -> np.ndarray:
    """E-I index per citing field: ``(E − I) / (E + I)`` (Krackhardt & Stern 1988, Soc. Psychol. Q. 51:123).

    ``I = M_AA`` (references within the field), ``E = Σ_{B≠A} M_AB`` (to every other label, ``other`` included).
    −1: all references internal; +1: all external. NaN for a field without references.
    """
    mixing = np.asarray(mixing, dtype=np.float64)
    internal = np.diagonal(mixing, axis1=-2, axis2=-1)
    external = mixing.sum(axis=-1) - internal
    with np.errstate(invalid="ignore", divide="ignore"):
        return (external - internal) / (external + internal)


def assortativity(mixing: np.ndarray) -> float:
    """Attribute assortativity ``r = (Σ_i e_ii − Σ_i a_i b_i) / (1 − Σ_i a_i b_i)`` (Newman 2003, eq. 2).

    The same coefficient as ``networkx.attribute_assortativity_coefficient``, here on the (fractional or whole)
    mixing matrix. 1: citations stay within fields; 0: random mixing; NaN without citations or when all of them
    are in one field.
    """
    mixing = np.asarray(mixing, dtype=np.float64)
    if not mixing.sum():
        return float("nan")
    e = mixing / mixing.sum()
    ab = float(e.sum(axis=1) @ e.sum(axis=0))
    return float((np.trace(e) - ab) / (1 - ab)) if ab < 1 else float("nan")


# --- per-citing-paper profiles and the bootstrap -------------------------------------------------------------


FEATURE_BLOCKS = (("mixing", 2), ("hits", 2), ("any_other", 1), ("papers", 1))
"""The named blocks of a citing paper's feature vector, in order, each with its number of K-sized axes
(``mixing``, ``hits``: K × K; ``any_other``, ``papers``: K); see :class:`CitingProfiles`. A new per-paper
statistic adds a block here and in :func:`citing_profiles`, and reads it back by name with :func:`feature_blocks`."""


@dataclass(frozen=True)
class CitingProfiles:
    """Citing papers grouped into *types*: papers of the same citing year, label set and reference counts per
    cited label set have identical contributions to every statistic below, so they are stored once with a count.

    ``features`` (types × (2K² + 2K)) per type is the concatenation of, for one paper of that type:
    the K × K mixing contribution ``w_A · r_B`` (``w`` = citing label weights, ``r`` = summed label weights of its
    references); the K × K overlap indicators ``v_A · [cites ≥1 paper labelled B]`` (``v`` = whole membership);
    ``v_A · [cites ≥1 paper of a study field other than A]``; and ``v_A``.
    """

    n_labels: int
    year: np.ndarray
    """Citing year per type (``NO_YEAR`` when unknown)."""
    count: np.ndarray
    features: np.ndarray


def citing_profiles(data: CitationData, *, counting: str = "fractional") -> CitingProfiles:
    """Aggregate the edges into per-citing-paper feature vectors, grouped into types (see :class:`CitingProfiles`)."""
    types, count = citing_types(data)
    return profiles_from_types(types, count, data.masks, n_fields=data.n_fields, counting=counting)


def citing_types(data: CitationData) -> tuple[np.ndarray, np.ndarray]:
    """The distinct citing-paper types and how many papers each has: rows (citing year or ``NO_YEAR``, index of
    the citing label set in ``data.masks``, then per label set q the paper's references to papers of label set
    q), as the Spark engine collects them (:mod:`pipeline.spark.study`)."""
    n_sets = len(data.masks)
    citers, local = _citers(data)
    refs = np.bincount(local * n_sets + data.mask_code[data.cited],
                       minlength=len(citers) * n_sets).reshape(len(citers), n_sets)
    years = data.papers["year"].to_numpy(dtype=np.float64, na_value=np.nan)[citers]
    year = np.where(np.isnan(years), NO_YEAR, years).astype(np.int64)
    return _distinct_rows(np.column_stack([year, data.mask_code[citers], refs]))


def canonical_types(types: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Types (and their counts) in one canonical, lexicographic order: any engine computing the same types, in
    any order, then sums them in the same order and gets the same numbers to the last bit."""
    types, count = np.asarray(types, dtype=np.int64), np.asarray(count, dtype=np.int64)
    order = np.lexsort(types.T[::-1]) if len(types) else np.arange(0)
    return types[order], count[order]


def profiles_from_types(types: np.ndarray, count: np.ndarray, masks: np.ndarray, *, n_fields: int,
                        counting: str = "fractional") -> CitingProfiles:
    """:class:`CitingProfiles` from distinct citing-paper types and how many papers each has.

    ``types`` rows are (citing year or ``NO_YEAR``, index of the citing label set in ``masks``, then per label set
    q the paper's references to papers of label set q). The types are put in one canonical (lexicographic) order
    first, so any engine that computes the same types — in any order, e.g. collected from Spark — gets the same
    profiles, hence the same point estimates and the same bootstrap draws for the same seed.
    """
    types, count = canonical_types(types, count)
    year, citing_set, refs = types[:, 0], types[:, 1], types[:, 2:].astype(np.float64)

    n_labels = n_fields + 1
    weights = label_weights(masks, n_fields=n_fields, counting=counting)
    member = label_weights(masks, n_fields=n_fields, counting="whole")
    w, v = weights[citing_set], member[citing_set]
    received = refs @ weights
    hits = (refs @ member) > 0
    study_hits = hits[:, :-1].sum(axis=1, keepdims=True)
    other_study_field = np.column_stack([study_hits - hits[:, :-1], study_hits]) > 0
    blocks = {"mixing": w[:, :, None] * received[:, None, :], "hits": v[:, :, None] * hits[:, None, :],
              "any_other": v * other_study_field, "papers": v}
    features = np.column_stack([blocks[name].reshape(len(types), n_labels ** axes) for name, axes in FEATURE_BLOCKS])
    return CitingProfiles(n_labels=n_labels, year=year, count=count, features=features)


def _citers(data: CitationData) -> tuple[np.ndarray, np.ndarray]:
    """The codes of the citing papers (ascending) and, per edge, its citing paper's position among them
    (``np.unique(citing, return_inverse=True)`` without sorting the edges)."""
    present = np.bincount(data.citing, minlength=len(data.papers)) > 0
    return np.flatnonzero(present), (np.cumsum(present) - 1)[data.citing]


def _distinct_rows(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an integer matrix (in order of first appearance) and how often each occurs.

    A hash group-by: several times faster than ``np.unique(axis=0)``, which sorts whole rows.
    """
    frame = pd.DataFrame(key)
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    distinct = np.empty((group.max(initial=-1) + 1, key.shape[1]), dtype=key.dtype)
    distinct[group] = key  # rows of a group are identical: any of them will do
    return distinct, np.bincount(group, minlength=len(distinct))


@dataclass(frozen=True)
class YearSums:
    """Feature sums per citing year (``NO_YEAR`` included): ``point`` (years × features) and ``resampled``
    (years × resamples × features); the all-years sums are the sums over years."""

    n_labels: int
    years: np.ndarray
    point: np.ndarray
    resampled: np.ndarray
    level: float


def bootstrap_sums(profiles: CitingProfiles, *, params: BootstrapParams = BootstrapParams(),
                   progress: Callable[[int], object] | None = None) -> YearSums:
    """Point and bootstrap feature sums per citing year.

    Nonparametric bootstrap (Efron & Tibshirani 1993, ch. 6 and 13) with the citing paper as the resampling unit
    (its references move with it), in its Poisson form (Hanley & MacGibbon 2006, "Creating non-parametric
    bootstrap samples using Poisson frequencies", Comput. Methods Programs Biomed. 83:57; Chamandy et al. 2012,
    "Estimating uncertainty for massive data streams", Google): in each resample every citing paper appears
    Poisson(1) times, independently, instead of the Multinomial(n, 1/n) counts of drawing n papers with
    replacement — the same limit, with intervals that agree within Monte Carlo error on the synthetic
    literature (tested), and independent draws per paper. Papers of one type (:class:`CitingProfiles`, count
    ``c_t``) then appear Poisson(c_t) times together, drawn by inverse CDF from one uniform per type (numpy's
    sampler for ``c_t`` > :data:`POISSON_TABLE_MAX`), and a resample's sums per year are one BLAS matrix product
    of the draws with the types' features: no loop over papers or edges (``max_cells`` bounds the draws held at
    once). The all-years statistics use the whole resample, a year's statistics that year's resampled papers.
    The products are small (``max_cells / types`` resamples × one year's types × the features), so BLAS runs on
    one thread: OpenBLAS's threads spin-wait between such products, which cost 3-5× the CPU time on a loaded
    2-core machine (measured at 1M papers).
    Point sums are exact (the observed counts). Seeded by ``params.seed``: same input, same intervals.
    ``progress``, when given, is called with the number of resamples done after each block (e.g. a tqdm's
    ``update``).

    Stable contract (also the PySpark engine's): ``profiles`` from :func:`citing_profiles` (or built the same
    way from aggregated edges) → :class:`YearSums` → :func:`cross_field_table` / :func:`overlap_table`.
    """
    rng = np.random.default_rng(params.seed)
    order = np.argsort(profiles.year, kind="stable")
    count, features = profiles.count[order], profiles.features[order]
    years, starts = np.unique(profiles.year[order], return_index=True)
    blocks = list(zip(starts, [*starts[1:], len(count)]))
    point = np.array([count[lo:hi] @ features[lo:hi] for lo, hi in blocks]).reshape(len(years), features.shape[1])
    resampled = np.zeros((len(years), params.resamples, features.shape[1]))
    if len(count):
        chunk = max(1, params.max_cells // len(count))
        groups = _count_groups(count)
        with threadpool_limits(limits=1, user_api="blas"):  # see the docstring
            for start in range(0, params.resamples, chunk):
                size = min(chunk, params.resamples - start)
                draws = _poisson_draws(rng, groups, size=size, n_types=len(count))
                for y, (lo, hi) in enumerate(blocks):
                    resampled[y, start:start + size] = draws[:, lo:hi] @ features[lo:hi]
                if progress is not None:
                    progress(size)
    return YearSums(n_labels=profiles.n_labels, years=years, point=point, resampled=resampled, level=params.level)


POISSON_TABLE_MAX = 64
"""Largest type count drawn by inverse CDF from a table; larger counts use numpy's Poisson sampler."""


def _count_groups(count: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """The types grouped for drawing: per distinct count up to ``POISSON_TABLE_MAX``, (type positions, the
    Poisson CDF table, True); then (positions, their counts, False) for all larger counts."""
    groups = [(np.flatnonzero(count == c), _poisson_cdf(int(c)), True)
              for c in np.unique(count[count <= POISSON_TABLE_MAX])]
    large = np.flatnonzero(count > POISSON_TABLE_MAX)
    return groups + ([(large, count[large].astype(np.float64), False)] if len(large) else [])


def _poisson_cdf(mean: int) -> np.ndarray:
    """``P(X ≤ k)`` for X ~ Poisson(mean), k = 0, 1, … until the tail is below double precision."""
    pmf = [np.exp(-mean)]
    while len(pmf) <= mean or pmf[-1] > 1e-18:
        pmf.append(pmf[-1] * mean / len(pmf))
    return np.cumsum(pmf)


def _poisson_draws(rng: np.random.Generator, groups, *, size: int, n_types: int) -> np.ndarray:
    """(size × types) Poisson(c_t) draws, as float64 (for BLAS): u ~ U(0, 1) → the number of CDF entries ≤ u."""
    draws = np.empty((size, n_types))
    for positions, table, is_cdf in groups:
        if is_cdf:
            draws[:, positions] = np.searchsorted(table, rng.random((size, len(positions))), side="right")
        else:
            draws[:, positions] = rng.poisson(table, (size, len(positions)))
    return draws


def feature_blocks(sums: np.ndarray, n_labels: int) -> dict[str, np.ndarray]:
    """Name the feature blocks of (…, features) sums (layout :data:`FEATURE_BLOCKS`), each reshaped to its axes."""
    shape, named, start = sums.shape[:-1], {}, 0
    for name, axes in FEATURE_BLOCKS:
        size = n_labels ** axes
        named[name] = sums[..., start:start + size].reshape(*shape, *(n_labels,) * axes)
        start += size
    return named


def _interval(samples: np.ndarray, level: float, papers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN resamples (all-NaN → NaN); NaN for the citing fields (rows)
    with fewer than ``MIN_BOOTSTRAP_PAPERS`` ``papers``."""
    low, high = percentile_interval(samples, level)
    too_few = (np.asarray(papers) < MIN_BOOTSTRAP_PAPERS)[:, None]
    return np.where(too_few, np.nan, low), np.where(too_few, np.nan, high)


def cross_field_table(sums: YearSums, *, fields: Sequence[str]) -> pd.DataFrame:
    """``cross_field.csv``: per year ("all", then each citing year) × citing field × cited field:
    ``citations`` (M_AB), ``share`` (s_AB), its bootstrap interval, ``expected_share`` (b_B), ``obs_exp``
    (e_AB / (a_A b_B)) and its interval. Citing papers without a year count in "all" only. Intervals are NaN
    for a citing field with fewer than ``MIN_BOOTSTRAP_PAPERS`` citing papers in the year."""
    named = [("all", sums.point.sum(axis=0), sums.resampled.sum(axis=0))]
    named += [(str(int(y)), sums.point[i], sums.resampled[i]) for i, y in enumerate(sums.years) if y != NO_YEAR]
    frames = []
    k = sums.n_labels
    for year, point, resampled in named:
        named_point = feature_blocks(point, k)
        mixing, papers, boot = named_point["mixing"], named_point["papers"], feature_blocks(resampled, k)["mixing"]
        share_low, share_high = _interval(shares(boot), sums.level, papers)
        oe_low, oe_high = _interval(obs_exp(boot), sums.level, papers)
        expected = np.broadcast_to(expected_shares(mixing), (k, k))
        frames.append(pd.DataFrame({
            "year": year,
            "citing_field": np.repeat(fields, k), "cited_field": np.tile(fields, k),
            "citations": mixing.ravel(), "share": shares(mixing).ravel(),
            "ci_low": share_low.ravel(), "ci_high": share_high.ravel(),
            "expected_share": expected.ravel(), "obs_exp": obs_exp(mixing).ravel(),
            "obs_exp_low": oe_low.ravel(), "obs_exp_high": oe_high.ravel()}))
    return pd.concat(frames, ignore_index=True)


def overlap_table(sums: YearSums, *, fields: Sequence[str]) -> pd.DataFrame:
    """``overlap.csv``: paper-level overlap. For citing field A (whole membership: a multi-label paper is a paper
    of each of its fields) among its papers with ≥1 reference (``papers``), how many cite ≥1 paper labelled B
    (``citing_papers``), and the ``share`` = citing_papers / papers with its bootstrap interval; plus rows with
    cited field ``any_other_field``: ≥1 reference to a study field other than A (``other`` not counted).
    Intervals are NaN for a citing field with fewer than ``MIN_BOOTSTRAP_PAPERS`` papers."""
    k = sums.n_labels
    point, boot = feature_blocks(sums.point.sum(axis=0), k), feature_blocks(sums.resampled.sum(axis=0), k)
    cited = np.column_stack([point["hits"], point["any_other"]])
    boot_cited = np.concatenate([boot["hits"], boot["any_other"][..., None]], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = cited / point["papers"][:, None]
        low, high = _interval(boot_cited / boot["papers"][..., None], sums.level, point["papers"])
    cited_names = [*fields, ANY_OTHER_FIELD]
    return pd.DataFrame({
        "citing_field": np.repeat(fields, k + 1), "cited_field": np.tile(cited_names, k),
        "papers": np.repeat(point["papers"], k + 1).round().astype(np.int64),
        "citing_papers": cited.ravel().round().astype(np.int64),
        "share": share.ravel(), "ci_low": low.ravel(), "ci_high": high.ravel()})


# --- breakdowns, bridges, top cross-field citations ----------------------------------------------------------


def shares_by_kind(data: CitationData, *, counting: str = "fractional") -> pd.DataFrame:
    """``cross_field_by_kind.csv``: the mixing matrix and shares restricted to the citations of one kind:
    each S2 citation intent present (``intent:<name>``; a citation with several intents counts in each), and
    ``influential:true`` / ``influential:false`` when the flag is known for some citations.

    One pass over the edges: label-set pair counts per (intent set, influential flag), summed per kind."""
    n_sets, n_intents = len(data.masks), len(data.intent_sets)
    pair = data.mask_code[data.citing] * n_sets + data.mask_code[data.cited]
    key = (data.intent_code * 3 + data.influential + 1) * (n_sets * n_sets) + pair
    counts = np.bincount(key, minlength=n_intents * 3 * n_sets * n_sets).reshape(n_intents, 3, n_sets, n_sets)
    kinds = []
    for intent in sorted({i for s in data.intent_sets for i in s}):
        having = np.array([intent in s for s in data.intent_sets])
        kinds.append((f"intent:{intent}", counts[having].sum(axis=(0, 1))))
    if (data.influential >= 0).any():
        kinds += [("influential:true", counts[:, 2].sum(axis=0)), ("influential:false", counts[:, 1].sum(axis=0))]
    return kind_table([(kind, _weighted(c, data, counting)) for kind, c in kinds], fields=data.fields)


def kind_table(mixings: Sequence[tuple[str, np.ndarray]], *, fields: Sequence[str]) -> pd.DataFrame:
    """The rows of ``cross_field_by_kind.csv`` from (kind, K × K mixing matrix) pairs, in the order given."""
    k = len(fields)
    frames = [pd.DataFrame({"kind": kind, "citing_field": np.repeat(fields, k), "cited_field": np.tile(fields, k),
                            "citations": mixing.ravel(), "share": shares(mixing).ravel()})
              for kind, mixing in mixings]
    columns = ["kind", "citing_field", "cited_field", "citations", "share"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def bridge_papers(data: CitationData, *, top: int = 50) -> pd.DataFrame:
    """``bridges.csv``: papers cited by papers of ≥ 2 study fields (``other`` not counted), most cited first.

    ``citations``: citing papers in the table; ``citing_fields``: the study fields among their labels.
    """
    citations = np.bincount(data.cited, minlength=len(data.papers))
    reached = fields_citing(data)
    n_fields = reached.sum(axis=1)
    chosen = np.flatnonzero(n_fields >= 2)
    chosen = chosen[np.lexsort((chosen, -citations[chosen]))][:top]
    names = np.array(data.fields[:-1], dtype=object)
    table = data.papers.iloc[chosen].reset_index(drop=True)
    return table.assign(labels=table["labels"].astype("string"), citations=citations[chosen],
                        n_citing_fields=n_fields[chosen],
                        citing_fields=["|".join(names[row]) for row in reached[chosen]])


def fields_citing(data: CitationData) -> np.ndarray:
    """Boolean (papers × study fields): the paper is cited by at least one paper labelled with the field."""
    n_papers = len(data.papers)
    citing_masks = data.paper_masks[data.citing]
    return np.column_stack([np.bincount(data.cited[(citing_masks >> f) & 1 == 1], minlength=n_papers) > 0
                            for f in range(data.n_fields)]).reshape(n_papers, data.n_fields)


def top_cross_citations(data: CitationData, *, top: int = 50) -> pd.DataFrame:
    """``top_cross_citations.csv``: citations between papers that both carry a study field and share none
    (e.g. a reward-model paper citing a metrics paper), ranked by how often the cited paper is cited."""
    masks = data.paper_masks
    citing_mask, cited_mask = masks[data.citing], masks[data.cited]
    cross = np.flatnonzero((citing_mask > 0) & (cited_mask > 0) & ((citing_mask & cited_mask) == 0))
    received = np.bincount(data.cited, minlength=len(data.papers))
    order = cross[np.lexsort((data.citing[cross], -received[data.cited[cross]]))][:top]
    citing = data.papers.iloc[data.citing[order]].reset_index(drop=True)
    cited = data.papers.iloc[data.cited[order]].reset_index(drop=True)
    return pd.DataFrame({
        "citing_id": citing["paper_id"], "citing_title": citing["title"],
        "citing_field": citing["labels"].astype("string"), "cited_id": cited["paper_id"],
        "cited_title": cited["title"], "cited_field": cited["labels"].astype("string"),
        "cited_citations": received[data.cited[order]]})


def data_warnings(data: CitationData) -> list[str]:
    """Human-readable notes on what cleaning dropped and what the statistics cannot see."""
    citers, _ = _citers(data)
    no_year = int(data.papers["year"].isna().to_numpy()[citers].sum())
    present = label_weights(data.paper_masks, n_fields=data.n_fields, counting="whole").sum(axis=0)
    return warnings_from_counts(data.dropped, no_year_citers=no_year, papers_per_label=present, fields=data.fields)


def warnings_from_counts(dropped: dict[str, int], *, no_year_citers: int, papers_per_label: Sequence[float],
                         fields: Sequence[str]) -> list[str]:
    """:func:`data_warnings` from the counts themselves (for an engine that counted them elsewhere)."""
    what = {"unknown_papers": "citations with a paper missing from the papers table (dropped: it cannot be labelled)",
            "self_citations": "self-citations (dropped)",
            "duplicates": "duplicate citations (dropped, first row kept)"}
    notes = [f"{n} {what[key]}" for key, n in dropped.items() if n]
    if no_year_citers:
        notes.append(f"{no_year_citers} citing papers have no year (counted in the 'all' rows, not per year)")
    notes += [f"field {name!r} has no papers (its rows have 0 citations and NaN shares)"
              for name, n in zip(fields, papers_per_label) if n == 0]
    return notes
