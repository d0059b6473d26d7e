"""The examples of every component kind, served and called as their READMEs say.

Each README is the test data, run by tests/e2e/readme_harness.py (its docstring has the rules):
the serve commands start servers from the example's folder, and every curl call, metrics scrape
(`curl -s localhost:6000/metrics | grep ...`) and Python snippet (gRPC calls) must answer what
the block after it shows. A block the harness does not understand fails the README's test.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib

import numpy as np
import pytest

from tests.e2e.readme_harness import (
    CLI_NAME,
    FENCE,
    GRPC_ADDRESS,
    Readme,
    parse_curl,
    parse_readme,
    run_readme,
)

__all__ = ["CLI_NAME", "FENCE", "parse_curl", "read_environment_file"]  # test_examples_iris_v0 uses them

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Folder -> the --service-type of its serve commands. The first four also have an s2i build.
S2I_KINDS = {
    "router": "ROUTER",
    "combiner": "COMBINER",
    "transformer": "TRANSFORMER",
    "recommender": "RECOMMENDER",
}
NEW_KINDS = {
    "model": "MODEL",
    "output-transformer": "TRANSFORMER",
    "epsilon-greedy-router": "ROUTER",
    "metrics-tags": "MODEL",
    "metadata": "MODEL",
    "error-handler": "MODEL",
    "raw-payloads": "MODEL",
    "health-status": "MODEL",
}
KINDS = {**S2I_KINDS, **NEW_KINDS}
READMES: dict[str, Readme] = {kind: parse_readme(EXAMPLES / kind / "README.md") for kind in KINDS}


def read_environment_file(path: pathlib.Path) -> dict[str, str]:
    """The ``NAME=value`` lines of an s2i ``.s2i/environment`` file."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def _defined_classes(path: pathlib.Path) -> list[str]:
    """The classes a module defines at top level (file name = class name is the wrapper's rule)."""
    return [node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)]


# -- the documents ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_readme_is_made_of_tested_examples(kind):
    """Every block is run (no problems), every serve command serves this folder's class."""
    readme = READMES[kind]
    assert readme.problems == []
    assert readme.sections, "no serve command"
    assert len(readme.steps) >= 3
    for section in readme.sections:
        serve = section.serve
        # The file name is the class name, and the file defines that class.
        assert serve.model in _defined_classes(EXAMPLES / kind / f"{serve.model}.py"), serve.where
        assert serve.args[serve.args.index("--service-type") + 1] == KINDS[kind], serve.where
        assert section.steps, f"{serve.where}: a server nothing is asked of"


@pytest.mark.parametrize("kind", sorted(NEW_KINDS))
def test_readme_shows_a_grpc_call(kind):
    snippets = [step for step in READMES[kind].steps if step.kind == "python"]
    assert any(GRPC_ADDRESS in step.code for step in snippets), "no gRPC snippet"


def test_metrics_readme_scrapes_the_metrics_port():
    assert [step.kind for step in READMES["metrics-tags"].steps].count("scrape") >= 1


@pytest.mark.parametrize("kind", [*sorted(S2I_KINDS), "model"])
def test_s2i_environment_names_the_class_and_service_type(kind):
    folder = EXAMPLES / kind
    settings = read_environment_file(folder / ".s2i" / "environment")
    assert set(settings) == {"MODEL_NAME", "SERVICE_TYPE", "PERSISTENCE", "API_TYPE"}
    assert settings["PERSISTENCE"] == "0" and settings["API_TYPE"] == "REST"
    name = settings["MODEL_NAME"]
    assert name in _defined_classes(folder / f"{name}.py")
    if kind == "model":
        assert settings["SERVICE_TYPE"] == "MODEL"
        return
    assert settings["SERVICE_TYPE"] == KINDS[kind]
    (section,) = READMES[kind].sections
    assert section.serve.model == name


# -- the examples, served ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_readme_runs_as_documented(kind, tmp_path):
    """All of a README's steps, in order (routers and health answers depend on earlier calls)."""
    run_readme(READMES[kind], tmp_path)


# -- what the READMEs say in prose ---------------------------------------------------------------


def _example_class(kind: str, name: str) -> type:
    """An example's class, imported from its file (the examples are not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{kind}_{name}", EXAMPLES / kind / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_router_without_parameters_routes_everything_to_child_0():
    router = _example_class("router", "MyRouter")()
    for row in ([[0.2, 10]], [[0.9, 10]], [[100.0]]):
        route = router.route(np.array(row), [])
        assert route == 0 and type(route) is int
    with_feature = _example_class("router", "MyRouter")(threshold=5.0, feature=1)
    assert with_feature.route(np.array([[0.0, 6.0]]), []) == 1
    assert with_feature.route(np.array([[9.0, 4.0]]), []) == 0


def test_transformer_parameters_from_the_readme():
    transformer = _example_class("transformer", "MyTransformer")(scale=10.0, decimals=0)
    assert transformer.transform_input(np.array([[1.5, 2]]), []).tolist() == [[15.0, 20.0]]
    assert transformer.transform_output(np.array([[1.4, 2.6]]), []).tolist() == [[1.0, 3.0]]


def test_recommender_prefers_items_its_users_share():
    recommender = _example_class("recommender", "Recommender")()
    group = [16, 23, 42, 57, 61, 78, 85, 99]  # the items most users of item 16 also liked
    scored = dict(recommender.recommend(None, recommender.get_items("all"), [16], "test1", 30))
    assert 16 not in scored
    best = sorted(scored, key=scored.get, reverse=True)[:5]
    assert set(best) <= set(group), best
    with pytest.raises(KeyError):
        recommender.get_items("RecentItems:test1:0:100000")


def test_epsilon_greedy_explores_at_the_rate_epsilon_with_a_repeatable_generator():
    router_class = _example_class("epsilon-greedy-router", "EpsilonGreedy")

    def routes(router, count):
        answers = [router.route(np.array([[1.0]]), []) for _ in range(count)]
        return [(answer.data, answer.tags["epsilon_greedy"]) for answer in answers]

    first = routes(router_class(epsilon=0.25, seed=3), 400)
    assert first == routes(router_class(epsilon=0.25, seed=3), 400)  # the seed decides
    explored = [branch for branch, why in first if why == "explore"]
    assert 60 < len(explored) < 140  # about a quarter
    assert set(explored) == {0, 1}
    assert all(branch == 0 and type(branch) is int for branch, why in first if why == "exploit")
    greedy = router_class(epsilon=0.0)
    assert {why for _, why in routes(greedy, 50)} == {"exploit"}


def test_epsilon_greedy_exploits_the_best_mean_reward():
    router = _example_class("epsilon-greedy-router", "EpsilonGreedy")(n_branches=3, epsilon=0.0, initial=0.5)
    assert router.route([], []).data == 0  # a tie: the lowest index
    assert router.send_feedback([], [], 0.2, None, routing=0) == [[0.2, 0.5, 0.5]]
    assert router.route([], []).data == 1
    assert router.send_feedback([], [], 0.9, None, routing=2) == [[0.2, 0.5, 0.9]]
    assert router.route([], []).data == 2


def test_labeller_prefers_the_models_class_names():
    labeller = _example_class("output-transformer", "Labeller")(threshold=0.4)
    scores = np.array([[0.1, 0.5], [0.35, 0.3]])
    assert labeller.transform_output(scores, ["spam", "ham"]) == [["ham"], ["unsure"]]
    three = np.array([[0.2, 0.1, 0.7]])
    assert labeller.transform_output(three, ["t:0", "t:1", "t:2"]) == [["bird"]]
    assert labeller.transform_output(three, []) == [["bird"]]
