"""``python -m pipeline score``: outputs of a run, the download action, and bad input → one line, exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.scoring import download

FIXTURES = Path(__file__).parent / "fixtures" / "scoring"
MQM = FIXTURES / "mqm_tiny_ende.tsv"


def score(*args):
    return main(["score", "-q", *map(str, args)])


def test_score_run_writes_tables_figure_and_manifest(tmp_path):
    assert score("--pairs", MQM, "--scorer", "chrf", "--scorer", "longer", "--bootstrap", "50", "--out",
                 tmp_path) == 0
    out = tmp_path / "scores"
    accuracy = pd.read_csv(out / "accuracy.csv")
    assert list(accuracy.columns[:8]) == ["scorer", "language", "subset", "n", "accuracy", "ties", "ci_low",
                                          "ci_high"]
    longer = accuracy.set_index(["scorer", "subset"]).loc[("longer", "all")]
    # 5 preference pairs (the sixth is a human tie); accuracy = share where the chosen output is longer
    pairs = pd.read_parquet(out / "pairs.parquet")
    preferred = pairs[pairs["margin"] > 0]
    expected = (preferred["chosen"].str.len() > preferred["rejected"].str.len()).mean()
    assert (longer["n"], longer["accuracy"]) == (5, pytest.approx(expected))
    per_pair = pd.read_parquet(out / "pair_scores.parquet")
    assert len(per_pair) == 2 * len(pairs) and set(per_pair["scorer"]) == {"chrf", "longer"}
    assert set(pd.read_parquet(out / "texts.parquet")["text_id"]) == set(pairs["chosen_id"]) | set(
        pairs["rejected_id"])
    markdown = (out / "accuracy.md").read_text()
    assert "| scorer | all easy | all hard |" in markdown and "| scorer | language | subset |" in markdown
    assert pd.read_csv(out / "comparisons.csv").loc[0, ["scorer_a", "scorer_b"]].tolist() == ["chrf", "longer"]
    assert (tmp_path / "figures" / "scoring_accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "figures" / "scoring_accuracy.pdf").exists()  # only with --pdf
    manifest = json.loads((tmp_path / "manifest.json").read_text())["scoring"]
    assert manifest["pairs"] == 6 and manifest["human_ties"] == 1 and manifest["synthetic"] is False
    assert str(tmp_path / "figures" / "scoring_accuracy.png") in manifest["outputs"]
    assert manifest["scorers"]["chrf"].startswith("sacrebleu sentence-level nrefs:1")


def test_rewardbench_subsets_get_section_scores(tmp_path):
    assert score("--pairs", FIXTURES / "rewardbench_tiny.jsonl", "--scorer", "shorter", "--bootstrap", "20",
                 "--out", tmp_path) == 0
    sections = pd.read_csv(tmp_path / "scores" / "sections.csv").set_index("section")["score"]
    # shorter: right on ids 1 and 3 (Chat: 2/2); wrong on 2 (math-prm, weight 984), right on 4 (hep-python, 164)
    assert sections["Chat"] == 1.0
    assert sections["Reasoning"] == pytest.approx(164 / (984 + 164))
    assert sections["Overall"] == pytest.approx((1.0 + 164 / 1148) / 2)


def test_no_scorer_writes_pairs_and_texts_only(tmp_path):
    assert score("--pairs", MQM, "--out", tmp_path) == 0
    assert (tmp_path / "scores" / "texts.parquet").exists()
    assert not (tmp_path / "scores" / "accuracy.csv").exists()


def write(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize("name, content, args, message", [
    ("pairs.jsonl", '{"prompt": "p", "chosen": "a"}\n', [], "lacks column(s) rejected"),
    ("pairs.jsonl", "", [], "is empty"),
    ("pairs.jsonl", '{"prompt": "p", "chosen": "x", "rejected": "x"}\n', [], "same text"),
    ("pairs.jsonl", '{"prompt": "p", "chosen": "\xe9", "rejected": "b"}\n'.encode("latin-1"), [], "not UTF-8"),
    ("x_ende.tsv", "system\tdoc\n", [], "lacks MQM column"),
    ("pairs.jsonl", '{"prompt": "p", "chosen": "a", "rejected": "b"}\n', ["--scorer", "bertscore"],
     "unknown scorer 'bertscore'"),
    ("pairs.jsonl", '{"prompt": "p", "chosen": "a", "rejected": "b"}\n', ["--scorer", "chrf"],
     "could score none of the pairs"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, name, content, args, message):
    path = write(tmp_path / name, content)
    assert score("--pairs", path, *args, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_pairs_file_and_missing_pairs_option_are_user_errors(tmp_path, capsys):
    assert score("--pairs", tmp_path / "nope.jsonl", "--out", tmp_path) == 2
    assert "not found" in capsys.readouterr().err
    assert score("--out", tmp_path) == 2
    assert "--pairs" in capsys.readouterr().err
    assert score("--pairs", MQM, "--scorer", "longer", "--bootstrap", "0", "--out", tmp_path) == 2
    assert "argument --bootstrap: must be an integer >= 1" in capsys.readouterr().err


def test_download_offline_fails_with_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    unreachable = download.Dataset("http://127.0.0.1:9/test.jsonl.gz", "test.jsonl.gz", "nowhere")
    monkeypatch.setitem(download.DATASETS, "hh-rlhf-harmless", unreachable)
    assert score("download", "hh-rlhf-harmless", "--out", tmp_path) == 2
    err = capsys.readouterr().err
    assert "could not download hh-rlhf-harmless" in err and err.count("\n") == 1
    assert not list((tmp_path / "cache" / "scoring").glob("*"))  # no partial file left behind


def test_named_data_set_not_yet_downloaded_says_how_to_get_it(tmp_path, capsys):
    assert score("--pairs", "mqm-ted-zhen", "--out", tmp_path) == 2
    assert "python -m pipeline score download mqm-ted-zhen" in capsys.readouterr().err


def test_download_lists_data_sets_and_rejects_unknown_names(tmp_path, capsys):
    assert score("download", "--out", tmp_path) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in download.DATASETS)
    assert score("download", "imagenet", "--out", tmp_path) == 2
    assert "unknown data set 'imagenet'" in capsys.readouterr().err


def test_cached_data_set_is_used_by_name(tmp_path):
    cached = tmp_path / "cache" / "scoring" / download.DATASETS["mqm-ted-ende"].filename
    cached.parent.mkdir(parents=True)
    cached.write_bytes(MQM.read_bytes())
    assert score("--pairs", "mqm-ted-ende", "--out", tmp_path) == 0
    assert len(pd.read_parquet(tmp_path / "scores" / "pairs.parquet")) == 6


def test_command_line_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipeline", "score", "--pairs", str(MQM), "--scorer", "nope",
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: unknown scorer 'nope'; known: bleu, chrf, ter, longer, "
                                                  "shorter, scores:PATH, comet:MODEL, rm:MODEL"]


def test_old_bootstrap_flags_still_work_with_a_one_line_deprecation_warning(tmp_path, capsys):
    assert score("--pairs", MQM, "--scorer", "longer", "--bootstrap", "30", "--seed", "4", "--out", tmp_path) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "deprecated" in line]
    assert warnings == ["warning: --bootstrap is deprecated and will be removed; use --resamples",
                        "warning: --seed is deprecated and will be removed; use --bootstrap-seed"]
    section = json.loads((tmp_path / "manifest.json").read_text())["scoring"]
    assert (section["bootstrap"]["resamples"], section["bootstrap"]["seed"]) == (30, 4)


def test_scoring_takes_the_study_bootstrap_flags_and_signs_accuracy_md(tmp_path, capsys):
    assert score("--pairs", MQM, "--scorer", "longer", "--resamples", "25", "--bootstrap-seed", "2", "--out",
                 tmp_path) == 0
    assert "deprecated" not in capsys.readouterr().err
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    expected = "pairs:mqm_tiny_ende|scorers:longer|resamples:25|seed:2|version:0.1.0"
    assert manifest["scoring"]["signature"] == expected and manifest["signature"] == expected
    assert (tmp_path / "scores" / "accuracy.md").read_text().rstrip().endswith(f"Signature: `{expected}`")


def test_resamples_below_one_names_the_flag_given(tmp_path, capsys):
    assert score("--pairs", MQM, "--scorer", "longer", "--resamples", "0", "--out", tmp_path) == 2
    assert "argument --resamples: must be an integer >= 1" in capsys.readouterr().err


MRB = FIXTURES / "m_rewardbench_translation_tiny.jsonl"


def test_m_rewardbench_translation_gives_accuracy_per_language_pair_and_difficulty(tmp_path):
    assert score("--pairs", MRB, "--scorer", "longer", "--resamples", "50", "--out", tmp_path) == 0
    accuracy = pd.read_csv(tmp_path / "scores" / "accuracy.csv").set_index(["scorer", "language", "subset"])
    # zh-en easy: one of the two chosen translations is the longer; en-de easy: both; zh-en hard: neither (a tie)
    assert accuracy.loc[("longer", "zh-en", "easy"), ["n", "accuracy"]].tolist() == [2, 0.5]
    assert accuracy.loc[("longer", "en-de", "easy"), ["n", "accuracy"]].tolist() == [2, 1.0]
    assert accuracy.loc[("longer", "zh-en", "hard"), ["n", "accuracy"]].tolist() == [2, 0.0]
    assert accuracy.loc[("longer", "all", "all"), "n"] == 16
    assert {lang for lang, _ in accuracy.loc["longer"].index} == {"all", "de-en", "en-de", "en-zh", "zh-en"}
    markdown = (tmp_path / "scores" / "accuracy.md").read_text()
    assert ("| scorer | de-en easy | de-en hard | en-de easy | en-de hard | en-zh easy | en-zh hard | zh-en easy "
            "| zh-en hard |") in markdown
    assert "| longer | 50.0 [0.0, 100.0] | 100.0 [100.0, 100.0] | 100.0 [100.0, 100.0] | 0.0 [0.0, 0.0] |" in markdown
    assert (tmp_path / "figures" / "scoring_accuracy.png").stat().st_size > 0


def test_m_rewardbench_translation_by_name_from_the_cache(tmp_path):
    cached = tmp_path / "cache" / "scoring" / download.DATASETS["m-rewardbench-translation"].filename
    cached.parent.mkdir(parents=True)
    pd.read_json(MRB, lines=True).to_parquet(cached)
    assert score("--pairs", "m-rewardbench-translation", "--out", tmp_path) == 0
    pairs = pd.read_parquet(tmp_path / "scores" / "pairs.parquet")
    assert len(pairs) == 16 and pairs["pair_id"].iloc[0] == "m-rewardbench-translation:0"
    assert pairs["prompt"].iloc[8] == "我每天早上喝一杯茶。" and pairs["references"].map(len).max() == 0


def test_language_and_subset_filters_keep_only_those_pairs(tmp_path):
    assert score("--pairs", MRB, "--language", "zh-en", "--language", "en-zh", "--subset", "hard", "--out",
                 tmp_path) == 0
    pairs = pd.read_parquet(tmp_path / "scores" / "pairs.parquet")
    assert sorted(pairs["pair_id"].str.split(":").str[1].astype(int)) == [10, 11, 14, 15]
    section = json.loads((tmp_path / "manifest.json").read_text())["scoring"]
    assert section["filters"] == {"language": ["zh-en", "en-zh"], "subset": ["hard"]}
    assert section["signature"].startswith("pairs:m_rewardbench_translation_tiny|language:zh-en+en-zh|subset:hard|")


@pytest.mark.parametrize("option, value, message", [
    ("--language", "fr-en", "--language 'fr-en' matches no pair; the pairs have language: 'de-en', 'en-de', "
                            "'en-zh', 'zh-en'"),
    ("--subset", "medium", "--subset 'medium' matches no pair; the pairs have subset: 'easy', 'hard'"),
])
def test_unknown_filter_value_is_one_line_and_writes_nothing(tmp_path, capsys, option, value, message):
    assert score("--pairs", MRB, option, value, "--out", tmp_path) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "scores").exists()


def test_malformed_m_rewardbench_row_names_file_and_row(tmp_path, capsys):
    rows = MRB.read_text(encoding="utf-8").splitlines()
    rows[2] = rows[2].replace("translation-de-en-hard", "translation-de-hard")
    path = write(tmp_path / "mrb.jsonl", "\n".join(rows) + "\n")
    assert score("--pairs", path, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"{path} row 3: subset 'translation-de-hard' is not translation-<src>-<tgt>-<easy|hard>" in err


def test_no_figure_run_never_imports_matplotlib(tmp_path):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline", "score", "-q", "--pairs", str(MRB),
                             "--scorer", "longer", "--resamples", "20", "--no-figure", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and (tmp_path / "scores" / "accuracy.csv").exists()
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "pandas" in imported  # the import log was read
    assert not any(name.startswith("matplotlib") for name in imported)
    assert not (tmp_path / "figures").exists()


def test_several_pair_files_give_one_table_in_their_order(tmp_path, capsys):
    from pipeline.scoring import pairs as pair_loader

    assert score("--pairs", MQM, "--pairs", MRB, "--out", tmp_path) == 0
    together = pd.read_parquet(tmp_path / "scores" / "pairs.parquet")
    one_by_one = pd.concat([pair_loader.load_pairs(MQM), pair_loader.load_pairs(MRB)], ignore_index=True)
    assert together["pair_id"].tolist() == one_by_one["pair_id"].tolist()
    assert together["chosen"].tolist() == one_by_one["chosen"].tolist()
    broken = write(tmp_path / "broken.jsonl", '{"prompt": "p", "chosen": "a"}\n')
    assert score("--pairs", MQM, "--pairs", broken, "--out", tmp_path / "again") == 2
    err = capsys.readouterr().err
    assert f"{broken} lacks column(s) rejected" in err and err.count("\n") == 1


def test_pdf_figure_only_when_asked_and_not_with_no_figure(tmp_path, capsys):
    assert score("--pairs", MQM, "--scorer", "longer", "--resamples", "20", "--pdf", "--out", tmp_path) == 0
    assert (tmp_path / "figures" / "scoring_accuracy.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "figures" / "scoring_accuracy.png").stat().st_size > 0
    assert score("--pairs", MQM, "--scorer", "longer", "--pdf", "--no-figure", "--out", tmp_path / "both") == 2
    err = capsys.readouterr().err
    assert "--pdf asks for the figure as PDF and --no-figure for no figure" in err and err.count("\n") == 1
    assert not (tmp_path / "both").exists()


def test_results_do_not_depend_on_the_number_of_cores(tmp_path, monkeypatch):
    # one core: everything in this process; two: TER in two forked workers, chrF in a forked process beside BLEU,
    # the pair tables written by another, the figure in a side process
    from pipeline.scoring import lexical, parallel

    monkeypatch.setattr(lexical, "TER_PARALLEL_FROM", 1)
    runs = {}
    for cores in (1, 2):
        monkeypatch.setattr(parallel, "available_cores", lambda cores=cores: cores)
        out = tmp_path / f"cores{cores}"
        assert score("--pairs", MQM, "--pairs", MRB, "--scorer", "ter", "--scorer", "chrf", "--scorer", "bleu",
                     "--scorer", "longer",
                     "--resamples", "200", "--bootstrap-seed", "3", "--out", out) == 0
        runs[cores] = out
        assert (out / "figures" / "scoring_accuracy.png").stat().st_size > 0
    for name in ("accuracy.csv", "comparisons.csv", "pair_scores.parquet", "pairs.parquet", "texts.parquet"):
        assert (runs[1] / "scores" / name).read_bytes() == (runs[2] / "scores" / name).read_bytes(), name
    accuracy = pd.read_csv(runs[1] / "scores" / "accuracy.csv")
    assert (accuracy["ci_low"] < accuracy["ci_high"]).any()  # the intervals compared are real ones


def test_figure_side_process_imports_matplotlib_but_not_pandas(tmp_path):
    # forked before the scoring process imports pandas, and drawing from plain arrays, it never needs pandas
    spy = ("import sys\nfrom pipeline.cli import main\nfrom pipeline.scoring import accuracy_figure, parallel\n"
           "parallel.available_cores = lambda: 2\nprepare = accuracy_figure.prepare\n"
           "def spy():\n    prepare()\n    print('pandas', 'pandas' in sys.modules, 'matplotlib', 'matplotlib' in sys.modules,"
           " file=sys.stderr)\n"
           "accuracy_figure.prepare = spy\n"
           f"sys.exit(main(['score', '-q', '--pairs', {str(MQM)!r}, '--scorer', 'chrf', '--out', {str(tmp_path)!r}]))\n")
    result = subprocess.run([sys.executable, "-c", spy], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr
    assert "pandas False matplotlib True" in result.stderr
    assert (tmp_path / "figures" / "scoring_accuracy.png").stat().st_size > 0


@pytest.mark.parametrize("model", [False, True])
def test_the_garbage_collector_is_paused_for_lexical_runs_only(tmp_path, monkeypatch, model):
    import gc

    import numpy as np

    from pipeline.scoring import scorers

    seen = []

    def score_(inputs, *, quiet=False):
        seen.append(gc.isenabled())
        return np.zeros(len(inputs))

    monkeypatch.setattr(scorers, "make_scorer", lambda spec: scorers.Scorer(spec, "none", score_, lambda: spec,
                                                                           model=model))
    assert score("--pairs", MQM, "--scorer", "fake", "--no-figure", "--out", tmp_path) == 0
    assert seen == [model] and gc.isenabled()  # a model run keeps it on; either way it is on afterwards
