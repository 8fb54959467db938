"""How diverse is what a field cites: per citing paper, the diversity of the fields of its references.

For citing paper i let ``p_iB`` be the share of its references in field B (the label weights of its references,
fractional or whole as the study counts, normalised to sum to 1 over the K labels, ``other`` included). Then

* **Gini–Simpson** diversity ``GS_i = 1 − Σ_B p_iB²`` — the citation field diversity index (CFDI) of Wahle et al.
  2023 ("We are Who We Cite: Bridges of Influence Between Natural Language Processing and Other Academic
  Fields", EMNLP 2023): 0 when every reference is in one field, ``1 − 1/K`` at most;
* **Rao–Stirling** diversity ``RS_i = Σ_{B≠C} d_BC p_iB p_iC`` (Stirling 2007, "A general framework for
  analysing diversity in science, technology and society", J. R. Soc. Interface 4:707; Rao 1982), which also
  counts how far apart the cited fields are. Distances come from the study's own mixing matrix M:
  ``d_BC = 1 − cos(m_B, m_C)`` with ``m_B`` row B of ``M + Mᵀ`` (every citation field B gives or receives:
  fields that cite and are cited alike are close; Porter & Rafols 2009 use the same cosine distance on citation
  profiles). With all distances 1, RS equals GS.

Per citing field A and year: the mean over A's n citing papers (whole membership: a multi-label paper is a paper
of each of its fields), ``D̄_A = Σ_{i ∈ A} D_i / n``, with the 95% interval ``D̄_A ± z·s/√n`` (``s`` the standard
deviation of the papers' ``D_i``; clipped to [0, 1]): the delete-one jackknife interval, which for a mean is exactly
this (Efron 1982, ch. 3), over citing papers as every interval of the study. A percentile bootstrap of the same
mean would need a multinomial draw per resample over every citing paper (their diversities are all different) and
cost as much as the cross-field bootstrap itself (~8 s at 1M papers) for the same interval to within resampling
noise; NaN for fewer than ``MIN_BOOTSTRAP_PAPERS`` papers.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.stats.citations import (MIN_BOOTSTRAP_PAPERS, NO_YEAR, CitationData, canonical_types, citing_types,
                                      label_weights)

MEASURES = ("gini_simpson", "rao_stirling")


def field_distances(mixing: np.ndarray) -> np.ndarray:
    """``d_BC = 1 − cos(m_B, m_C)`` over the rows of ``M + Mᵀ`` (K × K, zero diagonal); a field with no citations
    at all is at distance 1 from every other."""
    links = np.asarray(mixing, dtype=np.float64)
    links = links + links.T
    norm = np.linalg.norm(links, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = links @ links.T / np.outer(norm, norm)
    distance = 1 - np.nan_to_num(cosine, nan=0.0)
    np.fill_diagonal(distance, 0.0)
    return np.clip(distance, 0.0, 1.0)


def paper_diversity(reference_profile: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """(papers, 2): Gini–Simpson and Rao–Stirling diversity of each row of ``reference_profile`` (papers × K,
    reference weight per cited label; rows with no references give NaN)."""
    profile = np.asarray(reference_profile, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = profile / profile.sum(axis=1, keepdims=True)
    gini_simpson = 1 - (p * p).sum(axis=1)
    rao_stirling = np.einsum("ib,bc,ic->i", p, distances, p)
    return np.column_stack([gini_simpson, rao_stirling])


def diversity_table(data: CitationData, *, mixing: np.ndarray, counting: str = "fractional",
                    level: float = 0.95) -> pd.DataFrame:
    """``diversity.csv`` of a study's citations: :func:`diversity_from_types` of their citing-paper types."""
    types, count = citing_types(data)
    return diversity_from_types(types, count, data.masks, fields=data.fields, mixing=mixing, counting=counting,
                                level=level)


def diversity_from_types(types: np.ndarray, count: np.ndarray, masks: np.ndarray, *, fields: Sequence[str],
                         mixing: np.ndarray, counting: str = "fractional", level: float = 0.95) -> pd.DataFrame:
    """``diversity.csv``: per year (``all``, then each citing year) × citing field: ``papers`` (citing papers of
    the field), ``gini_simpson`` and ``rao_stirling`` (means over them) with their 95% intervals (NaN for a field
    with fewer than ``MIN_BOOTSTRAP_PAPERS`` citing papers in the year). Distances: :func:`field_distances` of
    ``mixing``.

    From the citing-paper types (:func:`pipeline.stats.citations.citing_types`; the Spark engine collects the same
    rows from a whole release): a paper's diversity depends only on its references per cited label set, so the
    papers of a type share it and the sums of D and D² per group are sums over types weighted by their counts —
    no pass over papers. Types are put in canonical order first, so both engines give the same table."""
    types, count = canonical_types(types, count)
    k = len(fields)
    year, citing_set, refs = types[:, 0], types[:, 1], types[:, 2:].astype(np.float64)
    weights = label_weights(masks, n_fields=k - 1, counting=counting)
    diversity = paper_diversity(refs @ weights, field_distances(mixing))
    kind, field = np.nonzero(label_weights(masks, n_fields=k - 1, counting="whole")[citing_set] > 0)
    year = year[kind]                                       # one row per (type, field of its citing papers)
    dated = np.unique(year[year != NO_YEAR])
    names = ["all", *(str(int(y)) for y in dated)]
    group = np.concatenate([field, (1 + np.searchsorted(dated, year[year != NO_YEAR])) * k + field[year != NO_YEAR]])
    rows = np.concatenate([kind, kind[year != NO_YEAR]])
    papers = count[rows].astype(np.float64)
    size = len(names) * k
    n = np.bincount(group, weights=papers, minlength=size)
    z = NormalDist().inv_cdf((1 + level) / 2)
    frame = pd.DataFrame({"year": np.repeat(names, k), "citing_field": np.tile(list(fields), len(names)),
                          "papers": n.astype(np.int64)})
    too_few = n < MIN_BOOTSTRAP_PAPERS
    for m, measure in enumerate(MEASURES):
        values = diversity[rows, m]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(group, weights=papers * values, minlength=size) / n
            spread = (np.bincount(group, weights=papers * values * values, minlength=size) - n * mean * mean) / (n - 1)
            half = z * np.sqrt(np.maximum(spread, 0) / n)
        frame[measure] = mean
        frame[f"{measure}_low"] = np.where(too_few, np.nan, np.clip(mean - half, 0, 1))
        frame[f"{measure}_high"] = np.where(too_few, np.nan, np.clip(mean + half, 0, 1))
    return frame
