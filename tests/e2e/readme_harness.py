"""Run an example README as a test: its fenced blocks are the commands and their answers.

Why: the READMEs under examples/ are what a new user copies. Running every block, and failing on
any block the harness does not understand, keeps them from drifting away from the server.

The rules, block by block (a README is read top to bottom):

- ```bash with one command (``\\`` continuations joined, ``#`` comment lines dropped):
  - ``[NAME=value ...] seldon-core-microservice <Class> [flags]``: serve. It starts a server
    from the example's folder with those flags and environment; the commands after it run
    against that server, until the next serve command (which stops it and starts another);
  - ``curl [-s|-i|-si] [-H ...] [-X ...] [-d ...] localhost:9000/...``: a REST call; the next
    block is its answer: ```json (the exact body of a 200 answer, as the server writes it) or
    ```http (with ``curl -i``: status line, the headers that must match, blank line, JSON body);
  - ``curl -s localhost:6000/<path> | grep [-E|-F] PATTERN [| grep ...]``: a metrics scrape; the
    next block, ```text, holds the lines grep keeps. Lines are compared in any order (the
    exposition's order of families depends on which process recorded first); a sample's value
    is compared as a number (``3`` matches ``3.0``), everything before it as text;
- ```python: a script, run with the interpreter of the tests from the example's folder, after
  ``localhost:9000``, ``localhost:5000`` and ``localhost:6000`` are replaced by the test server's
  REST, gRPC and metrics addresses; the next block, ```text, is its whole stdout;
- ```sh: documentation only (s2i, docker): never run;
- anything else (another language, a command that is not one of the above, an answer without a
  command before it, a command without its answer) is a problem, and a README with problems
  fails its test.
"""

from __future__ import annotations

import json
import math
import pathlib
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.conftest import Server, start_server
from tests.e2e.grpc_helpers import grpc_channel
from tests.e2e.metrics_helpers import metrics_get

CLI_NAME = "seldon-core-microservice"
EXECUTOR_NAME = "seldon-core-executor"
HTTP_ADDRESS = "localhost:9000"
EXECUTOR_HTTP_ADDRESS = "localhost:8080"  # the executor's default REST port
GRPC_ADDRESS = "localhost:5000"
METRICS_ADDRESS = "localhost:6000"
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
RUN_LANGS = ("bash", "python")
ANSWER_LANGS = ("json", "http", "text")
DOC_ONLY_LANGS = ("sh",)
ANSWERS = {"curl": ("json", "http"), "scrape": ("text",), "python": ("text",)}
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# Flags the harness sets itself: a README giving them would serve somewhere the test cannot see.
HARNESS_FLAGS = ("--host", "--http-port", "--grpc-port", "--metrics-port")
EXECUTOR_HARNESS_FLAGS = ("--host", "--http_port", "--grpc_port")
CALL_TIMEOUT = 10
SCRIPT_TIMEOUT = 30


@dataclass
class Serve:
    """``[NAME=value ...] seldon-core-microservice <model> <args>``, or
    ``seldon-core-executor <args>`` (a graph; ``model`` is empty)."""

    model: str
    args: list[str]
    env: dict[str, str]
    where: str
    command: str = CLI_NAME


@dataclass
class Step:
    """One command and the answer the README shows for it."""

    kind: str  # "curl", "scrape" or "python"
    code: str  # the command line (curl, scrape) or the script (python)
    answer_lang: str
    answer: str
    where: str


@dataclass
class Section:
    """A serve command and the steps run against its server."""

    serve: Serve
    steps: list[Step] = field(default_factory=list)


@dataclass
class Readme:
    path: pathlib.Path
    sections: list[Section]
    problems: list[str]

    @property
    def steps(self) -> list[Step]:
        return [step for section in self.sections for step in section.steps]


# -- parsing ---------------------------------------------------------------------------------


def one_command(code: str) -> str:
    """The single command of a shell block: continuations joined, comment lines dropped."""
    lines = [line.strip() for line in code.replace("\\\n", " ").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) != 1:
        raise ValueError(f"expected one command, got {len(lines)}")
    return lines[0]


def parse_curl(tokens: list[str], address: str | None = None) -> tuple[str, str, dict, str | None, bool]:
    """``(method, path, headers, body, curl -i)`` of a curl command's tokens (the flags it knows)."""
    method, url, data, include = None, None, None, False
    headers: dict[str, str] = {}
    rest = iter(tokens[1:])
    for token in rest:
        if token in ("-d", "--data", "--data-raw", "--data-binary"):
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
    accepted = (address,) if address else (HTTP_ADDRESS, EXECUTOR_HTTP_ADDRESS)
    address = next((one for one in accepted if url is not None and url.startswith(one + "/")), None)
    if address is None:
        raise ValueError(f"the URL should start with {accepted[0]}/, got {url!r}")
    if data is not None and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = "application/x-www-form-urlencoded"  # what curl -d sends
    return method or ("POST" if data is not None else "GET"), url[len(address) :], headers, data, include


def split_pipeline(line: str) -> list[list[str]]:
    """A command line's tokens, one list per stage of a ``|`` pipeline."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    stages: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            stages.append([])
        elif set(token) == {"|"}:
            raise ValueError(f"{token!r} is not a pipe this test runs")
        else:
            stages[-1].append(token)
    if any(not stage for stage in stages):
        raise ValueError("empty pipeline stage")
    return stages


def grep_filter(tokens: list[str]) -> tuple[re.Pattern, bool]:
    """``(pattern, invert)`` of ``grep [-E|-F|-v] PATTERN``: what grep keeps, as a Python regex.

    Basic patterns (no -E) are read as grep does: ``+ ? | ( ) { }`` are plain characters."""
    if tokens[0] != "grep":
        raise ValueError(f"a scrape pipes into grep, not {tokens[0]!r}")
    mode, invert, pattern = "basic", False, None
    for token in tokens[1:]:
        if token == "-E":
            mode = "extended"
        elif token == "-F":
            mode = "fixed"
        elif token == "-v":
            invert = True
        elif token.startswith("-"):
            raise ValueError(f"grep flag {token!r} is not understood by this test")
        elif pattern is None:
            pattern = token
        else:
            raise ValueError("grep with two patterns")
    if pattern is None:
        raise ValueError("grep without a pattern")
    if mode == "fixed":
        return re.compile(re.escape(pattern)), invert
    if mode == "basic":
        pattern = re.sub(r"(?<!\\)([+?|(){}])", r"\\\1", pattern)
    return re.compile(pattern), invert


def parse_scrape(stages: list[list[str]]) -> tuple[str, list[tuple[re.Pattern, bool]]]:
    """``(metrics path, grep filters)`` of ``curl -s localhost:6000/PATH | grep ... [| grep ...]``."""
    method, path, headers, data, include = parse_curl(stages[0], METRICS_ADDRESS)
    if method != "GET" or headers or data is not None or include:
        raise ValueError("a scrape is a plain GET: curl -s localhost:6000/<path>")
    if len(stages) < 2:
        raise ValueError("a scrape must be piped into grep (the whole exposition is not deterministic)")
    return path, [grep_filter(stage) for stage in stages[1:]]


def parse_serve(tokens: list[str], where: str) -> Serve:
    """The serve command's class, flags and environment; the harness chooses the ports."""
    command = EXECUTOR_NAME if EXECUTOR_NAME in tokens else CLI_NAME
    start = tokens.index(command)
    env = {}
    for token in tokens[:start]:
        if not ENV_ASSIGNMENT.match(token):
            raise ValueError(f"serve from the example's folder: {token!r} before {command}")
        name, _, value = token.partition("=")
        env[name] = value
    if command == EXECUTOR_NAME:
        args = tokens[start + 1 :]
        for flag in EXECUTOR_HARNESS_FLAGS:
            if any(arg == flag or arg.startswith(flag + "=") for arg in args):
                raise ValueError(f"{flag} is set by the test; leave it at its default in the README")
        return Serve("", args, env, where, EXECUTOR_NAME)
    if len(tokens) <= start + 1:
        raise ValueError(f"{CLI_NAME} without a class")
    args = tokens[start + 2 :]
    for flag in HARNESS_FLAGS:
        if any(arg == flag or arg.startswith(flag + "=") for arg in args):
            raise ValueError(f"{flag} is set by the test; leave it at its default in the README")
    return Serve(tokens[start + 1], args, env, where)


def classify(lang: str, body: str) -> tuple[str, Any]:
    """``("serve", Serve-tokens) | ("curl", line) | ("scrape", line) | ("python", script)``."""
    if lang == "python":
        return "python", body
    line = one_command(body)
    stages = split_pipeline(line)
    if CLI_NAME in stages[0] or EXECUTOR_NAME in stages[0]:
        if len(stages) != 1:
            raise ValueError("a serve command is not piped")
        return "serve", stages[0]
    if stages[0][0] != "curl":
        raise ValueError(f"untested command {stages[0][0]!r}")
    if len(stages) == 1:
        parse_curl(stages[0])
        return "curl", line
    parse_scrape(stages)
    return "scrape", line


def _answer_follows(blocks: list[tuple[str, str, int]], index: int) -> int:
    """1 when the block at ``index`` is an answer (of a command already reported), else 0."""
    return int(index < len(blocks) and blocks[index][0] in ANSWER_LANGS)


def parse_readme(path: pathlib.Path) -> Readme:
    """The README's sections, or the problems that keep it from being run as written."""
    text = path.read_text(encoding="utf-8")
    blocks = [
        (match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in FENCE.finditer(text)
    ]
    readme = Readme(path, [], [])
    index = 0
    while index < len(blocks):
        lang, body, line = blocks[index]
        where = f"{path.parent.name}/{path.name}:{line}"
        index += 1
        if lang in DOC_ONLY_LANGS:
            continue
        if lang in ANSWER_LANGS:
            readme.problems.append(f"{where}: ```{lang} answer without a command before it")
            continue
        if lang not in RUN_LANGS:
            readme.problems.append(f"{where}: ```{lang or '(no language)'} is not a block this test knows")
            continue
        try:
            kind, parsed = classify(lang, body)
            if kind == "serve":
                readme.sections.append(Section(parse_serve(parsed, where)))
                continue
        except ValueError as exc:
            readme.problems.append(f"{where}: {exc}")
            index += _answer_follows(blocks, index)  # one problem per command, not two
            continue
        if index >= len(blocks) or blocks[index][0] not in ANSWERS[kind]:
            wanted = " or ".join(f"```{answer}" for answer in ANSWERS[kind])
            readme.problems.append(f"{where}: {kind} without a {wanted} answer after it")
            index += _answer_follows(blocks, index)
            continue
        answer_lang, answer, _ = blocks[index]
        index += 1
        if not readme.sections:
            readme.problems.append(f"{where}: {kind} before any serve command")
            continue
        if kind == "curl":  # the address of the section's server: a microservice's or an executor's
            executor = readme.sections[-1].serve.command == EXECUTOR_NAME
            try:
                parse_curl(split_pipeline(parsed)[0], EXECUTOR_HTTP_ADDRESS if executor else HTTP_ADDRESS)
            except ValueError as exc:
                readme.problems.append(f"{where}: {exc}")
                continue
        readme.sections[-1].steps.append(Step(kind, parsed, answer_lang, answer, where))
    return readme


# -- running ---------------------------------------------------------------------------------


def local(text: str, server: Server) -> str:
    """The documented addresses replaced by the test server's."""
    return (
        text.replace(HTTP_ADDRESS, f"127.0.0.1:{server.http_port}")
        .replace(EXECUTOR_HTTP_ADDRESS, f"127.0.0.1:{server.http_port}")
        .replace(GRPC_ADDRESS, f"127.0.0.1:{server.grpc_port}")
        .replace(METRICS_ADDRESS, f"127.0.0.1:{server.metrics_port}")
    )


def answer_http(text: str) -> tuple[int, str, dict, str]:
    """``(status, reason, headers, body)`` of an ```http answer."""
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    _, code, reason = status_line.split(" ", 2)
    return int(code), reason, dict(line.split(": ", 1) for line in header_lines), body


def run_curl(step: Step, server: Server) -> None:
    """Send the call as curl would and compare the answer with the README's."""
    method, path, headers, data, include = parse_curl(split_pipeline(step.code)[0])
    response = requests.request(
        method,
        server.url + path,
        headers=headers,
        data=None if data is None else data.encode("utf-8"),
        timeout=CALL_TIMEOUT,
    )
    if step.answer_lang == "http":
        assert include, f"{step.where}: an ```http answer needs curl -i"
        code, reason, expected_headers, body = answer_http(step.answer)
        assert (response.status_code, response.reason) == (code, reason), (step.where, response.text)
        for key, value in expected_headers.items():
            assert response.headers.get(key) == value, (step.where, key, response.headers.get(key))
        assert response.json() == json.loads(body), (step.where, response.text)
    else:
        assert not include, f"{step.where}: curl -i needs an ```http answer"
        assert response.status_code == 200, (step.where, response.status_code, response.text)
        assert response.headers["Content-Type"] == "application/json", step.where
        # The exact text, as the README shows it (sorted keys, compact, floats as floats).
        assert response.text.rstrip("\n") == step.answer.strip(), (step.where, response.text)


_SAMPLE = re.compile(r"^(?P<series>[^#\s].*) (?P<value>\S+)$")


def _line_key(line: str) -> tuple[str, float | str]:
    """A scrape line as ``(text before the value, value as a number)``; other lines as text."""
    match = _SAMPLE.match(line)
    if match:
        try:
            return match.group("series"), float(match.group("value"))
        except ValueError:
            pass
    return line, ""


def _same_lines(got: list[str], expected: list[str]) -> bool:
    got_keys = sorted(map(_line_key, got), key=lambda key: key[0])
    expected_keys = sorted(map(_line_key, expected), key=lambda key: key[0])
    if [key[0] for key in got_keys] != [key[0] for key in expected_keys]:
        return False
    for (_, got_value), (_, expected_value) in zip(got_keys, expected_keys, strict=True):
        if isinstance(got_value, float) and isinstance(expected_value, float):
            if not math.isclose(got_value, expected_value, rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif got_value != expected_value:
            return False
    return True


def run_scrape(step: Step, server: Server) -> None:
    """Scrape the metrics port, keep what the greps keep, compare with the README's lines."""
    path, filters = parse_scrape(split_pipeline(step.code))
    response = metrics_get(server, path)
    assert response.status_code == 200, (step.where, response.text)
    lines = response.text.splitlines()
    for pattern, invert in filters:
        lines = [line for line in lines if bool(pattern.search(line)) != invert]
    expected = step.answer.splitlines()
    assert _same_lines(lines, expected), (step.where, "\n".join(lines))


def run_python(step: Step, server: Server, folder: pathlib.Path) -> None:
    """Run the snippet in a fresh interpreter, as a user would; its stdout is the answer."""
    done = subprocess.run(
        [sys.executable, "-c", local(step.code, server)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert done.returncode == 0, (step.where, done.stderr)
    assert done.stdout == step.answer, (step.where, done.stdout, done.stderr)


RUNNERS = {"curl": run_curl, "scrape": run_scrape}


def serve_section(section: Section, folder: pathlib.Path, tmp_path: pathlib.Path) -> Server:
    """The section's server, with the gRPC port SERVING too (the snippets may use it)."""
    serve = section.serve
    if serve.command == EXECUTOR_NAME:
        from tests.executor.harness import launch_executor

        return launch_executor(serve.args, cwd=folder, tmp_path=tmp_path, env=serve.env)
    server = start_server(serve.model, *serve.args, env=serve.env, cwd=folder, tmp_path=tmp_path)
    if "--grpc-workers" not in serve.args:
        try:
            with grpc_channel(server):
                pass
        except BaseException:
            server.stop()
            raise
    return server


def run_readme(readme: Readme, tmp_path: pathlib.Path) -> None:
    """Every section in order: serve, run its steps against the server, stop it."""
    assert readme.problems == [], readme.problems
    folder = readme.path.parent
    for number, section in enumerate(readme.sections):
        server_tmp = tmp_path / f"section-{number}"
        server_tmp.mkdir()
        server = serve_section(section, folder, server_tmp)
        try:
            for step in section.steps:
                if step.kind == "python":
                    run_python(step, server, folder)
                else:
                    RUNNERS[step.kind](step, server)
        except AssertionError:
            print(f"server log of {section.serve.where}:\n{server.log()}")
            raise
        finally:
            server.stop()
