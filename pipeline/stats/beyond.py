"""The statistics beyond the paper's, computed by analyze beside the cross-field ones: bibliographic coupling
(:mod:`~pipeline.stats.coupling`), citation diversity (:mod:`~pipeline.stats.diversity`) and trends
(:mod:`~pipeline.stats.trend`). The terminology statistic (:mod:`~pipeline.stats.terminology`) reads texts, not
citations, and has its own stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.stats.citations import CitationData, YearSums, citing_types
from pipeline.stats.coupling import coupling_tables
from pipeline.stats.diversity import diversity_from_types
from pipeline.stats.trend import trend_table


def beyond_tables(data: CitationData, sums: YearSums, *, mixing: np.ndarray, counting: str,
                  level: float = 0.95) -> dict[str, pd.DataFrame]:
    """``coupling.csv``, ``shared_references.csv``, ``diversity.csv`` and ``trend.csv`` of a study's citations.
    ``sums``: the bootstrap sums of the cross-field statistics (the trends are fitted to their yearly mixing
    matrices); ``mixing``: the study's mixing matrix (the diversity's field distances); ``level``: the intervals'
    coverage."""
    return tables_from_parts(coupling_tables(data, level=level), (*citing_types(data), data.masks), sums,
                             fields=data.fields, mixing=mixing, counting=counting, level=level)


def tables_from_parts(coupling: tuple[pd.DataFrame, pd.DataFrame], types: tuple[np.ndarray, np.ndarray, np.ndarray],
                      sums: YearSums, *, fields, mixing: np.ndarray, counting: str,
                      level: float = 0.95) -> dict[str, pd.DataFrame]:
    """The same tables from what an engine computed: the coupling tables, and the citing-paper types, their
    counts and the label-set masks they index (the diversity's input; the Spark engine's come from a whole
    release, :mod:`pipeline.spark`)."""
    types, count, masks = types
    return {"coupling.csv": coupling[0], "shared_references.csv": coupling[1],
            "diversity.csv": diversity_from_types(types, count, masks, fields=fields, mixing=mixing,
                                                  counting=counting, level=level),
            "trend.csv": trend_table(sums, fields=fields)}
