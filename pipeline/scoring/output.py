"""What a score run shows: the accuracy table as markdown, and a dot plot with confidence intervals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SUBSET_COLOURS = ["#000000", "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"]
"""Okabe & Ito (2008) colour-blind-safe palette; ``all`` is black."""


def _percent(value: float) -> str:
    return "–" if pd.isna(value) else f"{100 * value:.1f}"


def markdown_table(table: pd.DataFrame) -> str:
    """The accuracy table as GitHub markdown, accuracies in percent with their 95% CI."""
    lines = ["| scorer | language | subset | n | accuracy % [95% CI] | scorer ties | human ties | "
             "tie-calibrated acc % (ε) |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for row in table.itertuples():
        lines.append(f"| {row.scorer} | {row.language} | {row.subset} | {row.n} | {_percent(row.accuracy)} "
                     f"[{_percent(row.ci_low)}, {_percent(row.ci_high)}] | {row.ties} | {row.human_ties} | "
                     f"{_percent(row.acc_tie_calibrated)} ({row.epsilon:.3g}) |")
    return "\n".join(lines) + "\n"


def plot_accuracy(table: pd.DataFrame, stem: Path, *, title: str) -> list[Path]:
    """Dot plot of strict accuracy per scorer (rows) and subset (colours) with 95% bootstrap intervals, one panel
    per language when there are several; writes ``stem.png`` and ``stem.pdf`` and returns their paths."""
    languages = [lang for lang in dict.fromkeys(table["language"]) if lang != "all"] or ["all"]
    subsets = list(dict.fromkeys(table["subset"]))
    scorers = list(dict.fromkeys(table["scorer"]))
    height = 1.3 + 0.22 * len(scorers) * len(subsets)
    fig, axes = plt.subplots(1, len(languages), figsize=(2.2 + 2.8 * len(languages), height), sharey=True,
                             squeeze=False, layout="constrained")
    offsets = np.linspace(-0.3, 0.3, len(subsets)) if len(subsets) > 1 else np.zeros(1)
    for ax, language in zip(axes[0], languages):
        panel = table[table["language"] == language]
        for offset, subset, colour in zip(offsets, subsets, SUBSET_COLOURS * 3):
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
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    stem.parent.mkdir(parents=True, exist_ok=True)
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths
