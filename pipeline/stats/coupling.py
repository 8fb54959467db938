"""Shared ground: bibliographic coupling between fields, and the references they share.

Two fields that seldom cite each other may still build on the same work. For study fields A and B, with
*whole* membership (a paper labelled A|B is a paper of both), let ``a_j`` be the number of field-A papers citing
paper j (the field's citation-count vector, Kessler 1963's coupling lifted from papers to fields) and
``R_A = {j : a_j > 0}`` the field's reference set. Then

* **Jaccard** of the reference sets: ``J_AB = |R_A ∩ R_B| / |R_A ∪ R_B|`` (Jaccard 1912);
* **Salton's cosine** of the count vectors: ``cos_AB = Σ_j a_j b_j / (‖a‖ ‖b‖)`` (Salton & McGill 1983; the
  normalised coupling strength of Kessler 1963, "Bibliographic coupling between scientific papers", American
  Documentation 14:10; Small 1973, JASIS 24:265, is the dual: co-citation counts the papers citing both).

J counts each shared reference once; cos weighs it by how often both fields cite it, so a few landmark papers
cited by everyone can make cos large while J stays small. Per citing year too: the same statistics over the
papers of that year (``a_j`` = field-A papers of that year citing j).

**Intervals** are over citing papers, as everywhere in the study, but by the delete-one jackknife rather
than the percentile bootstrap. Neither statistic is a sum over papers, and a bootstrap resample of a reference set
is biased: it holds on average only 1 − e⁻¹ ≈ 63% of the distinct citing papers, so every reference with a single
citer drops out of 37% of the resamples and J* runs well below J (on the demo literature J = 0.27 for metrics vs
reward models while 95% of the resampled J* fell in 0.17–0.22: the percentile interval missed its own
estimate). So:

1. the value ``T_(i)`` of each statistic without citing paper i is computed exactly, in closed form, for every
   i at once (removing i lowers ``a_j`` by one for each of its references j when i is an A paper: J loses the
   references only i supported; ``a·b``, ``‖a‖²``, ``‖b‖²`` lose ``b_j``, ``2a_j − 1`` … per reference);
2. with the influence values ``U_i = T − T_(i)`` over the n citing papers of A or B (in the year), the jackknife
   standard error is ``se² = (n − 1)/n · Σ_i (U_i − Ū)²`` (Tukey 1958; Efron 1982, *The Jackknife, the Bootstrap
   and Other Resampling Plans*, ch. 3), the same first-order variance as the bootstrap of the statistic
   linearised in the papers' weights (Efron & Tibshirani 1993, ch. 21) — for a set statistic the delete-one
   influence is the usual one (as for species-richness estimators: Burnham & Overton 1978, Biometrika 65:625);
3. the interval is ``T ± z·se``, ``z`` the normal quantile of ``level`` (the study's 95%), clipped to
   [0, 1]; NaN when either field has fewer than ``MIN_BOOTSTRAP_PAPERS`` citing papers in the year.

It is centred on T and costs one pass over the edges per field pair, with no resample loop (the linear bootstrap
with Poisson weights converges to this interval and cost ~5 s per 1,000 resamples of 335k citing papers).
The pieces (:func:`unit_sums`, :func:`statistics`, :func:`pair_point`, :func:`jackknife_se`, :func:`pair_frame`)
are public so the Spark engine (:mod:`pipeline.spark.coupling`) computes the same influences over a whole release
in one pass over its edges, and the same table.
J grows with the number of citing papers (more citers, larger and more overlapping reference sets), so compare
J between pairs or years with similar numbers of citing papers; cos does not depend on that scale.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.stats.citations import MIN_BOOTSTRAP_PAPERS, NO_YEAR, CitationData

TOP_SHARED = 20
"""Rows per field pair in ``shared_references.csv``."""
COLUMNS = ("year", "field_a", "field_b", "papers_a", "papers_b", "references_a", "references_b", "shared_references",
           "jaccard", "jaccard_low", "jaccard_high", "cosine", "cosine_low", "cosine_high")
"""The columns of ``coupling.csv``."""


class _Edges:
    """The edges from study-field papers, once per field of the citing paper (whole membership), with the
    citing papers as local codes and each edge's *unit*: the cited paper (all years) or the (citing year, cited
    paper) cell (per year)."""

    def __init__(self, data: CitationData):
        masks = data.paper_masks
        study = np.flatnonzero(masks[data.citing] > 0)
        citing, cited = data.citing[study], data.cited[study]
        rows = [np.flatnonzero((masks[citing] >> f) & 1) for f in range(data.n_fields)]
        self.field = np.concatenate([np.full(len(r), f) for f, r in enumerate(rows)]).astype(np.int64)
        edge = np.concatenate(rows)
        self.citers, self.local = dense_codes(citing[edge], len(masks))
        years = data.papers["year"].to_numpy(dtype=np.float64, na_value=np.nan)[self.citers]
        self.citer_year = np.where(np.isnan(years), NO_YEAR, years).astype(np.int64)
        self.citer_fields = ((masks[self.citers][:, None] >> np.arange(data.n_fields)) & 1).astype(bool)
        self.years = np.unique(self.citer_year[self.citer_year != NO_YEAR])
        self.cited, self.unit_all = dense_codes(cited[edge], len(masks))
        year = self.citer_year[self.local]
        cell = np.searchsorted(self.years, year) * len(self.cited) + self.unit_all
        cells, self.unit_year = dense_codes(np.where(year != NO_YEAR, cell, -1), len(self.years) * len(self.cited))
        self.cell_year = cells // max(1, len(self.cited))
        self.n_fields = data.n_fields


def dense_codes(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-negative ``values`` (all < ``size``) in increasing order, and each value's position among
    them (-1 for negative values): ``np.unique(…, return_inverse=True)`` by a table of ``size`` instead of a sort."""
    seen = np.zeros(size + 1, dtype=bool)
    seen[np.where(values >= 0, values, size)] = True
    seen[size] = False
    code = np.cumsum(seen) - 1
    return np.flatnonzero(seen[:size]), np.where(values >= 0, code[np.maximum(values, 0)], -1)


class _Level:
    """One level of the statistics: edges → units, units → groups (one group "all", or one per year)."""

    def __init__(self, edges: _Edges, unit: np.ndarray, unit_group: np.ndarray, n_groups: int,
                 citer_group: np.ndarray):
        keep = unit >= 0
        self.field, self.local, self.unit = edges.field[keep], edges.local[keep], unit[keep]
        self.n_units, self.n_groups, self.n_fields = len(unit_group), n_groups, edges.n_fields
        self.citer_fields = edges.citer_fields
        self.unit_group, self.citer_group = unit_group, citer_group
        self.counts = np.bincount(self.field * self.n_units + self.unit,
                                  minlength=self.n_fields * self.n_units).reshape(self.n_fields, self.n_units)
        member = edges.citer_fields & (citer_group >= 0)[:, None]
        self.papers = np.stack([np.bincount(citer_group[member[:, f]], minlength=n_groups)
                                for f in range(self.n_fields)])


def unit_sums(ca: np.ndarray, cb: np.ndarray) -> dict[str, np.ndarray]:
    """Per unit: the terms whose sums make J and cos (intersection, union, a·b, a², b²)."""
    return {"inter": ((ca > 0) & (cb > 0)).astype(np.float64), "union": ((ca > 0) | (cb > 0)).astype(np.float64),
            "dot": ca * cb, "pa": ca * ca,
            "pb": cb * cb}


def statistics(sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(J, cos) from the sums of :func:`unit_sums` over a group's units."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums["inter"] / sums["union"], sums["dot"] / np.sqrt(sums["pa"] * sums["pb"])


def _point(level: _Level, a: int, b: int) -> dict[str, np.ndarray]:
    return pair_point(level.counts[a], level.counts[b], level.unit_group, level.n_groups)


def pair_point(ca: np.ndarray, cb: np.ndarray, group: np.ndarray, n_groups: int,
               weight: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per group: |R_A|, |R_B|, |R_A ∩ R_B|, J, cos and the sums they come from, over units with counts ``ca``,
    ``cb`` in ``group``; ``weight``: how many units each row stands for (an engine that groups units with the
    same counts), default 1."""
    ca, cb = np.asarray(ca, dtype=np.float64), np.asarray(cb, dtype=np.float64)

    def per_group(values):
        values = values.astype(np.float64)
        return np.bincount(group, weights=values if weight is None else values * weight, minlength=n_groups)

    sums = {key: per_group(value) for key, value in unit_sums(ca, cb).items()}
    jaccard, cosine = statistics(sums)
    return {"references_a": per_group(ca > 0), "references_b": per_group(cb > 0),
            "shared_references": sums["inter"], "jaccard": jaccard, "cosine": cosine, "sums": sums}


def _influence(level: _Level, edges: _Edges, a: int, b: int, point: dict) -> np.ndarray:
    """Jackknife influence ``U_i = T − T_(i)`` of every citing paper on (J, cos): (citing papers, 2).

    Each (citing paper, reference) pair once: the field-A rows, and the field-B rows of papers not in A. Without
    paper i, ``a_j`` drops by one where i is an A paper, ``b_j`` where it is a B paper.
    """
    n_citers = len(edges.citers)
    in_a, in_b = edges.citer_fields[:, a], edges.citer_fields[:, b]
    rows = np.flatnonzero((level.field == a) | ((level.field == b) & ~in_a[level.local]))
    local, unit = level.local[rows], level.unit[rows]
    ca, cb = level.counts[a][unit].astype(np.float64), level.counts[b][unit].astype(np.float64)
    before, after = unit_sums(ca, cb), unit_sums(ca - in_a[local], cb - in_b[local])
    group = np.maximum(level.citer_group, 0)
    without = {key: point["sums"][key][group] - np.bincount(local, weights=before[key] - after[key],
                                                            minlength=n_citers)
               for key in before}
    influence = np.column_stack([point["jaccard"][group], point["cosine"][group]]) - np.column_stack(
        statistics(without))
    return np.where((level.citer_group >= 0)[:, None] & np.isfinite(influence), influence, 0.0)


def _moments(influence: np.ndarray, level: _Level, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group, over its citing papers of field a or b: their number n, ``Σ U_i`` and ``Σ U_i²`` ((groups, 2)
    each, for J and cos)."""
    citers = np.flatnonzero((level.citer_group >= 0) & (level.citer_fields[:, a] | level.citer_fields[:, b]))
    group = level.citer_group[citers]
    n = np.bincount(group, minlength=level.n_groups)[:, None].astype(np.float64)
    total = np.column_stack([np.bincount(group, weights=u, minlength=level.n_groups) for u in influence[citers].T])
    square = np.column_stack([np.bincount(group, weights=u * u, minlength=level.n_groups)
                              for u in influence[citers].T])
    return n, total, square


def jackknife_se(n: np.ndarray, total: np.ndarray, square: np.ndarray) -> np.ndarray:
    """``sqrt((n − 1)/n · Σ (U_i − Ū)²)`` from a group's n, ``Σ U_i`` and ``Σ U_i²``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(np.maximum(square - total ** 2 / n, 0) * (n - 1) / n)


def pair_frame(years: Sequence[str], field_a: str, field_b: str, *, papers: tuple[np.ndarray, np.ndarray],
               point: dict[str, np.ndarray], se: np.ndarray, z: float) -> pd.DataFrame:
    """The ``coupling.csv`` rows of one field pair: per group (``years``) its papers, reference set sizes, J and
    cos (``point``) with ``T ± z·se`` (``se``: (groups, 2)) clipped to [0, 1]; NaN bounds where either field has
    fewer than ``MIN_BOOTSTRAP_PAPERS`` citing papers."""
    too_few = (papers[0] < MIN_BOOTSTRAP_PAPERS) | (papers[1] < MIN_BOOTSTRAP_PAPERS)
    frame = pd.DataFrame({"year": list(years), "field_a": field_a, "field_b": field_b,
                          "papers_a": papers[0], "papers_b": papers[1]})
    for key in ("references_a", "references_b", "shared_references"):
        frame[key] = np.round(point[key]).astype(np.int64)
    for s, stat in enumerate(("jaccard", "cosine")):
        low, high = np.clip(point[stat] - z * se[:, s], 0, 1), np.clip(point[stat] + z * se[:, s], 0, 1)
        undefined = too_few | np.isnan(point[stat])
        frame[stat] = point[stat]
        frame[f"{stat}_low"] = np.where(undefined, np.nan, low)
        frame[f"{stat}_high"] = np.where(undefined, np.nan, high)
    return frame


def coupling_table(frames: Sequence[pd.DataFrame], years: Sequence[int]) -> pd.DataFrame:
    """``coupling.csv`` from the pairs' frames: ``all`` first, then the citing years in order."""
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    order = {"all": -1, **{str(int(y)): i for i, y in enumerate(years)}}
    return table.sort_values("year", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def coupling_tables(data: CitationData, *, level: float = 0.95,
                    top: int = TOP_SHARED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``coupling.csv`` and ``shared_references.csv`` (see the module docstring).

    ``coupling.csv``: per year (``all``, then each citing year) × study-field pair (A before B in config order):
    ``papers_a``/``papers_b`` (citing papers of each field), ``references_a``/``references_b`` (|R_A|, |R_B|),
    ``shared_references`` (|R_A ∩ R_B|), ``jaccard`` and ``cosine`` with their 95% intervals.
    ``shared_references.csv``: per pair, the ``top`` references cited by both fields, ranked by the smaller of
    the two citing-paper counts (then their sum): ``paper_id``, ``title``, ``year``, ``labels``, ``cited_by_a``,
    ``cited_by_b``. ``level``: the intervals' coverage (the jackknife draws nothing, so there is no seed).
    """
    fields = data.fields[:-1]
    pairs = [(a, b) for a in range(len(fields)) for b in range(a + 1, len(fields))]
    edges = _Edges(data)
    n_citers = len(edges.citers)
    dated = edges.citer_year != NO_YEAR
    levels = {"all": _Level(edges, edges.unit_all, np.zeros(len(edges.cited), np.int64), 1,
                            np.zeros(n_citers, np.int64)),
              "year": _Level(edges, edges.unit_year, edges.cell_year, len(edges.years),
                             np.where(dated, np.searchsorted(edges.years, edges.citer_year), -1))}
    points = {name: [_point(level, a, b) for a, b in pairs] for name, level in levels.items()}
    # (citing papers, pairs × {jaccard, cosine})
    influence = {name: np.column_stack([np.zeros((n_citers, 0)), *(_influence(level, edges, a, b, p)
                                                                    for (a, b), p in zip(pairs, points[name]))])
                 for name, level in levels.items()}
    z = NormalDist().inv_cdf((1 + level) / 2)
    frames = []
    for name, level in levels.items():
        labels = ["all"] if name == "all" else [str(int(y)) for y in edges.years]
        for p, (a, b) in enumerate(pairs):
            se = jackknife_se(*_moments(influence[name][:, 2 * p:2 * p + 2], level, a, b))
            frames.append(pair_frame(labels, fields[a], fields[b], papers=(level.papers[a], level.papers[b]),
                                     point=points[name][p], se=se, z=z))
    return coupling_table(frames, edges.years), shared_references(data, levels["all"], edges, pairs, top=top)


def shared_references(data: CitationData, level: _Level, edges: _Edges, pairs: Sequence[tuple[int, int]], *,
                      top: int) -> pd.DataFrame:
    """``shared_references.csv`` rows (see :func:`coupling_tables`)."""
    fields = data.fields[:-1]
    frames = []
    for a, b in pairs:
        ca, cb = level.counts[a], level.counts[b]
        units = np.flatnonzero((ca > 0) & (cb > 0))
        units = units[np.lexsort((edges.cited[units], -(ca[units] + cb[units]), -np.minimum(ca[units], cb[units])))]
        units = units[:top]
        frames.append(shared_rows(fields[a], fields[b], data.papers.iloc[edges.cited[units]], ca[units], cb[units]))
    return shared_table(frames)


SHARED_COLUMNS = ("field_a", "field_b", "rank", "paper_id", "title", "year", "labels", "cited_by_a", "cited_by_b")
"""The columns of ``shared_references.csv``."""


def shared_rows(field_a: str, field_b: str, papers: pd.DataFrame, cited_by_a, cited_by_b) -> pd.DataFrame:
    """One pair's ``shared_references.csv`` rows: its shared references (``papers``: ``paper_id``, ``title``,
    ``year``, ``labels``), ranked already, with the citing-paper counts of each field."""
    papers = papers.reset_index(drop=True)
    return pd.DataFrame({
        "field_a": field_a, "field_b": field_b, "rank": np.arange(1, len(papers) + 1),
        "paper_id": papers["paper_id"], "title": papers["title"], "year": papers["year"],
        "labels": papers["labels"].astype("string"), "cited_by_a": np.asarray(cited_by_a, dtype=np.int64),
        "cited_by_b": np.asarray(cited_by_b, dtype=np.int64)})


def shared_table(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)[list(SHARED_COLUMNS)] if frames else \
        pd.DataFrame(columns=list(SHARED_COLUMNS))
