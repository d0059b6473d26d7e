"""The graph examples' READMEs, run as written: ``seldon-core-executor`` with local components,
the documented requests and their exact answers (tests/e2e/readme_harness.py has the rules)."""

from __future__ import annotations

import pathlib

import pytest

from tests.e2e.readme_harness import EXECUTOR_NAME, parse_readme, run_readme

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
