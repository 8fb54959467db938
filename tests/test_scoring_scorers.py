"""Scorers: values, direction, each distinct input scored once, precomputed scores, clear failures."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sacrebleu

from pipeline.errors import UserError
from pipeline.scoring.pairs import load_pairs
from pipeline.scoring.scorers import Scorer, make_scorer, score_pairs

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"


@pytest.fixture(scope="module")
def mqm_pairs():
    return load_pairs(FIXTURES / "mqm_tiny_ende.tsv")


def test_each_distinct_text_and_context_is_scored_once(mqm_pairs):
    seen = []

    def count(inputs, *, quiet=False):
        seen.extend(inputs["text"])
        return np.arange(len(inputs), dtype=float)

    score_pairs(mqm_pairs, Scorer("count", "references", count, lambda: "counting"))
    # 6 pairs = 12 sides, but 5 distinct (output, references): sysA and sysD wrote the same "Hallo Welt!"
    assert sorted(seen) == ["Guten Morgen.", "Hallo Erde.", "Hallo Welt!", "Hello world.", "Morgen."]


def test_scores_are_mapped_back_to_the_right_side(mqm_pairs):
    scores = score_pairs(mqm_pairs, make_scorer("longer"))
    assert (scores["chosen_score"] == mqm_pairs["chosen"].str.len()).all()
    assert (scores["rejected_score"] == mqm_pairs["rejected"].str.len()).all()
    shorter = score_pairs(mqm_pairs, make_scorer("shorter"))
    assert (shorter["chosen_score"] == -scores["chosen_score"]).all()


def test_sacrebleu_scorers_match_sacrebleu_and_ter_is_negated(mqm_pairs):
    row = mqm_pairs.iloc[0]
    refs = list(row["references"])
    chrf = score_pairs(mqm_pairs, make_scorer("chrf"))["chosen_score"].iloc[0]
    assert chrf == pytest.approx(sacrebleu.sentence_chrf(row["chosen"], refs).score)
    bleu = score_pairs(mqm_pairs, make_scorer("bleu"))["chosen_score"].iloc[0]
    assert bleu == pytest.approx(sacrebleu.sentence_bleu(row["chosen"], refs).score)
    ter = score_pairs(mqm_pairs, make_scorer("ter"))["chosen_score"].iloc[0]
    assert ter == pytest.approx(-sacrebleu.sentence_ter(row["chosen"], refs).score)


def test_reference_based_scorers_leave_unreferenced_pairs_unscored():
    pairs = load_pairs(FIXTURES / "rewardbench_tiny.jsonl")
    assert score_pairs(pairs, make_scorer("chrf"))[["chosen_score", "rejected_score"]].isna().all(axis=None)


def test_precomputed_scores_are_keyed_by_text_id(tmp_path, mqm_pairs):
    table = pd.concat([mqm_pairs[["chosen_id"]].set_axis(["text_id"], axis=1).assign(score=1.0),
                       mqm_pairs[["rejected_id"]].set_axis(["text_id"], axis=1).assign(score=0.0)])
    table = table.drop_duplicates("text_id")
    path = tmp_path / "rm.csv"
    table.to_csv(path, index=False)
    scorer = make_scorer(f"scores:{path}")
    assert scorer.name == "scores:rm"
    scores = score_pairs(mqm_pairs, scorer)
    expected = mqm_pairs["chosen_id"].map(table.set_index("text_id")["score"])
    assert (scores["chosen_score"] == expected).all()


def test_precomputed_scores_missing_a_text_is_a_user_error(tmp_path, mqm_pairs):
    path = tmp_path / "partial.csv"
    pd.DataFrame({"text_id": [mqm_pairs["chosen_id"].iloc[0]], "score": [1.0]}).to_csv(path, index=False)
    with pytest.raises(UserError, match="no score for 4 of 5 texts"):
        score_pairs(mqm_pairs, make_scorer(f"scores:{path}"))


@pytest.mark.parametrize("content, message", [
    ("id,value\na,1\n", "lacks column"),
    ("text_id,score\na,high\n", "is not a number"),
])
def test_bad_precomputed_scores_file_is_a_user_error(tmp_path, content, message):
    path = tmp_path / "s.csv"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        make_scorer(f"scores:{path}")


@pytest.mark.parametrize("spec", ["bertscore", "scores:", "comet"])
def test_unknown_scorer_is_a_user_error(spec):
    with pytest.raises(UserError, match="unknown scorer"):
        make_scorer(spec)


@pytest.mark.parametrize("spec, extra", [("comet:Unbabel/wmt22-cometkiwi-da", "comet"),
                                         ("rm:OpenAssistant/reward-model-deberta-v3-large-v2", "rm")])
def test_model_scorers_without_package_or_weights_fail_with_one_clear_line(spec, extra, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on the network: weights must come from the cache
    hub = sys.modules.get("huggingface_hub.constants")  # read at import: an earlier test may have imported it
    if hub is not None:
        monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError) as info:
        make_scorer(spec)
    message = str(info.value)
    assert "\n" not in message
    assert f"[{extra}]" in message or "could not load" in message


def test_score_all_scores_forkable_scorers_beside_each_other_with_the_same_numbers(mqm_pairs, monkeypatch):
    import os

    from pipeline.scoring import parallel, scorers

    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    pids = []

    def where(inputs, *, quiet=False):
        pids.append(os.getpid())
        return np.zeros(len(inputs))

    chosen = [make_scorer("chrf"), Scorer("where", "none", where, lambda: "pid", forkable=True), make_scorer("bleu")]
    together = scorers.score_all(mqm_pairs, chosen)
    alone = [(score_pairs(mqm_pairs, make_scorer(name)), make_scorer(name)) for name in ("chrf", "bleu")]
    for (scores, signature), (want, scorer) in zip([together[0], together[2]], alone):
        pd.testing.assert_frame_equal(scores, want)
        assert signature.startswith("sacrebleu sentence-level nrefs:1|")  # the forked scorer's state came back
    assert pids == [] and together[1][1] == "pid"  # "where" ran in another process: its list here stays empty
