"""The run manifest: one JSON file per run that every stage adds its section to.

Like sacrebleu's signature, it lets a number be reproduced: source, date, config hash, counts,
truncations, unknown ids, and ``synthetic``/``synthetic_truth`` when the data came from the local server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.paths import write_atomically


def read_manifest(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def update_manifest(path: Path, **sections: Any) -> dict[str, Any]:
    """Merge top-level ``sections`` into the manifest at ``path`` (atomically) and return it."""
    path = Path(path)
    manifest = read_manifest(path)
    manifest.update(sections)
    text = json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n"
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return manifest
