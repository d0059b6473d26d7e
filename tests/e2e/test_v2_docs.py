"""Every example of docs/v2.md and examples/v2-tokeniser/README.md, run against the tokeniser.

The documents are the test data: each fenced ```bash block with a `curl` or `grpcurl` command and
each ```python block is an example, and the fenced block right after it (```json, ```http or
```text) is the answer it must give. The server is started with the documented serve command's
flags; the documented addresses (localhost:9000 and localhost:5000) are swapped for its ports.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import pathlib
import re
import shlex
import time
from dataclasses import dataclass

import grpc
import pytest
import requests
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.conftest import start_server
from tests.e2e import readme_harness

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "v2.md"
EXAMPLE_DIR = ROOT / "examples" / "v2-tokeniser"
EXAMPLE_README = EXAMPLE_DIR / "README.md"
HTTP_ADDRESS = "localhost:9000"
GRPC_ADDRESS = "localhost:5000"
CLI_NAME = "seldon-core-microservice"
CALL_TIMEOUT = 10
SEED_TUTORIAL_BODY = {
    "inputs": [{"name": "sentences", "datatype": "BYTES", "shape": [1, 11], "data": "hello world"}]
}
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass
class Block:
    lang: str
    body: str
    line: int


@dataclass
class Example:
    kind: str  # "curl", "grpcurl" or "python"
    code: str
    expected_lang: str
    expected: str
    where: str


@dataclass
class Document:
    serve_commands: list[list[str]]
    examples: list[Example]
    problems: list[str]


def fenced_blocks(text: str) -> list[Block]:
    return [
        Block(match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in FENCE.finditer(text)
    ]


def command_line(code: str) -> str:
    """The one command of a shell block: continuations joined, comments dropped."""
    lines = [
        line.strip()
        for line in code.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if len(lines) != 1:
        raise ValueError(f"expected exactly one command, got {len(lines)}")
    return lines[0]


def parse_document(path: pathlib.Path) -> Document:
    """Serve commands, examples with their expected answers, and whatever does not fit the rules."""
    blocks = fenced_blocks(path.read_text(encoding="utf-8"))
    doc = Document([], [], [])
    index = 0
    while index < len(blocks):
        block = blocks[index]
        where = f"{path.name}:{block.line}"
        index += 1
        kind = None
        if block.lang == "python":
            kind = "python"
        elif block.lang == "bash":
            try:
                line = command_line(block.body)
            except ValueError as exc:
                doc.problems.append(f"{where}: {exc}")
                continue
            if CLI_NAME in line:
                doc.serve_commands.append(shlex.split(line))
                continue
            kind = shlex.split(line)[0]
            if kind not in ("curl", "grpcurl"):
                doc.problems.append(f"{where}: untested shell command {line!r}")
                continue
        else:
            doc.problems.append(f"{where}: ```{block.lang} block that belongs to no example")
            continue
        if index >= len(blocks) or blocks[index].lang not in ("json", "http", "text"):
            doc.problems.append(f"{where}: {kind} example without an answer block after it")
            continue
        answer = blocks[index]
        index += 1
        doc.examples.append(Example(kind, block.body, answer.lang, answer.body, where))
    return doc


DOCS = {path.name: parse_document(path) for path in (DOC, EXAMPLE_README)}
EXAMPLES = [example for doc in DOCS.values() for example in doc.examples]


def examples_of(kind: str) -> list:
    return [pytest.param(example, id=example.where) for example in EXAMPLES if example.kind == kind]


def serve_arguments(command: list[str]) -> list[str]:
    """The flags after the model name in ``[cd DIR &&] seldon-core-microservice Tokeniser ...``."""
    start = command.index(CLI_NAME)
    assert command[start + 1] == "Tokeniser", command
    return command[start + 2 :]


# -- the server -------------------------------------------------------------------------------


def wait_grpc_serving(port: int, timeout: float = 20) -> None:
    """Block until the standard health service answers SERVING for the V2 service."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="inference.GRPCInferenceService")
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = stub.Check(request, timeout=1)
                if last.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError as exc:
                last = f"{exc.code()}: {exc.details()}"
            time.sleep(0.05)
    raise AssertionError(f"gRPC health never answered SERVING within {timeout}s (last: {last})")


@pytest.fixture(scope="module")
def tokeniser(tmp_path_factory):
    """The example served with the flags of the serve command documented in docs/v2.md."""
    args = serve_arguments(DOCS[DOC.name].serve_commands[0])
    server = start_server(
        "Tokeniser",
        *args,
        cwd=EXAMPLE_DIR,
        tmp_path=tmp_path_factory.mktemp("v2-docs"),
        ready_path="/v2/health/ready",
    )
    try:
        wait_grpc_serving(server.grpc_port)
        yield server
    finally:
        server.stop()


def local(text: str, server) -> str:
    """The documented addresses replaced by the test server's ports."""
    return text.replace(HTTP_ADDRESS, f"127.0.0.1:{server.http_port}").replace(
        GRPC_ADDRESS, f"127.0.0.1:{server.grpc_port}"
    )


# -- the documents themselves ----------------------------------------------------------------


def test_every_block_of_the_documents_is_a_tested_example():
    assert [problem for doc in DOCS.values() for problem in doc.problems] == []
    kinds = [example.kind for example in DOCS[DOC.name].examples]
    assert kinds.count("curl") >= 8
    assert kinds.count("python") >= 4
    assert kinds.count("grpcurl") >= 3
    readme_kinds = [example.kind for example in DOCS[EXAMPLE_README.name].examples]
    assert readme_kinds.count("curl") >= 1


def test_serve_commands_start_the_example_the_same_way():
    doc_command = DOCS[DOC.name].serve_commands
    readme_command = DOCS[EXAMPLE_README.name].serve_commands
    assert len(doc_command) == 1 and len(readme_command) == 1
    # docs/v2.md is run from the repository root: its `cd` must reach the example.
    assert doc_command[0][:3] == ["cd", "examples/v2-tokeniser", "&&"]
    assert (ROOT / doc_command[0][1] / "Tokeniser.py").is_file()
    args = serve_arguments(doc_command[0])
    assert args == serve_arguments(readme_command[0]) == ["--service-type", "TRANSFORMER"]


def test_doc_has_the_seed_tutorial_request():
    bodies = []
    for example in DOCS[DOC.name].examples:
        if example.kind == "curl":
            request = parse_curl(example.code)
            if request.data is not None:
                bodies.append((request.url, json.loads(request.data)))
    assert (f"{HTTP_ADDRESS}/v2/models/tokeniser/infer", SEED_TUTORIAL_BODY) in bodies


# -- curl ------------------------------------------------------------------------------------


@dataclass
class CurlRequest:
    method: str
    url: str
    headers: dict
    data: str | None
    include_headers: bool


def parse_curl(code: str) -> CurlRequest:
    """The request a documented curl sends; the examples' README harness reads the flags."""
    tokens = shlex.split(command_line(code))
    assert tokens[0] == "curl", tokens
    method, path, headers, data, include = readme_harness.parse_curl(tokens, HTTP_ADDRESS)
    return CurlRequest(method, HTTP_ADDRESS + path, headers, data, include)


def parse_http_answer(text: str) -> tuple[int, str, dict, str]:
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    _, code, reason = status_line.split(" ", 2)
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(code), reason, headers, body


@pytest.mark.parametrize("example", examples_of("curl"))
def test_curl_example(tokeniser, example):
    request = parse_curl(example.code)
    response = requests.request(
        request.method,
        "http://" + local(request.url, tokeniser),
        headers=request.headers,
        data=None if request.data is None else request.data.encode("utf-8"),
        timeout=CALL_TIMEOUT,
    )
    if example.expected_lang == "http":
        assert request.include_headers, f"{example.where}: an HTTP answer needs curl -i"
        code, reason, headers, body = parse_http_answer(example.expected)
        assert (response.status_code, response.reason) == (code, reason), response.text
        for key, value in headers.items():
            assert response.headers.get(key) == value, key
        assert response.json() == json.loads(body)
    else:
        assert example.expected_lang == "json", example.where
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == json.loads(example.expected)


# -- Python snippets -------------------------------------------------------------------------


@pytest.mark.parametrize("example", examples_of("python"))
def test_python_example(tokeniser, example):
    assert example.expected_lang == "text", example.where
    assert HTTP_ADDRESS in example.code or GRPC_ADDRESS in example.code
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(local(example.code, tokeniser), example.where, "exec"), {"__name__": "snippet"})
    assert output.getvalue() == example.expected


# -- grpcurl, through reflection --------------------------------------------------------------


def parse_grpcurl(code: str) -> tuple[str | None, str, str]:
    """``(request JSON or None, address, "list" or "package.Service/Method")``."""
    tokens = shlex.split(command_line(code))
    assert tokens[0] == "grpcurl", tokens
    assert "-plaintext" in tokens, "the server has no TLS: grpcurl needs -plaintext"
    data = None
    positional = []
    rest = iter(tokens[1:])
    for token in rest:
        if token == "-d":
            data = next(rest)
        elif token == "-plaintext":
            continue
        elif token.startswith("-"):
            raise AssertionError(f"grpcurl flag {token!r} is not understood by this test")
        else:
            positional.append(token)
    assert len(positional) == 2, positional
    address, symbol = positional
    assert address == GRPC_ADDRESS, address
    return data, address, symbol


def reflected_call(channel: grpc.Channel, symbol: str, data: str | None) -> dict:
    """What grpcurl does: look the method up by reflection, JSON -> request, response -> JSON."""
    service_name, method_name = symbol.rsplit("/", 1)
    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    request = json_format.Parse(data or "{}", request_class())
    call = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    return json_format.MessageToDict(call(request, timeout=CALL_TIMEOUT))


@pytest.mark.parametrize("example", examples_of("grpcurl"))
def test_grpcurl_example(tokeniser, example):
    data, address, symbol = parse_grpcurl(example.code)
    with grpc.insecure_channel(local(address, tokeniser)) as channel:
        if symbol == "list":
            assert example.expected_lang == "text", example.where
            services = sorted(ProtoReflectionDescriptorDatabase(channel).get_services())
            assert services == example.expected.splitlines()
        else:
            assert example.expected_lang == "json", example.where
            assert reflected_call(channel, symbol, data) == json.loads(example.expected)


# -- the documented token ids, against vocab.txt ---------------------------------------------


def vocabulary_ids(sentences: list) -> list[list[int]]:
    """An independent reading of the documented rule: ids are vocab.txt line numbers, 1 if
    unknown, 0-padded to the longest sentence (documented sentences are ASCII)."""
    lines = (EXAMPLE_DIR / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["[PAD]", "[UNK]"]
    rows = []
    for sentence in sentences:
        text = sentence.decode("utf-8") if isinstance(sentence, bytes) else sentence
        assert text.isascii(), text
        words = re.findall(r"[a-z]+", text.lower())
        rows.append([lines.index(word) if word in lines else 1 for word in words])
    longest = max(len(row) for row in rows)
    return [row + [0] * (longest - len(row)) for row in rows]


def _rows(values: list[int], rows: int, columns: int) -> list[list[int]]:
    assert len(values) == rows * columns
    return [values[i * columns : (i + 1) * columns] for i in range(rows)]


def _documented_token_cases() -> list[tuple[str, list, list[list[int]]]]:
    """``(where, sentences, ids as documented)`` for every example that shows token ids."""
    cases = []
    for example in EXAMPLES:
        if example.kind == "curl" and example.expected_lang == "json":
            request = parse_curl(example.code)
            answer = json.loads(example.expected)
            if request.data is None or not request.url.endswith("/infer"):
                continue
            data = json.loads(request.data)["inputs"][0]["data"]
            output = answer["outputs"][0]
            rows, columns = output["shape"]
            values = output["data"]
            sentences = data if isinstance(data, list) else [data]
            cases.append((example.where, sentences, _rows(values, rows, columns)))
        elif example.kind == "curl" and "/transform-input" in example.code:
            sentence = json.loads(parse_curl(example.code).data)["strData"]
            tensor = json.loads(example.expected)["data"]["tensor"]
            assert tensor["shape"][0] == 1
            cases.append((example.where, [sentence], [tensor["values"]]))
        elif example.kind == "grpcurl" and example.expected_lang == "json":
            data, _, symbol = parse_grpcurl(example.code)
            if not symbol.endswith("/ModelInfer"):
                continue
            contents = json.loads(data)["inputs"][0]["contents"]
            items = contents.get("bytes_contents") or contents.get("bytesContents")
            sentences = [base64.b64decode(item) for item in items]
            output = json.loads(example.expected)["outputs"][0]
            rows, columns = (int(dim) for dim in output["shape"])
            values = [int(value) for value in output["contents"]["int64Contents"]]
            cases.append((example.where, sentences, _rows(values, rows, columns)))
        elif example.kind == "python":
            sentences = _python_sentences(example.code)
            printed = [line for line in example.expected.splitlines() if "[[" in line]
            if sentences is None or not printed:
                continue
            cases.append((example.where, sentences, ast.literal_eval(printed[-1][printed[-1].index("[[") :])))
    return cases


def _python_sentences(code: str) -> list | None:
    """The literal list assigned to ``sentences`` (bare or wrapped in ``np.array(...)``)."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "sentences" for target in node.targets
        ):
            value = node.value
            if isinstance(value, ast.Call):
                value = value.args[0]
            return ast.literal_eval(value)
    return None


def test_documented_token_ids_follow_the_vocabulary():
    cases = _documented_token_cases()
    assert len(cases) >= 8, cases
    for where, sentences, documented in cases:
        assert documented == vocabulary_ids(sentences), where
