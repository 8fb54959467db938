"""The run manifest merges sections from every stage without losing the others'."""

import json

from pipeline.manifest import read_manifest, update_manifest


def test_sections_from_stages_merge(tmp_path):
    path = tmp_path / "run" / "manifest.json"
    update_manifest(path, fetch={"requests": {"total": 3}}, synthetic=True)
    update_manifest(path, analysis={"papers": 10})
    manifest = read_manifest(path)
    assert manifest == {"fetch": {"requests": {"total": 3}}, "synthetic": True, "analysis": {"papers": 10}}
    assert json.loads(path.read_text()) == manifest
    assert not list(path.parent.glob("*.tmp"))


def test_missing_manifest_reads_empty(tmp_path):
    assert read_manifest(tmp_path / "none.json") == {}
