"""The notebooks run top to bottom (nbclient) against a run's outputs: the demo's, and a small score run."""

import os

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from figure_fixtures import shared_demo_run
from pipeline.cli import main
from pipeline.paths import REPO_ROOT
from pipeline.tables import write_table

NOTEBOOKS = REPO_ROOT / "notebooks"
SCORING_PAIRS = REPO_ROOT / "tests" / "fixtures" / "scoring"


def execute(name: str, run_dir, **environment) -> nbformat.NotebookNode:
    """Run notebook ``name`` with ``PIPELINE_RUN_DIR=run_dir`` and the other ``environment`` variables."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    environment = {"PIPELINE_RUN_DIR": str(run_dir), **{k: str(v) for k, v in environment.items()}}
    previous = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits the environment
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    return notebook


def images(notebook) -> int:
    return sum(o.output_type == "display_data" and "image/png" in o.data
               for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)


def outputs_text(notebook) -> str:
    return "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)


def test_citation_study_notebook_runs_on_the_demo_and_skips_the_anthology_section_without_its_table(
        tmp_path_factory):
    paths, _, _ = shared_demo_run(tmp_path_factory)
    absent = tmp_path_factory.mktemp("no-growth") / "field_growth.parquet"
    notebook = execute("citation_study.ipynb", paths.data, PIPELINE_ACL_GROWTH=absent)
    text = outputs_text(notebook)
    assert f"run: {paths.data}" in text and "synthetic: True" in text
    assert f"no ACL Anthology growth table at {absent}: section skipped" in text
    assert images(notebook) == 4  # the three redrawn figures and the yearly coupling
    # beyond the paper: the run's own terminology sentences, then the committed real Anthology table's
    assert "this run (SYNTHETIC data):" in text
    assert "ACL Anthology (real data, figures/acl-anthology/terminology.csv):" in text
    assert "- For *reward hacking / metric gaming*, metrics papers say “Goodhart” (0.02% of 4,552" in text
    assert "rising" in text or "flat" in text or "falling" in text  # the trend verdicts are shown


def test_citation_study_notebook_compares_the_anthology_fields_growth_rates(tmp_path_factory):
    paths, _, _ = shared_demo_run(tmp_path_factory)
    out = tmp_path_factory.mktemp("acl-growth")
    years = range(2016, 2024)
    growth = pd.DataFrame([(field, y, base * factor ** (y - 2016), "acl-anthology", 2000, round(1000 * 1.1 ** (y - 2016)))
                           for field, base, factor in (("metrics", 10, 2), ("reward_models", 5, 3)) for y in years],
                          columns=["field", "year", "total", "source", "papers", "papers_with_abstract"])
    table = write_table(out, "field_growth", growth)
    notebook = execute("citation_study.ipynb", paths.data, PIPELINE_ACL_GROWTH=table)
    text = outputs_text(notebook)
    assert f"ACL Anthology growth table: {table}; source: acl-anthology" in text
    assert "all papers with an abstract grew 10.0% a year 2016–2023" in text
    rates = notebook.cells[-2].outputs[-1]["data"]["text/plain"]
    row = {name: " ".join(w for line in rates.splitlines() if line.startswith(name + " ")
                          for w in line.split()[1:] if w != "\\") for name in ("metrics", "reward_models")}
    assert row["metrics"].startswith("2016 2023 10 1280 +100% "), rates  # doubles every year
    assert row["reward_models"].startswith("2016 2023 5 10935 +200% "), rates  # triples every year
    assert images(notebook) == 5


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
