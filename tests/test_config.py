"""Study config: the shipped configs load; every bad key is named in a UserError."""


import pytest

from pipeline.config import load_config, parse_config
from pipeline.errors import UserError
from pipeline.paths import REPO_ROOT


def test_default_study_config_loads_with_seeds_for_every_field():
    config = load_config(REPO_ROOT / "data" / "study.toml")
    assert config.field_names == ("metrics", "reward_models", "llm_judge")
    for spec in config.fields:
        assert len(spec.seeds) >= 10, spec.name
        assert spec.queries and spec.rules
    assert config.fetch.rate == 1.0
    assert len(config.hash) == 16


def _raw(**study):
    return {"study": {"years": [2000, 2020], **study}, "fields": {"metrics": {"queries": ["bleu"]}}}


@pytest.mark.parametrize("raw, key", [
    (_raw(edges=["cites"]), "study.edges"),
    (_raw(years=[2020, 2000]), "study.years"),
    (_raw(counting="half"), "study.counting"),
    ({**_raw(), "fetch": {"rate": 0}}, "fetch.rate"),
    ({**_raw(), "fetch": {"burst": 3}}, "fetch.burst"),
    ({"study": {}, "fields": {"metrics": {}}}, "fields.metrics"),
    ({"study": {}, "fields": {"other": {"queries": ["x"]}}}, "other"),
    ({"study": {}, "fields": {"metrics": {"queries": ["x"], "rules": {"r": "("}}}}, "fields.metrics.rules.r"),
    ({"study": {}, "fields": {"metrics": {"seeds": "missing.csv"}}}, "missing.csv"),
    ({"study": {}, "fields": {}}, "[fields]"),
])
def test_bad_config_names_the_key(raw, key, tmp_path):
    with pytest.raises(UserError, match=key.replace("[", r"\[").replace("]", r"\]")):
        parse_config(raw, path=tmp_path / "study.toml")


def test_hash_changes_with_seed_list_content(tmp_path):
    seeds = tmp_path / "s.csv"
    seeds.write_text("id,title,year\narXiv:1904.09675,BERTScore,2019\n")
    raw = {"study": {}, "fields": {"metrics": {"seeds": "s.csv"}}}
    first = parse_config(raw, path=tmp_path / "study.toml")
    seeds.write_text("id,title,year\narXiv:2004.04696,BLEURT,2020\n")
    second = parse_config(raw, path=tmp_path / "study.toml")
    assert first.fields[0].seeds[0].year == 2019
    assert first.hash != second.hash
