"""Preference pairs: MQM arithmetic, pair construction, and the chosen/rejected loaders."""

import gzip
import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import UserError
from pipeline.scoring.pairs import (PAIR_COLUMNS, load_pairs, mqm_segment_scores, read_mqm_ratings, split_dialogue,
                                    text_id)

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"
MQM = FIXTURES / "mqm_tiny_ende.tsv"


def segment_scores():
    ratings = read_mqm_ratings(MQM.read_text(encoding="utf-8"), origin="fixture")
    return mqm_segment_scores(ratings).set_index(["segment", "system"])


def test_mqm_segment_score_is_mean_over_raters_of_weighted_errors():
    scores = segment_scores()["score"]
    assert scores["talk.1:1", "sysA"] == pytest.approx((0.1 + 0) / 2)  # minor punctuation weighs 0.1
    assert scores["talk.1:1", "sysB"] == pytest.approx((5 + 1 + 1) / 2)  # major 5 + minor 1; minor 1
    assert scores["talk.1:1", "sysC"] == pytest.approx((25 + 0) / 2)  # non-translation 25; HOTW check 0
    assert scores["talk.1:1", "sysD"] == 0  # no error; neutral 0


def test_error_spans_are_stripped_from_targets():
    texts = segment_scores()["text"]
    assert texts["talk.1:1", "sysB"] == "Hallo Erde."
    assert texts["talk.1:1", "sysC"] == "Hello world."


def pairs_by_systems():
    pairs = load_pairs(MQM)
    pairs["systems"] = pairs["pair_id"].str.split(":").str[-1]
    return pairs.set_index("systems")


def test_mqm_pairs_prefer_the_lower_score_and_split_easy_hard_by_gap():
    pairs = pairs_by_systems()
    assert sorted(pairs.index) == ["sysA>sysB", "sysA>sysB", "sysA>sysC", "sysB>sysC", "sysD>sysB", "sysD>sysC"]
    seg1 = pairs[pairs["pair_id"].str.contains(":1:")]
    assert seg1.loc["sysA>sysB", "margin"] == pytest.approx(3.45)
    assert seg1.loc["sysA>sysB", "subset"] == "hard"
    assert seg1.loc["sysB>sysC", "margin"] == pytest.approx(9.0)
    assert seg1.loc["sysB>sysC", "subset"] == "easy"
    assert seg1.loc["sysA>sysB", "chosen"] == "Hallo Welt!" and seg1.loc["sysA>sysB", "rejected"] == "Hallo Erde."
    assert set(pairs["language"]) == {"en-de"}
    assert list(load_pairs(MQM).columns) == PAIR_COLUMNS


def test_hard_threshold_is_configurable():
    subsets = load_pairs(MQM, hard_below=10).set_index("pair_id")["subset"]
    assert subsets["mqm_tiny_ende:talk.1:1:sysB>sysC"] == "hard"
    assert subsets["mqm_tiny_ende:talk.1:1:sysA>sysC"] == "easy"


def test_identical_outputs_make_no_pair_and_equal_scores_are_human_ties():
    pairs = load_pairs(MQM)
    assert not pairs["pair_id"].str.contains("sysA>sysD|sysD>sysA").any()  # same text "Hallo Welt!"
    tie = pairs[pairs["pair_id"].str.contains(":2:")]
    assert len(tie) == 1 and tie["margin"].iloc[0] == 0 and tie["subset"].iloc[0] == "hard"


def test_reference_translations_are_references_not_candidates():
    pairs = load_pairs(MQM)
    assert not pairs["pair_id"].str.contains("ref").any()
    assert set(pairs["references"]) == {("Hallo Welt.",), ("Guten Morgen.",)}


def test_side_by_side_duplicates_are_one_system_averaged_over_all_ratings():
    text = ("system\tdoc\tdocSegId\trater\tsource\ttarget\tcategory\tseverity\n"
            "X_with_refA\td:en-de\t1\tr1\tHi\tHallo\tAccuracy/Mistranslation\tMajor\n"
            "X_with_Y\td:en-de\t1\tr1\tHi\tHallo\tNo-error\tNo-error\n"
            "Y\td:en-de\t1\tr1\tHi\tServus\tNo-error\tNo-error\n")
    scores = mqm_segment_scores(read_mqm_ratings(text, origin="t")).set_index("system")
    assert scores.loc["X", "score"] == pytest.approx(2.5) and scores.loc["X", "raters"] == 2
    assert set(scores.index) == {"X", "Y"}


def test_tar_gz_of_tsv_reads_like_the_plain_tsv(tmp_path):
    archive = tmp_path / "mqm_tiny_ende.tsv.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(MQM, arcname="mqm_tiny_ende.tsv")
    pd.testing.assert_frame_equal(load_pairs(archive), load_pairs(MQM))


def test_hh_rlhf_transcripts_split_into_shared_prompt_and_final_responses():
    prompt, chosen, rejected = split_dialogue("\n\nHuman: hi\n\nAssistant: hello!", "\n\nHuman: hi\n\nAssistant: go away")
    assert (prompt, chosen, rejected) == ("\n\nHuman: hi\n\nAssistant:", " hello!", " go away")
    # transcripts that diverge before the last turn share only the turns before the divergence
    prompt, chosen, _ = split_dialogue("\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d",
                                       "\n\nHuman: a\n\nAssistant: x")
    assert prompt == "\n\nHuman: a\n\nAssistant:" and chosen == " b\n\nHuman: c\n\nAssistant: d"


def test_hh_rlhf_file_loads_with_subset_from_its_name(tmp_path):
    path = tmp_path / "harmless-base-test.jsonl.gz"
    rows = [{"chosen": "\n\nHuman: q\n\nAssistant: good", "rejected": "\n\nHuman: q\n\nAssistant: bad"}]
    path.write_bytes(gzip.compress("\n".join(map(json.dumps, rows)).encode()))
    pairs = load_pairs(path)
    assert pairs.loc[0, ["prompt", "chosen", "rejected", "subset"]].tolist() == [
        "\n\nHuman: q\n\nAssistant:", " good", " bad", "harmless-base-test"]


def test_rewardbench_jsonl_and_parquet_give_the_same_pairs(tmp_path):
    jsonl = load_pairs(FIXTURES / "rewardbench_tiny.jsonl")
    assert jsonl["subset"].tolist() == ["alpacaeval-easy", "math-prm", "alpacaeval-easy", "hep-python"]
    assert jsonl["pair_id"].iloc[0] == "rewardbench_tiny:1" and jsonl["margin"].isna().all()
    parquet = tmp_path / "rewardbench_tiny.parquet"
    pd.read_json(FIXTURES / "rewardbench_tiny.jsonl", lines=True).to_parquet(parquet)
    pd.testing.assert_frame_equal(load_pairs(parquet), jsonl)


def test_text_id_depends_on_prompt_and_text():
    assert text_id("p", "t") == text_id("p", "t") != text_id("q", "t")
    pairs = load_pairs(FIXTURES / "rewardbench_tiny.jsonl")
    assert pairs.loc[0, "chosen_id"] == text_id("Name a colour.", "Blue.")


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b'{"prompt": "p", "chosen": "a"}\n', "lacks column(s) rejected"),
    (b'{"prompt": "p", "chosen": "same", "rejected": "same"}\n', "same text"),
    ('{"prompt": "p", "chosen": "caf\u00e9", "rejected": "b"}\n'.encode("latin-1"), "not UTF-8"),
    (b'{"prompt": "p", "chosen": "a", "rejected": \n', "line 1 is not valid JSON"),
])
def test_bad_pair_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_pairs(path)


def test_mqm_file_without_required_columns_is_a_user_error(tmp_path):
    path = tmp_path / "x_ende.tsv"
    path.write_text("system\tdoc\tseg_id\trater\tsource\ttarget\n", encoding="utf-8")
    with pytest.raises(UserError, match="lacks MQM column"):
        load_pairs(path)


def test_unknown_mqm_severity_is_a_user_error():
    text = MQM.read_text(encoding="utf-8").replace("\tMajor\n", "\tCritical\n", 1)
    with pytest.raises(UserError, match="unknown MQM severity 'critical'"):
        mqm_segment_scores(read_mqm_ratings(text, origin="t"))


def test_unknown_format_is_a_user_error(tmp_path):
    (tmp_path / "pairs.xlsx").write_bytes(b"PK")
    with pytest.raises(UserError, match="--format"):
        load_pairs(tmp_path / "pairs.xlsx")


def test_reader_accepts_a_json_array(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(json.dumps([{"prompt": "p", "chosen": "a", "rejected": "b", "language": "de"}]))
    assert load_pairs(path).loc[0, ["subset", "language"]].tolist() == ["set", "de"]


def mqm_text(rows: list[str]) -> str:
    return "system\tdoc\tseg_id\trater\tsource\ttarget\tcategory\tseverity\n" + "".join(r + "\n" for r in rows)


def test_error_spans_are_stripped_from_sources_so_a_segment_has_one_prompt():
    # Omission errors mark their span in the source; one row also carries a stray space (as in generalMT2023)
    text = mqm_text(["A\tt\t1\tr1\tHello <v>big</v> world.\tHallo Welt.\tAccuracy/Omission\tMajor",
                     "A\tt\t1\tr1\tHello big world.\tHallo <v>Welt</v>.\tStyle/Awkward\tMinor",
                     "B\tt\t1\tr2\tHello big world.\tHallo große Welt.\tNo-error\tNo-error",
                     "C\tt\t1\tr3\tHello big  world.\tHallo große Welt!\tNo-error\tNo-error"])
    segments = mqm_segment_scores(read_mqm_ratings(text, origin="t"))
    assert set(segments["source"]) == {"Hello big world."}


def test_equal_error_sums_added_in_another_order_are_a_human_tie(tmp_path):
    # 0.1 + 5 + 0.1 and 5 + 0.1 + 0.1 differ in the last bit (real case: TED zh-en talk.7 seg 516)
    path = tmp_path / "order_ende.tsv"
    path.write_text(mqm_text(["A\tt\t1\tr1\tHi.\tHallo.\tFluency/Punctuation\tMinor",
                              "A\tt\t1\tr1\tHi.\tHallo.\tAccuracy/Mistranslation\tMajor",
                              "A\tt\t1\tr1\tHi.\tHallo.\tFluency/Punctuation\tMinor",
                              "B\tt\t1\tr1\tHi.\tServus.\tStyle/Awkward\tMajor",
                              "B\tt\t1\tr1\tHi.\tServus.\tFluency/Punctuation\tMinor",
                              "B\tt\t1\tr1\tHi.\tServus.\tFluency/Punctuation\tMinor"]), encoding="utf-8")
    pairs = load_pairs(path)
    assert pairs["margin"].tolist() == [0.0]


def test_a_gap_of_exactly_one_major_error_is_easy(tmp_path):
    # 10.2 − 5.2 is 4.999999999999999 in floating point; the gap is one Major error, so not "hard" (< 5)
    punctuation, major = "Fluency/Punctuation\tMinor", "Accuracy/Mistranslation\tMajor"
    path = tmp_path / "gap_ende.tsv"
    path.write_text(mqm_text([f"A\tt\t1\tr1\tHi.\tHallo.\t{error}" for error in [major] + [punctuation] * 2]
                             + [f"B\tt\t1\tr1\tHi.\tServus.\t{error}" for error in [major] * 2 + [punctuation] * 2]),
                    encoding="utf-8")
    pairs = load_pairs(path)
    assert pairs[["margin", "subset"]].values.tolist() == [[5.0, "easy"]]


MRB = FIXTURES / "m_rewardbench_translation_tiny.jsonl"


def test_m_rewardbench_translation_rows_become_pairs_by_language_pair_and_difficulty(tmp_path):
    pairs = load_pairs(MRB)
    assert pairs["language"].value_counts().to_dict() == {"de-en": 4, "en-de": 4, "zh-en": 4, "en-zh": 4}
    assert pairs["subset"].value_counts().to_dict() == {"easy": 8, "hard": 8}
    first = pairs.iloc[0]
    assert (first["pair_id"], first["prompt"], first["chosen"], first["language"], first["subset"]) == (
        "m_rewardbench_translation_tiny:0", "Der Zug hat heute zehn Minuten Verspätung.",
        "The train is ten minutes late today.", "de-en", "easy")
    assert pairs["references"].map(len).max() == 0 and pairs["margin"].isna().all()
    parquet = tmp_path / "m_rewardbench_translation_tiny.parquet"
    pd.read_json(MRB, lines=True).to_parquet(parquet)
    pd.testing.assert_frame_equal(load_pairs(parquet), pairs)


@pytest.mark.parametrize("row, message", [
    ({"source": "s", "chosen": "a", "subset": "translation-de-en-easy"}, "lacks column(s) rejected"),
    ({"source": "s", "chosen": "a", "rejected": "b", "subset": "translation-de-en-medium"}, "row 1: subset"),
    ({"source": None, "chosen": "a", "rejected": "b", "subset": "translation-de-en-easy"}, "row 1: source is not"),
])
def test_malformed_m_rewardbench_translation_rows_are_user_errors(tmp_path, row, message):
    path = tmp_path / "mrb.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_pairs(path, fmt="m-rewardbench-translation")


def test_mqm_row_cut_short_names_its_line_and_the_first_missing_column():
    lines = MQM.read_text(encoding="utf-8").splitlines()
    # line 2 keeps a U+2028 and a form feed inside its target (not line breaks for a TSV), line 3 is blank, line 4
    # (the file's third rating) stops after the target: category and severity are missing
    text = "\n".join([lines[0], lines[1].replace("Hallo Welt.", "Hallo\u2028Welt\x0c."), "  ",
                      "\t".join(lines[2].split("\t")[:7]), *lines[3:]]) + "\n"
    with pytest.raises(UserError) as info:
        read_mqm_ratings(text, origin="t.tsv")
    assert str(info.value) == ("t.tsv line 4 has 7 tab-separated cells, but column 'category' is cell 8: the row is "
                               "cut short; fix or remove it")
    whole = "\n".join([lines[0], lines[1].replace("Hallo Welt.", "Hallo\u2028Welt\x0c."), "  ", *lines[2:]]) + "\n"
    assert len(read_mqm_ratings(whole, origin="t.tsv")) == len(lines) - 1  # blank lines and U+2028 are fine
