"""The notebooks run top to bottom (nbclient) against a run's outputs: the demo's, and a small score run."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from figure_fixtures import shared_demo_run
from pipeline.cli import main
from pipeline.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
SCORING_PAIRS = REPO_ROOT / "tests" / "fixtures" / "scoring"


def execute(name: str, run_dir) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    previous = os.environ.get("PIPELINE_RUN_DIR")
    os.environ["PIPELINE_RUN_DIR"] = str(run_dir)  # the kernel inherits the environment
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("PIPELINE_RUN_DIR")
        else:
            os.environ["PIPELINE_RUN_DIR"] = previous
    return notebook


def outputs_text(notebook) -> str:
    return "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)


def test_citation_study_notebook_runs_on_the_demo(tmp_path_factory):
    paths, _, _ = shared_demo_run(tmp_path_factory)
    notebook = execute("citation_study.ipynb", paths.data)
    text = outputs_text(notebook)
    assert f"run: {paths.data}" in text and "synthetic: True" in text
    assert sum(o.output_type == "display_data" and "image/png" in o.data
               for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs) == 3


def test_scoring_notebook_runs_on_a_score_run(tmp_path):
    assert main(["score", "--pairs", str(SCORING_PAIRS / "mqm_tiny_ende.tsv"), "--pairs",
                 str(SCORING_PAIRS / "rewardbench_tiny.jsonl"), "--scorer", "chrf", "--scorer", "longer",
                 "--bootstrap", "100", "--out", str(tmp_path), "-q"]) == 0
    text = outputs_text(execute("scoring.ipynb", tmp_path))
    assert f"run: {tmp_path}" in text and "scorers: chrf, longer" in text


@pytest.mark.parametrize("name", ["citation_study.ipynb", "scoring.ipynb"])
def test_notebooks_are_committed_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in notebook.cells if cell.cell_type == "code")
