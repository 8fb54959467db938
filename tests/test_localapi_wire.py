"""Replay every recorded real S2 exchange (``../shared/s2-wire/*.yaml``) against the local server.

The real ids are mapped to papers of the synthetic literature with the same role (a bare DOI, a paper with
51–100 references so that the two recorded reference pages have the same pagination fields, …); ids the real
service did not know stay unknown. Each response must have the recorded status and the same shape: the same
keys (in the same order) and value types, recursively, with ``null`` allowed where the other side has a value,
and error bodies must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from pipeline.localapi.server import LocalS2Server
from pipeline.localapi.synth import SynthParams, generate
from pipeline.paths import REPO_ROOT

yaml = pytest.importorskip("yaml")

WIRE = Path(REPO_ROOT).parent / "shared" / "s2-wire"
CASSETTES = sorted(WIRE.glob("*.yaml")) if WIRE.is_dir() else []
pytestmark = pytest.mark.skipif(not CASSETTES, reason=f"recorded S2 exchanges not found in {WIRE}")

MAP_KEYS = {"externalIds"}
"""Objects whose keys vary from paper to paper (only the types of common keys are compared)."""


@pytest.fixture(scope="module")
def literature():
    return generate(SynthParams(seed=4, n_papers=1500, mean_refs=30))


@pytest.fixture(scope="module")
def id_map(literature):
    papers = literature.papers
    plain_doi = papers[papers.external_ids.str.contains('"DOI": "10.5555')]
    paged = plain_doi[plain_doi.reference_count.between(51, 100)]
    doi = lambda row: row.external_ids.split('"DOI": "')[1].split('"')[0]  # noqa: E731
    return {
        "10.1093/mind/lix.236.433": doi(plain_doi.iloc[0]),
        "10.2139/ssrn.2250500": doi(paged.iloc[0]),
        "CorpusId:470667": f"CorpusId:{papers.corpus_id.iloc[1]}",
        "0f40b1f08821e22e859c6050916cec3667778613": papers.paper_id.iloc[2],
        "query=kubernetes": "query=we",                   # a query with more than one page of matches
    }


@pytest.fixture(scope="module")
def server(literature):
    with LocalS2Server(literature) as running:
        yield running


def interactions():
    for cassette in CASSETTES:
        for number, exchange in enumerate(yaml.safe_load(cassette.read_text())["interactions"]):
            yield pytest.param(exchange, id=f"{cassette.stem}-{number}")


def _substitute(text: str, id_map: dict) -> str:
    for real, synthetic in id_map.items():
        text = text.replace(real, synthetic)
    return text


def _recorded(response: dict) -> tuple[int, str]:
    status = response["status"]["code"] if "status" in response else response["status_code"]
    body = response["body"]["string"] if "body" in response else response["content"]
    return status, body


def shape_differences(real, synthetic, where="$") -> list[str]:
    """Where ``synthetic`` differs in shape from ``real`` (keys, key order, value types)."""
    if real is None or synthetic is None:
        return []
    if type(real) is not type(synthetic):
        return [f"{where}: {type(real).__name__} recorded, {type(synthetic).__name__} served"]
    if isinstance(real, dict):
        if where.rsplit(".", 1)[-1] in MAP_KEYS:
            common = real.keys() & synthetic.keys()
            return [d for k in common for d in shape_differences(real[k], synthetic[k], f"{where}.{k}")]
        if list(real) != list(synthetic):
            return [f"{where}: keys {list(real)} recorded, {list(synthetic)} served"]
        return [d for k in real for d in shape_differences(real[k], synthetic[k], f"{where}.{k}")]
    if isinstance(real, list):
        if bool(real) != bool(synthetic):
            return [f"{where}: {len(real)} items recorded, {len(synthetic)} served"]
        return [d for i, (r, s) in enumerate(zip(real[:5], synthetic[:5]))
                for d in shape_differences(r, s, f"{where}[{i}]")]
    return []


@pytest.mark.parametrize("exchange", list(interactions()))
def test_recorded_exchange_replays_with_the_same_status_and_shape(exchange, server, id_map):
    request = exchange["request"]
    split = urlsplit(_substitute(request["uri"], id_map))
    body = _substitute(request["body"], id_map) if request["body"] else None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        served = client.request(request["method"], split.path + (f"?{split.query}" if split.query else ""),
                                content=body, headers={"Content-Type": "application/json"} if body else None)
    status, recorded_body = _recorded(exchange["response"])
    real = json.loads(recorded_body)
    assert served.status_code == status
    assert served.headers["Content-Type"] == "application/json"
    synthetic = served.json()
    if status >= 400:
        assert synthetic == real
    else:
        assert shape_differences(real, synthetic) == []
        if isinstance(real, list):
            assert [x is None for x in synthetic] == [x is None for x in real]
        if isinstance(real, dict) and "token" in real:            # a full bulk-search page
            assert len(synthetic["data"]) == len(real["data"]) == 1000


def test_shape_comparison_notices_missing_keys_and_wrong_types():
    assert shape_differences({"a": 1, "b": [{"c": "x"}]}, {"a": 1, "b": [{"c": "y"}]}) == []
    assert shape_differences({"a": 1}, {"a": "1"}) == ["$.a: int recorded, str served"]
    assert shape_differences({"a": 1, "b": 2}, {"b": 2, "a": 1}) != []
    assert shape_differences({"data": [{"p": None}]}, {"data": []}) == ["$.data: 1 items recorded, 0 served"]
