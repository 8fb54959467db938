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
                  level: float = 0.95, types: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """``coupling.csv``, ``shared_references.csv``, ``diversity.csv`` and ``trend.csv``. ``sums``: the bootstrap
    sums of the cross-field statistics (the trends are fitted to their yearly mixing matrices); ``mixing``: the
    study's mixing matrix (the diversity's field distances); ``level``: the intervals' coverage; ``types``: the
    citing-paper types, their counts and the label-set masks they index, which the diversity is computed from
    (default: ``data``'s; the corpus passes the whole release's, while its ``data`` holds the study papers only)."""
    coupling, shared = coupling_tables(data, level=level)
    types, count, masks = (*citing_types(data), data.masks) if types is None else types
    return {"coupling.csv": coupling, "shared_references.csv": shared,
            "diversity.csv": diversity_from_types(types, count, masks, fields=data.fields, mixing=mixing,
                                                  counting=counting, level=level),
            "trend.csv": trend_table(sums, fields=data.fields)}
