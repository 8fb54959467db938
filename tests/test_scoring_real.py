"""The loaders and a scorer on the real MQM data in ../shared (skipped when it is absent)."""

from pathlib import Path

import pytest

from pipeline.paths import REPO_ROOT
from pipeline.scoring.metaeval import strict_accuracy
from pipeline.scoring.pairs import load_pairs
from pipeline.scoring.scorers import make_scorer, score_pairs

DATA = Path(REPO_ROOT).parent / "shared" / "data"
pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(not DATA.is_dir(), reason="real data in ../shared/data is absent")]


@pytest.fixture(scope="module")
def ted_ende():
    return load_pairs(DATA / "mqm-ted" / "mqm_ted_ende.tsv")


def test_ted_ende_pairs_every_two_of_the_13_systems_with_the_human_reference(ted_ende):
    # 529 segments × C(13, 2) = 41,262 system pairs, minus those with identical outputs
    assert len(ted_ende) == 33_277
    assert int((ted_ende["margin"] == 0).sum()) == 14_532
    assert ted_ende["references"].map(len).eq(1).all()
    assert not ted_ende["pair_id"].str.contains(">ref|ref>").any()


def test_wmt23_side_by_side_archive_merges_duplicate_systems_and_has_no_reference_for_zhen():
    ende = load_pairs(DATA / "mqm-generalmt2023" / "sxs_mqm_generalMT2023_ende.3ratingsPerSegment.tsv.tar.gz")
    assert len(ende) == 2_860 and set(ende["language"]) == {"en-de"}
    assert not ende["pair_id"].str.contains("_with_").any()
    # sources carry <v> spans on omission errors (732 rows): stripped, one prompt per segment
    segments = ende["pair_id"].str.rsplit(":", n=1).str[0]
    assert not ende["prompt"].str.contains("<v>").any()
    assert ende.groupby(segments)["prompt"].nunique().eq(1).all()


def test_chrf_beats_chance_on_easy_ted_pairs(ted_ende):
    sample = ted_ende[ted_ende["pair_id"].str.contains(r":talk\.1:\d{1,2}:") & (ted_ende["subset"] == "easy")]
    scores = score_pairs(sample, make_scorer("chrf"), quiet=True)
    accuracy = strict_accuracy(scores["chosen_score"], scores["rejected_score"])
    assert accuracy.n > 1000 and accuracy.accuracy > 0.52
