"""The accuracy figure of a score run, drawn from plain arrays (:class:`AccuracyPanels`).

This module imports neither pandas nor, until a figure is drawn, matplotlib: the score stage forks the process
that draws it before anything heavy is imported, and that process then imports matplotlib only (0.4 s), not
pandas as well, while the scoring process imports, loads and scores. :func:`pipeline.scoring.output.accuracy_panels`
makes the arrays from the accuracy table; the style and save routine are the project's one
(:mod:`pipeline.style`).
"""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class AccuracyPanels:
    """What the figure shows: one panel per language, one row per scorer, one colour per subset."""

    languages: list[str]
    subsets: list[str]
    scorers: list[str]
    accuracy: np.ndarray
    """(languages, subsets, scorers) strict accuracy; NaN where that slice has no row."""
    ci_low: np.ndarray
    ci_high: np.ndarray


def prepare() -> None:
    """What :func:`draw` pays on its first call, paid in advance: importing matplotlib with the file backend, and
    one throw-away drawing into a temporary directory (font loading, the layout engine, the PNG writer: 0.1 s of a
    first 0.2 s drawing). The score stage runs this in its side process while it loads and scores, so the real
    figure is then drawn in a tenth of a second."""
    sample = AccuracyPanels(["all"], ["all", "hard"], ["a"], np.array([[[0.5], [0.6]]]), np.array([[[0.4], [0.5]]]),
                            np.array([[[0.6], [0.7]]]))
    with tempfile.TemporaryDirectory() as scratch:
        draw(sample, Path(scratch), "warm-up", title="warm-up")


def draw(panels: AccuracyPanels, directory: Path, name: str, *, title: str,
         formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Dot plot of strict accuracy per scorer (rows) and subset (colours) with 95% bootstrap intervals, one panel
    per language when there are several; writes ``directory/name.png`` (and ``.pdf`` if in ``formats``) and
    returns the paths written."""
    from pipeline.style import publication_style, use_file_backend

    use_file_backend()
    with publication_style():
        return _draw(panels, directory, name, title=title, formats=formats)


def _draw(panels: AccuracyPanels, directory: Path, name: str, *, title: str, formats: tuple[str, ...]) -> list[Path]:
    import matplotlib.pyplot as plt

    from pipeline.style import SERIES_COLOURS, save

    languages, subsets, scorers = panels.languages, panels.subsets, panels.scorers
    height = 1.3 + 0.22 * len(scorers) * len(subsets)
    fig, axes = plt.subplots(1, len(languages), figsize=(2.2 + 2.8 * len(languages), height), sharey=True,
                             squeeze=False, layout="constrained")
    offsets = np.linspace(-0.3, 0.3, len(subsets)) if len(subsets) > 1 else np.zeros(1)
    for i, (ax, language) in enumerate(zip(axes[0], languages)):
        for j, (offset, subset, colour) in enumerate(zip(offsets, subsets, SERIES_COLOURS * 3)):
            accuracy = panels.accuracy[i, j]
            err = np.vstack([accuracy - panels.ci_low[i, j], panels.ci_high[i, j] - accuracy])
            ax.errorbar(accuracy, np.arange(len(scorers)) + offset, xerr=err, fmt="o", color=colour, ms=4,
                        capsize=2, lw=1, label=subset if i == 0 else None)
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
