"""Bibliographic coupling and the shared references over a whole release, aggregated in Spark by cited paper.

The statistics are :mod:`pipeline.stats.coupling`'s (whole membership; J and Salton's cosine of the fields'
citation-count vectors, all years and per citing year; delete-one jackknife intervals over citing papers), and
so is every formula: Spark only groups, joins and sums, and the per-unit and per-paper terms are computed by that
module's own functions in Spark's Python workers (``mapInArrow``). Over the cleaned edges from papers with a
study field:

1. **units** — per cited paper (and per (citing year, cited paper)): ``a_f``, the field-f papers citing it;
2. **point estimates** — the units grouped by their count vector (a few thousand distinct vectors, however large
   the release), collected; :func:`~pipeline.stats.coupling.pair_point` sums the terms of J and cos over them,
   weighted by how many units share each vector;
3. **jackknife** — every edge joined with its unit's counts, the edges repartitioned by citing paper, and per
   partition the influence ``U_i = T − T_(i)`` of each citing paper computed exactly as the pandas engine does
   (the terms each of its references loses without it, :func:`~pipeline.stats.coupling.unit_sums`), summed into
   the per-group moments n, ΣU, ΣU² (:func:`~pipeline.stats.coupling.jackknife_se`) — one pass, no resample:
   the same intervals as the pandas engine, at any scale;
4. **shared references** — per pair, the units both fields cite, ranked in Spark (ties by corpus id).

The driver receives the count-vector groups, one row of moments per (partition, level, pair, group) and the top
rows: nothing proportional to the release. A Python worker holds one partition's edges at once (a citing paper's
edges must be together): the study fields' edges over the shuffle partitions, e.g. 708k edges in 8 partitions at
200k synthetic papers on local[2]. Both engines agree to the last few bits (floating-point sums in
another order); the ranking of tied shared references at the cut may differ (the pandas engine breaks ties by
its papers' order).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from pipeline.stats.citations import NO_YEAR
from pipeline.stats.coupling import (TOP_SHARED, coupling_table, jackknife_se, pair_frame, pair_point, shared_rows,
                                     shared_table, statistics, unit_sums)

_MOMENTS = "level int, pair int, grp int, n double, u_j double, u2_j double, u_c double, u2_c double"
_LEVELS = ("all", "year")


def coupling_tables(edges: DataFrame, labelled: DataFrame, *, field_names: Sequence[str], level: float = 0.95,
                    top: int = TOP_SHARED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``coupling.csv`` and ``shared_references.csv`` of the cleaned ``edges`` (``citing``, ``cited``,
    ``citing_mask``, ``citing_year`` with ``NO_YEAR`` for none) of a release; ``labelled`` gives the shared
    references' ``paper_id``, ``title``, ``year`` and ``labels`` (by ``corpusid``)."""
    k = len(field_names)
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    study = edges.where(F.col("citing_mask") > 0).select(
        "citing", "cited", F.col("citing_mask").cast("long").alias("citing_mask"),
        F.col("citing_year").cast("long").alias("citing_year")).persist()
    member = [(F.col("citing_mask").bitwiseAND(1 << f) != 0).cast("long") for f in range(k)]
    counts = {"all": study.groupBy("cited").agg(*[F.sum(m).alias(f"all{f}") for f, m in enumerate(member)]),
              "year": study.where(F.col("citing_year") != NO_YEAR).groupBy("citing_year", "cited")
              .agg(*[F.sum(m).alias(f"year{f}") for f, m in enumerate(member)])}
    for frame in counts.values():
        frame.persist()
    citers = study.select("citing", "citing_mask", "citing_year").distinct() \
        .groupBy("citing_mask", "citing_year").count().toPandas()
    years = np.sort(citers.loc[citers["citing_year"] != NO_YEAR, "citing_year"].unique().astype(np.int64))
    papers = _papers(citers, years, k)
    points = {}
    for name, frame in counts.items():
        profiles = frame.groupBy(*([] if name == "all" else ["citing_year"]), *[f"{name}{f}" for f in range(k)]) \
            .count().toPandas()
        group = (np.zeros(len(profiles), np.int64) if name == "all"
                 else np.searchsorted(years, profiles["citing_year"].to_numpy(np.int64)))
        n_groups = 1 if name == "all" else len(years)
        points[name] = [pair_point(profiles[f"{name}{a}"].to_numpy(), profiles[f"{name}{b}"].to_numpy(), group,
                                   n_groups, weight=profiles["count"].to_numpy(np.float64)) for a, b in pairs]
    joined = study.join(counts["all"], "cited").join(counts["year"], ["citing_year", "cited"], "left") \
        .select("citing", "citing_mask", "citing_year", *[f"{n}{f}" for n in _LEVELS for f in range(k)])
    moments = joined.repartition("citing").mapInArrow(_influence_moments(points, pairs, years), _MOMENTS) \
        .groupBy("level", "pair", "grp").sum("n", "u_j", "u_c", "u2_j", "u2_c").toPandas()
    z = NormalDist().inv_cdf((1 + level) / 2)
    frames = []
    for li, name in enumerate(_LEVELS):
        labels = ["all"] if name == "all" else [str(int(y)) for y in years]
        for p, (a, b) in enumerate(pairs):
            rows = moments[(moments["level"] == li) & (moments["pair"] == p)]
            sums = np.zeros((len(labels), 5))
            np.add.at(sums, rows["grp"].to_numpy(int), rows[[f"sum({c})" for c in
                                                             ("n", "u_j", "u_c", "u2_j", "u2_c")]].to_numpy())
            se = jackknife_se(sums[:, :1], sums[:, 1:3], sums[:, 3:5])
            frames.append(pair_frame(labels, field_names[a], field_names[b],
                                     papers=(papers[name][a], papers[name][b]), point=points[name][p], se=se, z=z))
    shared = _shared(counts["all"], labelled, field_names, pairs, top=top)
    for frame in (*counts.values(), study):
        frame.unpersist()
    return coupling_table(frames, years), shared


def _papers(citers: pd.DataFrame, years: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Citing papers per field: (fields, 1) over all years and (fields, years) per citing year."""
    mask, year, count = (citers[c].to_numpy(np.int64) for c in ("citing_mask", "citing_year", "count"))
    bits = (mask[:, None] >> np.arange(k)) & 1
    dated = year != NO_YEAR
    group = np.searchsorted(years, year[dated])
    return {"all": (bits * count[:, None]).sum(axis=0)[:, None],
            "year": np.stack([np.bincount(group, weights=(bits[dated, f] * count[dated]), minlength=len(years))
                              for f in range(k)]).astype(np.int64)}


def _influence_moments(points: dict, pairs: Sequence[tuple[int, int]], years: np.ndarray):
    """The ``mapInArrow`` function: a partition's edges (all of each citing paper's, after the repartition by
    citing paper) → per level, pair and group the moments n, ΣU, ΣU² of the citing papers' jackknife influence,
    with the pandas engine's terms (:func:`pipeline.stats.coupling.unit_sums`, :func:`~pipeline.stats.coupling.
    statistics`)."""

    def moments(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = pa.Table.from_batches(list(batches))
        if not table.num_rows:
            return
        column = {name: table.column(name).to_numpy() for name in ("citing", "citing_mask", "citing_year")}
        out = []
        for li, name in enumerate(_LEVELS):
            if name == "all":
                group = np.zeros(table.num_rows, np.int64)
            else:
                dated = column["citing_year"] != NO_YEAR
                group = np.where(dated, np.searchsorted(years, column["citing_year"]), -1)
            for p, (a, b) in enumerate(pairs):
                in_a = (column["citing_mask"] >> a) & 1
                in_b = (column["citing_mask"] >> b) & 1
                rows = np.flatnonzero(((in_a | in_b) > 0) & (group >= 0))
                if not len(rows):
                    continue
                ca = table.column(f"{name}{a}").take(rows).to_numpy(zero_copy_only=False).astype(np.float64)
                cb = table.column(f"{name}{b}").take(rows).to_numpy(zero_copy_only=False).astype(np.float64)
                before, after = unit_sums(ca, cb), unit_sums(ca - in_a[rows], cb - in_b[rows])
                citer, local = np.unique(column["citing"][rows], return_inverse=True)
                g = np.zeros(len(citer), np.int64)
                g[local] = group[rows]
                point = points[name][p]
                without = {key: point["sums"][key][g] - np.bincount(local, weights=before[key] - after[key],
                                                                     minlength=len(citer)) for key in before}
                influence = np.column_stack([point["jaccard"][g], point["cosine"][g]]) - np.column_stack(
                    statistics(without))
                influence = np.where(np.isfinite(influence), influence, 0.0)
                n_groups = len(point["jaccard"])
                sums = [np.bincount(g, minlength=n_groups).astype(np.float64)]
                for s in range(2):
                    sums += [np.bincount(g, weights=influence[:, s], minlength=n_groups),
                             np.bincount(g, weights=influence[:, s] ** 2, minlength=n_groups)]
                present = np.flatnonzero(sums[0] > 0)
                out.append(pd.DataFrame({"level": li, "pair": p, "grp": present, "n": sums[0][present],
                                         "u_j": sums[1][present], "u2_j": sums[2][present],
                                         "u_c": sums[3][present], "u2_c": sums[4][present]}))
        if out:
            frame = pd.concat(out, ignore_index=True).astype({"level": "int32", "pair": "int32", "grp": "int32"})
            yield pa.RecordBatch.from_pandas(frame, preserve_index=False)

    return moments


def _shared(units: DataFrame, labelled: DataFrame, field_names: Sequence[str], pairs, *, top: int) -> pd.DataFrame:
    """Per pair, the ``top`` references both fields cite, ranked by the smaller count, then the sum, then corpus id
    (ranked on the persisted counts; only the top rows are joined with their papers)."""
    info = labelled.select(F.col("corpusid").alias("cited"), "paper_id", "title", "year", "labels")
    frames = []
    for a, b in pairs:
        ca, cb = F.col(f"all{a}"), F.col(f"all{b}")
        ranked = units.where((ca > 0) & (cb > 0)).select("cited", ca, cb, F.least(ca, cb).alias("low"),
                                                        (ca + cb).alias("both")) \
            .orderBy(F.desc("low"), F.desc("both"), "cited").limit(top)
        rows = ranked.join(info, "cited").orderBy(F.desc("low"), F.desc("both"), "cited").toPandas()
        rows["year"] = rows["year"].astype("Int64")
        frames.append(shared_rows(field_names[a], field_names[b], rows, rows[f"all{a}"], rows[f"all{b}"]))
    return shared_table(frames)
