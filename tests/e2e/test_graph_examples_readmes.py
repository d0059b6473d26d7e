"""The graph examples' READMEs, run as written: ``seldon-core-executor`` with local components,
the documented requests and their exact answers (tests/e2e/readme_harness.py has the rules)."""

from __future__ import annotations

import pathlib

import pytest
import requests

from tests.e2e.readme_harness import EXECUTOR_NAME, parse_readme, run_readme
from tests.executor.harness import launch_executor

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", ["graph-tokeniser", "graph-ab"])
def test_the_readme_runs_as_written(example, tmp_path):
    readme = parse_readme(EXAMPLES / example / "README.md")
    assert readme.problems == []
    assert readme.sections and all(section.serve.command == EXECUTOR_NAME for section in readme.sections)
    run_readme(readme, tmp_path)


def test_the_tokeniser_graph_answers_the_tutorials_next_token():
    (section,) = parse_readme(EXAMPLES / "graph-tokeniser" / "README.md").sections
    (step,) = section.steps
    assert "Seldon Technologies is very" in step.code and '"data":["pleased"]' in step.answer


def test_the_tutorials_own_seldondeployment_runs_with_the_example_classes(tmp_path):
    """The acceptance of issue 19: the tutorial's SeldonDeployment as published (read from the
    seed document beside the repo: gpt2 a TRITON_SERVER node with no container, MLServer env),
    the classes' folders, one command, and the tutorial's request answered with a next token."""
    seed = EXAMPLES.parents[1] / "shared" / "seeds" / "seldon-core-v2-custom-preprocessor-tutorial.txt"
    text = seed.read_text(encoding="utf-8")
    start = text.index("apiVersion: machinelearning.seldon.io/v1")
    manifest = text[start : text.index("Overwriting seldondeployment.yaml", start)]
    (tmp_path / "seldondeployment.yaml").write_text(manifest)
    folder = EXAMPLES / "graph-tokeniser"
    args = ["--sdep", "gpt2", "--namespace", "default", "--predictor", "default",
            "--file", str(tmp_path / "seldondeployment.yaml"),  # no --protocol: the manifest says v2
            "--component", "tokeniser-encoder=tokeniser", "--component", "gpt2=next-token",
            "--component", "tokeniser-decoder=tokeniser"]  # fmt: skip
    server = launch_executor(args, cwd=folder, tmp_path=tmp_path)
    try:
        request = {"inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [1, 11],
                               "data": ["Seldon Technologies is very"]}]}  # fmt: skip
        answer = requests.post(server.url + "/v2/models/infer", json=request, timeout=30)
        assert answer.status_code == 200, answer.text
        (output,) = answer.json()["outputs"]
        assert (output["name"], output["datatype"], output["data"]) == ("next_token", "BYTES", ["pleased"])
        assert answer.json()["model_name"] == "tokeniser-decoder"
    finally:
        server.stop()
