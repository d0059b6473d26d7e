"""Run the examples of a documentation page against the real server code, in-process.

A page is test data. Its fenced blocks, in order:

- a ```python block without an address defines the class the next examples are sent to (the
  last class of the block that is not an exception);
- a ```bash block with one `curl` command is a REST example, and the ```json or ```http block
  right after it is the answer it must give (``json``: status 200 and these exact bytes;
  ``http``: this status line, these headers among the answer's, and this exact body);
- a ```python block that talks to ``localhost:5000`` is a gRPC client, and the ```text block
  after it is what it must print;
- any other ```bash command must be listed by the test as one it does not run.

REST examples go to the Flask app of ``rest/app.py`` over the class, with or without the fast
entry of ``speedups/`` in front (the two REST paths of the real server); gRPC examples to a real
gRPC server (``grpc/server.build_server``) on a free 127.0.0.1 port. Both serve the class with
the default settings, after its ``load()``, as ``seldon-core-microservice`` does.
"""

from __future__ import annotations

import ast
import contextlib
import io
import pathlib
import re
import shlex
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.grpc.server import build_server, mark_serving
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.settings import Settings
from seldon_wrapper.speedups.fast_entry import FastEntry, applies
from seldon_wrapper.speedups.ndarrays import NdarrayParser

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
HTTP_ADDRESS = "localhost:9000"
GRPC_ADDRESS = "localhost:5000"
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
ENTRIES = ("flask", "fast")


@dataclass
class Block:
    lang: str
    body: str
    line: int


@dataclass
class Example:
    kind: str  # "curl" or "grpc"
    code: str
    answer_lang: str
    answer: str
    model_code: str
    where: str

    def __str__(self) -> str:
        return self.where


@dataclass
class Page:
    examples: list[Example] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def fenced_blocks(text: str) -> list[Block]:
    return [
        Block(match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in FENCE.finditer(text)
    ]


def command_line(code: str) -> str:
    """The one command of a shell block, continuations joined."""
    lines = [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"expected exactly one command, got {len(lines)}")
    return lines[0]


def parse_page(name: str, untested: tuple[str, ...] = ()) -> Page:
    """The examples of ``docs/<name>``, the classes it defines, and what breaks the rules."""
    blocks = fenced_blocks((DOCS / name).read_text(encoding="utf-8"))
    page = Page()
    model = ""
    index = 0
    while index < len(blocks):
        block = blocks[index]
        where = f"{name}:{block.line}"
        index += 1
        if block.lang == "python" and GRPC_ADDRESS not in block.body:
            model = block.body
            page.models.append(model)
            continue
        if block.lang == "python":
            kind, answers = "grpc", ("text",)
        elif block.lang == "bash":
            try:
                line = command_line(block.body)
            except ValueError as exc:
                page.problems.append(f"{where}: {exc}")
                continue
            if line in untested:
                continue
            if not line.startswith("curl "):
                page.problems.append(f"{where}: untested command {line!r}")
                continue
            kind, answers = "curl", ("json", "http")
        else:
            page.problems.append(f"{where}: ```{block.lang} block that belongs to no example")
            continue
        if not model:
            page.problems.append(f"{where}: example before any class")
            continue
        if index >= len(blocks) or blocks[index].lang not in answers:
            page.problems.append(f"{where}: {kind} example without its answer block after it")
            continue
        answer = blocks[index]
        index += 1
        page.examples.append(Example(kind, block.body, answer.lang, answer.body, model, where))
    return page


# -- the class of an example -------------------------------------------------------------------


def define(code: str) -> type:
    """Run a page's class block; its last class that is not an exception."""
    namespace: dict[str, Any] = {"__name__": "doc_example"}
    exec(compile(code, "<doc example>", "exec"), namespace)
    classes = [node.name for node in ast.parse(code).body if isinstance(node, ast.ClassDef)]
    models = [name for name in classes if not issubclass(namespace[name], BaseException)]
    if not models:
        raise AssertionError(f"no model class in:\n{code}")
    return namespace[models[-1]]


def dataplane_for(user: Any, settings: Settings | None = None, recorder: Any = None) -> Dataplane:
    """The dataplane of a serving process: the default settings, ``load()`` done."""
    component = Component(user)
    component.load()
    return Dataplane(component, settings or Settings.from_env({}), recorder)


def rest_client(
    user: Any, entry: str = "flask", settings: Settings | None = None, recorder: Any = None
) -> Any:
    """A Flask test client of the REST app; ``entry="fast"`` puts the fast entry in front."""
    dataplane = dataplane_for(user, settings, recorder)
    app = create_app(dataplane)
    if entry == "fast" and applies(dataplane):
        app.wsgi_app = FastEntry(app.wsgi_app, dataplane, app.extensions["v2_adapter"], NdarrayParser())
    return app.test_client()


@contextlib.contextmanager
def grpc_server(user: Any, settings: Settings | None = None) -> Iterator[str]:
    """A real gRPC server for the class on a free port; yields its address."""
    dataplane = dataplane_for(user, settings)
    server, health, _, _ = build_server(dataplane, dataplane.settings)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    mark_serving(health)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


# -- curl ----------------------------------------------------------------------------------------


@dataclass
class Curl:
    method: str
    path: str
    headers: dict[str, str]
    data: Any
    content_type: str | None


def parse_curl(code: str, files: dict[str, bytes]) -> Curl:
    """The request a documented ``curl`` command sends (the options the pages use)."""
    words = shlex.split(command_line(code))
    assert words[0] == "curl"
    method, url, data, form = None, None, None, {}
    headers: dict[str, str] = {}
    items = iter(words[1:])
    for word in items:
        if word in ("-s", "-i", "-si"):
            continue
        if word == "-X":
            method = next(items)
        elif word == "-H":
            key, value = next(items).split(":", 1)
            headers[key.strip()] = value.strip()
        elif word == "-d":
            data = next(items).encode("utf-8")
        elif word == "-F":
            key, value = next(items).split("=", 1)
            form[key] = (io.BytesIO(files[value[1:]]), value[1:]) if value.startswith("@") else value
        elif word.startswith(HTTP_ADDRESS):
            url = word
        else:
            raise AssertionError(f"curl option the harness does not know: {word!r}")
    assert url is not None, code
    parsed = urllib.parse.urlsplit("http://" + url)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    content_type = headers.pop("Content-Type", None)
    if form:
        return Curl(method or "POST", path, headers, form, "multipart/form-data")
    if data is not None:
        return Curl(
            method or "POST", path, headers, data, content_type or "application/x-www-form-urlencoded"
        )
    return Curl(method or "GET", path, headers, None, content_type)


def send_curl(client: Any, code: str, files: dict[str, bytes] | None = None) -> Any:
    request = parse_curl(code, files or {})
    return client.open(
        request.path,
        method=request.method,
        headers=request.headers,
        data=request.data,
        content_type=request.content_type,
    )


def check_answer(response: Any, lang: str, answer: str, where: str) -> None:
    """The documented answer: ``json`` (200 and the body) or ``http`` (status, headers, body)."""
    body = response.get_data(as_text=True).rstrip("\n")
    if lang == "json":
        assert (response.status_code, body) == (200, answer.strip()), where
        return
    head, _, expected_body = answer.strip("\n").partition("\n\n")
    status_line, *header_lines = head.splitlines()
    assert status_line == f"HTTP/1.1 {response.status}", where
    for line in header_lines:
        key, value = line.split(":", 1)
        assert response.headers.get(key) == value.strip(), f"{where}: header {key}"
    assert body == expected_body.strip(), where


def run_grpc_client(code: str, address: str) -> str:
    """What a documented gRPC client prints, talking to ``address``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace(GRPC_ADDRESS, address), "<doc client>", "exec"), {})
    return out.getvalue()


def run_example(example: Example, entry: str, files: dict[str, bytes] | None = None) -> None:
    """Send one example to a fresh server holding its class, and check the answer."""
    user = define(example.model_code)()
    if example.kind == "curl":
        response = send_curl(rest_client(user, entry), example.code, files)
        check_answer(response, example.answer_lang, example.answer, example.where)
    else:
        with grpc_server(user) as address:
            printed = run_grpc_client(example.code, address)
        assert printed.strip() == example.answer.strip(), example.where


# -- tables ------------------------------------------------------------------------------------


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(name: str, header: list[str]) -> list[list[str]]:
    """The rows of every table of ``docs/<name>`` whose header row is ``header``."""
    lines = (DOCS / name).read_text(encoding="utf-8").splitlines()
    rows: list[list[str]] = []
    found = False
    for number, line in enumerate(lines):
        if line.startswith("|") and split_row(line) == header:
            found = True
            for row in lines[number + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(split_row(row))
    assert found, f"no table with header {header} in {name}"
    return rows


def code(cell: str) -> list[str]:
    """The inline code spans of a table cell."""
    return re.findall(r"`([^`]*)`", cell)
