"""sacrebleu scorers, the whole corpus at once: the same numbers as sacrebleu's sentence_score."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sacrebleu.metrics import BLEU, CHRF, TER

from pipeline.scoring import lexical, parallel

CASES = [  # (language, references, hypothesis)
    ("de-en", ("The cat sat on the mat.", "A cat was sitting on the mat."), "The cat sat on a mat."),
    ("de-en", ("The cat sat on the mat.", "A cat was sitting on the mat."), "Cats sit."),
    ("de-en", ("The cat sat on the mat.", "A cat was sitting on the mat."), ""),
    ("en-de", ("Guten Morgen, wie geht es dir?",), "Guten Morgen, wie geht's?"),
    ("en-de", ("Guten Morgen, wie geht es dir?",), "Guten Morgen, wie geht es dir?"),
    ("en-zh", ("我每天早上喝一杯茶。",), "我每天早晨喝茶。"),
    ("en-zh", ("我每天早上喝一杯茶。", "每天早上我都喝一杯茶。"), "早上喝茶"),
]


def sentence_reference(kind, language, references, hypothesis):
    target = lexical.target_language(language)
    metric = {"bleu": lambda: BLEU(effective_order=True, tokenize="zh" if target == "zh" else "13a"),
              "chrf": CHRF, "ter": lambda: TER(asian_support=target == "zh")}[kind]()
    return metric.sentence_score(hypothesis, list(references)).score


@pytest.mark.parametrize("kind", lexical.KINDS)
def test_corpus_at_once_gives_sacrebleus_sentence_scores_exactly(kind):
    scorer = lexical.SacrebleuScores(kind)
    got = scorer([h for _, _, h in CASES], [r for _, r, _ in CASES], [lang for lang, _, _ in CASES], quiet=True)
    sign = -1.0 if kind == "ter" else 1.0
    assert got.tolist() == [sign * sentence_reference(kind, *case) for case in CASES]


TEXT = st.text(st.sampled_from(list("ab cd.,-&;:!()/'\"0123456789\n\t\u00a0\u3000猫狗é")), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["de-en", "en-zh", "en-ja"]), st.lists(TEXT, min_size=1, max_size=3),
                          st.lists(TEXT, min_size=1, max_size=4)), min_size=1, max_size=4))
def test_chrf_and_bleu_equal_sentence_score_on_any_texts(segments):
    # random texts over spaces, digits, punctuation, Unicode whitespace and CJK, 1–3 references per segment
    # (a segment's outputs may repeat, references may be empty): every score is sacrebleu's, to the last bit
    texts = [h for _, _, hyps in segments for h in hyps]
    references = [tuple(refs) for _, refs, hyps in segments for _ in hyps]
    languages = [lang for lang, _, hyps in segments for _ in hyps]
    for kind in ("chrf", "bleu"):
        got = lexical.SacrebleuScores(kind)(texts, references, languages, quiet=True).tolist()
        target = [lexical.target_language(lang) for lang in languages]
        want = [lexical.build_metric(kind, t).sentence_score(h, list(r)).score
                for t, h, r in zip(target, texts, references)]
        assert got == want


def test_outputs_and_references_of_different_segments_do_not_mix():
    # the same text against different references, and the same n-grams in other segments' references
    texts = ["the cat sat", "the cat sat", "dog", "the cat sat"]
    references = [("the cat sat",), ("a dog ran",), ("the cat sat", "dog"), ("cat the sat",)]
    got = lexical.SacrebleuScores("chrf")(texts, references, ["de-en"] * 4, quiet=True)
    assert got.tolist() == [sentence_reference("chrf", "de-en", r, h) for r, h in zip(references, texts)]
    assert got[0] == 100.0 and got[1] < 20


def test_outputs_without_references_are_left_unscored():
    scores = lexical.SacrebleuScores("bleu")(["a b c", "a b c"], [(), ("a b c",)], ["", ""], quiet=True)
    assert np.isnan(scores[0]) and scores[1] == pytest.approx(100.0)


def test_signature_names_the_reference_count_or_var_when_it_varies():
    scorer = lexical.SacrebleuScores("chrf")
    scorer(["x", "y"], [("x",), ("y",)], ["de-en", "de-en"], quiet=True)
    assert scorer.signature().startswith("sacrebleu sentence-level nrefs:1|")
    scorer(["x"], [("x", "z")], ["de-en"], quiet=True)
    assert "nrefs:var" in scorer.signature()


def test_ter_scores_do_not_depend_on_the_number_of_workers(monkeypatch):
    monkeypatch.setattr(lexical, "TER_PARALLEL_FROM", 1)
    words = "the a cat dog sat ran on under mat table quickly slowly".split()
    texts = [" ".join(words[(i * k) % len(words)] for k in range(1, 7)) for i in range(60)]
    groups = [("en", (texts[g * 10],), texts[g * 10:g * 10 + 10]) for g in range(6)]  # 6 segments of 10 outputs
    serial = lexical.ter_scores(groups, workers=1, quiet=True)
    forked = lexical.ter_scores(groups, workers=2, quiet=True)
    assert serial == forked and len(serial) == 6
    assert serial[0][0] == 0.0  # the first output of each segment is its reference


def test_workers_are_the_cores_this_process_may_use_whatever_the_load(monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 3}, raising=False)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (7.5, 7.5, 7.5))
    assert parallel.available_cores() == 2
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(), raising=False)
    assert parallel.available_cores() == 1


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x * x


def test_ordered_map_keeps_the_order_and_raises_a_workers_error():
    assert list(parallel.ordered_map(_fail_on_three, [5, 1, 4, 2], workers=2)) == [25, 1, 16, 4]
    with pytest.raises(ValueError, match="three"):
        list(parallel.ordered_map(_fail_on_three, [1, 3], workers=2))


def _pid_and(x):
    import os

    return os.getpid(), x


def _boom():
    raise ValueError("no figure today")


@pytest.mark.parametrize("cores", [1, 2])
def test_side_process_answers_its_call_and_raises_its_error(monkeypatch, cores):
    import os

    monkeypatch.setattr(parallel, "available_cores", lambda: cores)
    with parallel.SideProcess(lambda: None) as side:
        side.call(_pid_and, 7)
        pid, value = side.result()
    assert value == 7 and (pid == os.getpid()) == (cores == 1)  # two cores: the call ran in another process
    with parallel.SideProcess(lambda: None) as side:
        side.call(_boom)
        with pytest.raises(ValueError, match="no figure today"):
            side.result()


def test_side_process_never_called_is_stopped_on_leaving(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    with parallel.SideProcess(lambda: None) as side:
        process = side._process
        assert process.is_alive()
    assert not process.is_alive()


PIECES = ["a", "B", "é", "猫", " ", "  ", ".", ",", "-", "1", "9", "&", "&quot;", "&amp;", "&lt;", "&gt;", "<skipped>",
          "-\n", "\n", "\t", "\u00a0", "'", '"', "(", "]", "/", "@", "~", "`", "\r", "\u2028"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), max_size=8), st.booleans())
def test_13a_tokens_of_all_texts_at_once_are_sacrebleus_text_by_text(texts, lowercase):
    # entities, <skipped>, hyphen-newlines, digits next to periods/commas/dashes and texts that end in them: the
    # joined rewrite must give each text the tokens sacrebleu's own 13a call gives it alone
    metric = BLEU(effective_order=True, tokenize="13a", lowercase=lowercase)
    alone = [BLEU(effective_order=True, tokenize="13a", lowercase=lowercase)._preprocess_segment(t).split()
             for t in texts]
    assert lexical._bleu_tokens(metric, texts) == alone


def test_other_tokenizers_and_changed_13a_rules_take_sacrebleus_call(monkeypatch):
    texts = ["我每天早上喝茶。", "Hello, world. 1,000-2"]
    for tokenize in ("zh", "char", "intl"):
        metric = BLEU(effective_order=True, tokenize=tokenize)
        assert lexical._bleu_tokens(metric, texts) == [metric._preprocess_segment(t).split() for t in texts]
    metric = BLEU(effective_order=True, tokenize="13a")
    calls = []
    monkeypatch.setattr(lexical, "_13A_RULES", [])  # as if another sacrebleu had other rules
    monkeypatch.setattr(metric, "_preprocess_segment", lambda t: calls.append(t) or t)
    assert lexical._bleu_tokens(metric, texts) == [t.split() for t in texts] and calls == texts


def _pid():
    import os

    return os.getpid()


@pytest.mark.parametrize("cores", [1, 2])
def test_forked_runs_a_closure_without_pickling_its_inputs_and_raises_its_error(monkeypatch, cores):
    import os
    import threading

    monkeypatch.setattr(parallel, "available_cores", lambda: cores)
    unpicklable = threading.Lock()  # a closure over it could not be sent to a process: a fork needs no sending
    with parallel.Forked(lambda: (_pid(), unpicklable.locked())) as forked:
        pid, locked = forked.result()
    assert locked is False and (pid == os.getpid()) == (cores == 1)
    with parallel.Forked(_boom) as forked:
        with pytest.raises(ValueError, match="no figure today"):
            forked.result()


def _niceness():
    import os

    return os.nice(0)


def test_slack_processes_run_at_a_lower_priority(monkeypatch):
    import os

    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    here = os.nice(0)
    with parallel.Forked(_niceness, slack=True) as slack, parallel.Forked(_niceness) as urgent:
        assert slack.result() == min(19, here + parallel.SLACK_NICENESS) and urgent.result() == here
    with parallel.SideProcess(lambda: None, slack=True) as side:
        side.call(_niceness)
        assert side.result() == min(19, here + parallel.SLACK_NICENESS)


def test_paused_gc_pauses_only_inside_and_restores_the_previous_state():
    import gc

    assert gc.isenabled()
    with parallel.paused_gc():
        assert not gc.isenabled()
        with parallel.paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not switch it back on early
    assert gc.isenabled()
