"""The README harness itself (tests/e2e/readme_harness.py) is strict and really compares.

Why: the example tests are only as good as the harness. A README block it skips silently, or an
answer it does not compare, would let the examples drift while their tests stay green.
"""

from __future__ import annotations

import pathlib
import shutil

import pytest

from tests.e2e import readme_harness as harness

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
SERVE = "```bash\nseldon-core-microservice ScoreModel --service-type MODEL\n```\n"
CURL = "```bash\ncurl -s localhost:9000/health/status\n```\n"
HEALTHY = '```json\n{"meta":{},"strData":"healthy"}\n```\n'


def problems_of(text: str, tmp_path: pathlib.Path) -> list[str]:
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    return harness.parse_readme(path).problems


def test_a_well_formed_readme_has_no_problems(tmp_path):
    text = SERVE + CURL + HEALTHY + "```sh\ndocker run --rm my-image:0.1\n```\n"
    assert problems_of(text, tmp_path) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (SERVE + "```console\n$ curl -s localhost:9000/health/status\n```\n", "```console is not a block"),
        (SERVE + "```\nplain\n```\n", "```(no language) is not a block"),
        (SERVE + HEALTHY, "answer without a command before it"),
        (SERVE + CURL, "curl without a ```json or ```http answer"),
        (SERVE + CURL + "```text\nhealthy\n```\n", "curl without a ```json or ```http answer"),
        (CURL + HEALTHY, "curl before any serve command"),
        (SERVE + "```bash\npython client.py\n```\n```text\nok\n```\n", "untested command 'python'"),
        (
            SERVE + "```bash\ncurl -s localhost:9000/a\ncurl -s localhost:9000/b\n```\n",
            "expected one command",
        ),
        (SERVE + "```bash\ncurl -sv localhost:9000/predict\n```\n" + HEALTHY, "curl flag '-sv'"),
        (
            SERVE + "```bash\ncurl -s localhost:8080/predict\n```\n" + HEALTHY,
            "should start with localhost:9000/",
        ),
        (SERVE + "```bash\ncurl -s localhost:6000/metrics\n```\n```text\nx\n```\n", "should start with"),
        (SERVE + "```bash\ncurl -s localhost:6000/metrics | sort\n```\n```text\nx\n```\n", "pipes into grep"),
        (SERVE + "```bash\ncurl -s localhost:6000/metrics | grep -c x\n```\n```text\n1\n```\n", "'-c'"),
        (SERVE + "```python\nprint(1)\n```\n```json\n1\n```\n", "python without a ```text answer"),
        ("```bash\ncd examples/x && seldon-core-microservice X --service-type MODEL\n```\n", "before seldon"),
        ("```bash\nseldon-core-microservice X --http-port 9001\n```\n", "--http-port is set by the test"),
    ],
)
def test_what_the_harness_does_not_run_is_a_problem(tmp_path, text, problem):
    problems = problems_of(text, tmp_path)
    assert len(problems) == 1 and problem in problems[0], problems


def test_serve_commands_take_environment_assignments(tmp_path):
    text = '```bash\nMODEL_METADATA=\'{"name": "x"}\' seldon-core-microservice A --service-type MODEL\n```\n'
    path = tmp_path / "README.md"
    path.write_text(text + CURL + HEALTHY, encoding="utf-8")
    (section,) = harness.parse_readme(path).sections
    assert (section.serve.model, section.serve.args) == ("A", ["--service-type", "MODEL"])
    assert section.serve.env == {"MODEL_METADATA": '{"name": "x"}'}


def test_grep_reads_basic_and_extended_patterns_as_grep_does():
    basic, _ = harness.grep_filter(["grep", "a(1|2)+"])
    assert basic.search("xa(1|2)+") and not basic.search("a1")
    extended, _ = harness.grep_filter(["grep", "-E", "^a(1|2)+$"])
    assert extended.search("a12") and not extended.search("a(1|2)+")
    fixed, invert = harness.grep_filter(["grep", "-F", "-v", "a.b"])
    assert invert and fixed.search("a.b") and not fixed.search("axb")


def test_scrape_lines_compare_values_as_numbers_in_any_order():
    got = ['x_total{a="1"} 3.0', 'y{a="1"} 0.012000000000000002']
    assert harness._same_lines(got, ['y{a="1"} 0.012', 'x_total{a="1"} 3'])
    assert not harness._same_lines(got, ['x_total{a="1"} 4.0', 'y{a="1"} 0.012'])
    assert not harness._same_lines(got, ['x_total{a="2"} 3.0', 'y{a="1"} 0.012'])
    assert not harness._same_lines(got, ['x_total{a="1"} 3.0'])


def test_wrong_answers_fail(tmp_path):
    """A served example: a changed metric value, JSON answer or snippet output is caught."""
    folder = tmp_path / "metrics-tags"
    shutil.copytree(EXAMPLES / "metrics-tags", folder)
    readme = harness.parse_readme(folder / "README.md")
    (section,) = readme.sections
    curl, second_curl, snippet, scrape, *_ = section.steps
    (tmp_path / "server").mkdir()
    server = harness.serve_section(section, folder, tmp_path / "server")
    try:
        for step in (curl, second_curl):
            harness.run_curl(step, server)
        harness.run_python(snippet, server, folder)
        harness.run_scrape(scrape, server)
        wrong_scrape = scrape.answer.replace("} 6.0", "} 7.0")
        assert wrong_scrape != scrape.answer
        with pytest.raises(AssertionError):
            harness.run_scrape(harness.Step("scrape", scrape.code, "text", wrong_scrape, "x"), server)
        with pytest.raises(AssertionError):
            harness.run_python(
                harness.Step("python", snippet.code, "text", snippet.answer + "\n", "x"), server, folder
            )
        wrong_json = curl.answer.replace("1.75", "1.7")
        assert wrong_json != curl.answer
        with pytest.raises(AssertionError):
            harness.run_curl(harness.Step("curl", curl.code, "json", wrong_json, "x"), server)
    finally:
        server.stop()
