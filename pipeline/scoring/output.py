"""What a score run shows: the accuracy table as markdown (wide by language × subset, then every slice), and the
arrays its dot plot is drawn from (:func:`accuracy_panels`; the drawing is :mod:`pipeline.scoring.accuracy_figure`).

The tables use the one markdown helper (:mod:`pipeline.markdown`).
"""

from __future__ import annotations

import pandas as pd

from pipeline.markdown import markdown_table
from pipeline.scoring.accuracy_figure import AccuracyPanels


def _percent(value: float) -> str:
    return "–" if pd.isna(value) else f"{100 * value:.1f}"


def _with_ci(row) -> str:
    return f"{_percent(row.accuracy)} [{_percent(row.ci_low)}, {_percent(row.ci_high)}]"


def every_slice(table: pd.DataFrame) -> str:
    """The accuracy table as GitHub markdown, one row per slice, accuracies in percent with their 95% CI."""
    rows = [(row.scorer, row.language, row.subset, row.n, _with_ci(row), row.ties, row.human_ties,
             f"{_percent(row.acc_tie_calibrated)} ({row.epsilon:.3g})") for row in table.itertuples()]
    columns = ["scorer", "language", "subset", "n", "accuracy % [95% CI]", "scorer ties", "human ties",
               "tie-calibrated acc % (ε)"]
    return markdown_table(pd.DataFrame(rows, columns=columns), right=tuple(columns[3:])) + "\n"


def by_language_and_subset(table: pd.DataFrame) -> str:
    """Accuracy % [95% CI] with one row per scorer and one column per (language, subset) — the layout of the
    paper's translation table (language pair × easy/hard) — or ``""`` when the pairs have a single subset.

    The columns are each language (``all`` only when there is one) crossed with each subset but ``all``; a
    scorer that could not score a slice gets ``–``.
    """
    subsets = [s for s in dict.fromkeys(table["subset"]) if s != "all"]
    if not subsets:
        return ""
    languages = [lang for lang in dict.fromkeys(table["language"]) if lang != "all"] or ["all"]
    cells = {(row.scorer, row.language, row.subset): _with_ci(row) for row in table.itertuples()}
    columns = [(lang, sub) for lang in languages for sub in subsets]
    rows = [(scorer, *(cells.get((scorer, *key), "–") for key in columns))
            for scorer in dict.fromkeys(table["scorer"])]
    headers = ["scorer", *(f"{lang} {sub}" for lang, sub in columns)]
    return markdown_table(pd.DataFrame(rows, columns=headers), right=tuple(headers[1:])) + "\n"


def accuracy_markdown(table: pd.DataFrame) -> str:
    """``accuracy.md``: the wide language × subset table (when there are subsets), then every slice."""
    wide = by_language_and_subset(table)
    if not wide:
        return every_slice(table)
    return (f"## Accuracy by language and subset, % [95% CI]\n\n{wide}\n## Every slice\n\n"
            + every_slice(table))


def accuracy_panels(table: pd.DataFrame) -> AccuracyPanels:
    """The accuracy table as :func:`pipeline.scoring.accuracy_figure.draw` shows it: languages (``all`` only when
    there is no other), subsets and scorers in the table's order, and (language × subset × scorer) arrays of
    accuracy and its interval (NaN for a slice the table has no row for)."""
    languages = [lang for lang in dict.fromkeys(table["language"]) if lang != "all"] or ["all"]
    subsets, scorers = list(dict.fromkeys(table["subset"])), list(dict.fromkeys(table["scorer"]))
    index = pd.MultiIndex.from_product([languages, subsets, scorers], names=["language", "subset", "scorer"])
    values = table.set_index(["language", "subset", "scorer"])[["accuracy", "ci_low", "ci_high"]].reindex(index)
    shape = (len(languages), len(subsets), len(scorers))
    return AccuracyPanels(languages, subsets, scorers,
                          *(values[column].to_numpy(dtype=float).reshape(shape) for column in values.columns))
