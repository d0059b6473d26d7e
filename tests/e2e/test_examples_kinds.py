"""examples/router, combiner, transformer and recommender, served as their READMEs say.

Each README is the test data. Every ```bash block is either the serve command (exactly one,
`seldon-core-microservice <Class> ...`) or a `curl` command, and the block right after a curl is
its answer: ```json (the body of a 200 answer) or ```http (with `curl -i`: status line, headers
that must match, blank line, JSON body). The curls run in order against one server started with
the serve command's arguments, from the example's folder; localhost:9000 becomes its port.
Blocks in other languages (```sh for s2i and docker) are documentation only.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
import shlex
from dataclasses import dataclass

import numpy as np
import pytest
import requests

from tests.conftest import start_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KINDS = {
    "router": "ROUTER",
    "combiner": "COMBINER",
    "transformer": "TRANSFORMER",
    "recommender": "RECOMMENDER",
}
CLI_NAME = "seldon-core-microservice"
HTTP_ADDRESS = "localhost:9000"
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass
class Call:
    method: str
    path: str
    headers: dict
    data: str | None
    include_headers: bool
    answer_lang: str
    answer: str
    where: str


@dataclass
class Readme:
    serve: list[list[str]]
    calls: list[Call]
    problems: list[str]


def _one_command(code: str) -> str:
    lines = [line.strip() for line in code.replace("\\\n", " ").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) != 1:
        raise ValueError(f"expected one command, got {len(lines)}")
    return lines[0]


def parse_curl(tokens: list[str]) -> tuple[str, str, dict, str | None, bool]:
    method, url, data, include = None, None, None, False
    headers: dict[str, str] = {}
    rest = iter(tokens[1:])
    for token in rest:
        if token in ("-d", "--data", "--data-raw"):
            data = next(rest)
        elif token in ("-H", "--header"):
            key, value = next(rest).split(":", 1)
            headers[key.strip()] = value.strip()
        elif token in ("-X", "--request"):
            method = next(rest)
        elif re.fullmatch(r"-[si]+", token):
            include = include or "i" in token
        elif token.startswith("-"):
            raise ValueError(f"curl flag {token!r} is not understood by this test")
        else:
            if url is not None:
                raise ValueError("two URLs")
            url = token
    if url is None or not url.startswith(HTTP_ADDRESS + "/"):
        raise ValueError(f"the URL should start with {HTTP_ADDRESS}/, got {url!r}")
    if data is not None and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl -d sends
    return method or ("POST" if data is not None else "GET"), url[len(HTTP_ADDRESS) :], headers, data, include


def parse_readme(path: pathlib.Path) -> Readme:
    text = path.read_text(encoding="utf-8")
    blocks = [
        (match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in FENCE.finditer(text)
    ]
    readme = Readme([], [], [])
    index = 0
    while index < len(blocks):
        lang, body, line = blocks[index]
        where = f"{path.parent.name}/{path.name}:{line}"
        index += 1
        if lang != "bash":
            if lang in ("json", "http"):
                readme.problems.append(f"{where}: ```{lang} answer without a curl before it")
            continue
        try:
            tokens = shlex.split(_one_command(body))
            if CLI_NAME in tokens:
                readme.serve.append(tokens)
                continue
            if tokens[0] != "curl":
                raise ValueError(f"untested command {tokens[0]!r}")
            method, request_path, headers, data, include = parse_curl(tokens)
        except ValueError as exc:
            readme.problems.append(f"{where}: {exc}")
            continue
        if index >= len(blocks) or blocks[index][0] not in ("json", "http"):
            readme.problems.append(f"{where}: curl without a ```json or ```http answer after it")
            continue
        answer_lang, answer, _ = blocks[index]
        index += 1
        readme.calls.append(Call(method, request_path, headers, data, include, answer_lang, answer, where))
    return readme


READMES = {kind: parse_readme(EXAMPLES / kind / "README.md") for kind in KINDS}


def read_environment_file(path: pathlib.Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def serve_arguments(kind: str) -> tuple[str, list[str]]:
    (command,) = READMES[kind].serve
    start = command.index(CLI_NAME)
    return command[start + 1], command[start + 2 :]


# -- the documents and the s2i settings --------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_readme_is_made_of_tested_examples(kind):
    readme = READMES[kind]
    assert readme.problems == []
    assert len(readme.serve) == 1
    assert readme.serve[0][0] == CLI_NAME, "serve from the example's folder: no `cd`"
    assert len(readme.calls) >= 3


@pytest.mark.parametrize("kind", [*sorted(KINDS), "model"])
def test_s2i_environment_names_the_class_and_service_type(kind):
    folder = EXAMPLES / kind
    settings = read_environment_file(folder / ".s2i" / "environment")
    assert set(settings) == {"MODEL_NAME", "SERVICE_TYPE", "PERSISTENCE", "API_TYPE"}
    assert settings["PERSISTENCE"] == "0" and settings["API_TYPE"] == "REST"
    name = settings["MODEL_NAME"]
    # The file name is the class name, and the file defines that class.
    tree = ast.parse((folder / f"{name}.py").read_text())
    assert name in [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    if kind == "model":
        assert settings["SERVICE_TYPE"] == "MODEL"
        return
    assert settings["SERVICE_TYPE"] == KINDS[kind]
    model, args = serve_arguments(kind)
    assert model == name
    assert args[args.index("--service-type") + 1] == KINDS[kind]


# -- the examples, served ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(KINDS))
def served(request, tmp_path_factory):
    kind = request.param
    model, args = serve_arguments(kind)
    server = start_server(model, *args, cwd=EXAMPLES / kind, tmp_path=tmp_path_factory.mktemp(kind))
    yield kind, server
    server.stop()


def _answer_http(text: str) -> tuple[int, str, dict, str]:
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    _, code, reason = status_line.split(" ", 2)
    return int(code), reason, dict(line.split(": ", 1) for line in header_lines), body


def test_readme_curls_answer_as_documented(served):
    """All of a README's curls, in order (the router's feedback answers depend on the earlier ones)."""
    kind, server = served
    for call in READMES[kind].calls:
        response = requests.request(
            call.method,
            server.url + call.path,
            headers=call.headers,
            data=None if call.data is None else call.data.encode("utf-8"),
            timeout=10,
        )
        if call.answer_lang == "http":
            assert call.include_headers, f"{call.where}: an HTTP answer needs curl -i"
            code, reason, headers, body = _answer_http(call.answer)
            assert (response.status_code, response.reason) == (code, reason), (call.where, response.text)
            for key, value in headers.items():
                assert response.headers.get(key) == value, (call.where, key)
            assert response.json() == json.loads(body), call.where
        else:
            assert not call.include_headers, f"{call.where}: curl -i needs an ```http answer"
            assert response.status_code == 200, (call.where, response.text)
            assert response.headers["Content-Type"] == "application/json"
            # Exact text, as the README shows it (sorted keys, compact, floats as floats).
            assert response.text.rstrip("\n") == call.answer.strip(), call.where


# -- what the READMEs say in prose ---------------------------------------------------------------


def _example_class(kind: str, name: str):
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
