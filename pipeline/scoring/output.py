"""What a score run shows: the accuracy table as markdown (wide by language × subset, then every slice), and a dot
plot with confidence intervals.

The figure uses the project's one style and save routine (:mod:`pipeline.style`), imported (with matplotlib) only
when a figure is drawn; the tables use the one markdown helper (:mod:`pipeline.markdown`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.markdown import markdown_table


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


def prepare_figure() -> None:
    """What :func:`plot_accuracy` pays on its first call, paid in advance: importing matplotlib with the file
    backend, and one throw-away drawing of a two-row table into a temporary directory (font loading, the layout
    engine, the PNG writer: 0.1 s of a first 0.2 s drawing). The score stage runs this in a side process while it
    loads and scores, so the real figure is then drawn in a tenth of a second."""
    import tempfile

    from pipeline.style import use_file_backend

    use_file_backend()
    sample = pd.DataFrame({"scorer": ["a", "a"], "language": ["all", "all"], "subset": ["all", "hard"],
                           "accuracy": [0.5, 0.6], "ci_low": [0.4, 0.5], "ci_high": [0.6, 0.7]})
    with tempfile.TemporaryDirectory() as scratch:
        plot_accuracy(sample, Path(scratch), "warm-up", title="warm-up")


def plot_accuracy(table: pd.DataFrame, directory: Path, name: str, *, title: str,
                  formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Dot plot of strict accuracy per scorer (rows) and subset (colours) with 95% bootstrap intervals, one panel
    per language when there are several; writes ``directory/name.png`` (and ``.pdf`` if in ``formats``) and
    returns the paths written."""
    from pipeline.style import publication_style, use_file_backend

    use_file_backend()
    with publication_style():
        return _plot_accuracy(table, directory, name, title=title, formats=formats)


def _plot_accuracy(table: pd.DataFrame, directory: Path, name: str, *, title: str,
                   formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from pipeline.style import SERIES_COLOURS, save

    languages = [lang for lang in dict.fromkeys(table["language"]) if lang != "all"] or ["all"]
    subsets = list(dict.fromkeys(table["subset"]))
    scorers = list(dict.fromkeys(table["scorer"]))
    height = 1.3 + 0.22 * len(scorers) * len(subsets)
    fig, axes = plt.subplots(1, len(languages), figsize=(2.2 + 2.8 * len(languages), height), sharey=True,
                             squeeze=False, layout="constrained")
    offsets = np.linspace(-0.3, 0.3, len(subsets)) if len(subsets) > 1 else np.zeros(1)
    for ax, language in zip(axes[0], languages):
        panel = table[table["language"] == language]
        for offset, subset, colour in zip(offsets, subsets, SERIES_COLOURS * 3):
            rows = panel[panel["subset"] == subset].set_index("scorer").reindex(scorers)
            y = np.arange(len(scorers)) + offset
            err = np.vstack([rows["accuracy"] - rows["ci_low"], rows["ci_high"] - rows["accuracy"]])
            ax.errorbar(rows["accuracy"], y, xerr=err, fmt="o", color=colour, ms=4, capsize=2, lw=1,
                        label=subset if language == languages[0] else None)
        ax.axvline(0.5, color="#999999", lw=0.8, ls="--", zorder=0)
        ax.set_title(language if len(languages) > 1 else "", fontsize=10)
        ax.set_xlabel("accuracy (strict >)")
        ax.set_xlim(0, 1)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", ".25", ".5", ".75", "1"])
        ax.grid(axis="x", color="#dddddd", lw=0.5)
    axes[0][0].invert_yaxis()  # shared: first scorer on top in every panel
    axes[0][0].set_yticks(np.arange(len(scorers)), scorers)
    fig.legend(loc="outside lower center", ncols=min(len(subsets), 5), frameon=False, fontsize=9,
               title="subset (dots: accuracy; bars: 95% bootstrap CI)", title_fontsize=8)
    fig.suptitle(textwrap.fill(title, width=int(45 * fig.get_figwidth() / 5)), fontsize=10)
    return list(save(fig, directory, name, formats=formats).values())
