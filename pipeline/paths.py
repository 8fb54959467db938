"""Where a run reads and writes: one home for every output path."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Create ``path`` by calling ``write`` on a temporary sibling, then renaming it into place, so a crash
    never leaves half a file; parent directories are created. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class RunPaths:
    """The output layout of a run.

    ``data`` holds the store, the tables and the manifest; ``figures`` holds the figures and the report.
    By default these are the repository's ``data/`` and ``figures/``; with ``--out DIR`` both live under DIR
    (``DIR/`` and ``DIR/figures/``).
    """

    data: Path
    figures: Path

    @classmethod
    def default(cls) -> "RunPaths":
        return cls(REPO_ROOT / "data", REPO_ROOT / "figures")

    @classmethod
    def under(cls, out: Path) -> "RunPaths":
        out = Path(out)
        return cls(out, out / "figures")

    @classmethod
    def demo(cls) -> "RunPaths":
        return cls(REPO_ROOT / "data" / "demo", REPO_ROOT / "figures" / "demo")

    @property
    def store(self) -> Path:
        """The SQLite store the fetch stage fills as records arrive."""
        return self.data / "cache" / "s2.sqlite"

    @property
    def tables(self) -> Path:
        """Parquet/CSV tables: fetch's papers/citations/seeds/field_growth, analysis outputs."""
        return self.data / "processed"

    @property
    def manifest(self) -> Path:
        return self.data / "manifest.json"

    @property
    def report(self) -> Path:
        return self.figures / "report.md"

    def table(self, name: str) -> Path:
        """Path of a named table, e.g. ``table("papers.parquet")``."""
        return self.tables / name
