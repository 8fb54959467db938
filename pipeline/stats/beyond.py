"""The statistics beyond the paper's, written by analyze and corpus beside the cross-field ones: bibliographic coupling
(:mod:`~pipeline.stats.coupling`), citation diversity (:mod:`~pipeline.stats.diversity`) and trends
(:mod:`~pipeline.stats.trend`). The terminology statistic (:mod:`~pipeline.stats.terminology`) reads texts, not
citations, and has its own stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.stats.citations import YearSums
from pipeline.stats.diversity import diversity_from_types
from pipeline.stats.trend import trend_table


def beyond_tables(coupling: tuple[pd.DataFrame, pd.DataFrame], types: tuple[np.ndarray, np.ndarray, np.ndarray],
                  sums: YearSums, *, fields, mixing: np.ndarray, counting: str,
                  level: float = 0.95) -> dict[str, pd.DataFrame]:
    """``coupling.csv``, ``shared_references.csv``, ``diversity.csv`` and ``trend.csv`` from what an engine
    computed: ``coupling``, the two coupling tables (:func:`~pipeline.stats.coupling.coupling_tables`, or the
    Spark engine's over a whole release, :mod:`pipeline.spark.coupling`); ``types``, the citing-paper types,
    their counts and the label-set masks they index (:func:`~pipeline.stats.citations.citing_types`, or as Spark
    collects them), which the diversity is computed from; ``sums``, the bootstrap sums of the cross-field
    statistics (the trends are fitted to their yearly mixing matrices); ``mixing``, the study's mixing matrix (the
    diversity's field distances); ``level``, the intervals' coverage."""
    types, count, masks = types
    return {"coupling.csv": coupling[0], "shared_references.csv": coupling[1],
            "diversity.csv": diversity_from_types(types, count, masks, fields=fields, mixing=mixing,
                                                  counting=counting, level=level),
            "trend.csv": trend_table(sums, fields=fields)}
