"""A small Dockerfile reader: instructions with their arguments, ARG defaults and ENV values, so
tests can check an image's contract and run its commands without a Docker engine."""

from __future__ import annotations

import json
import pathlib
import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Instruction:
    """One instruction: ``keyword`` upper-cased, ``args`` with continuation lines joined."""

    keyword: str
    args: str
    line: int


def parse(path: pathlib.Path) -> list[Instruction]:
    """The instructions of a Dockerfile (comments, directives and blank lines left out)."""
    instructions: list[Instruction] = []
    buffer, start = "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped too, as Docker does
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer += stripped[:-1].rstrip() + " "
            continue
        keyword, _, args = (buffer + stripped).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = ""
    return instructions


def arguments(instructions: list[Instruction], keyword: str) -> list[str]:
    """The arguments of every ``keyword`` instruction, in order."""
    return [instruction.args for instruction in instructions if instruction.keyword == keyword]


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction; ValueError for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not exec form: {args}") from exc
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"not exec form: {args}")
    return value


def substitute(text: str, variables: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced as Docker does for ARG/ENV (unknown names: empty)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), ""), text)


def build_variables(instructions: list[Instruction]) -> tuple[dict[str, str], dict[str, str]]:
    """(ARG defaults, ENV values) after the last FROM, with substitutions applied."""
    args: dict[str, str] = {}
    env: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            args, env = {}, {}
        elif instruction.keyword == "ARG":
            name, _, default = instruction.args.partition("=")
            args[name] = substitute(default, {**args, **env})
        elif instruction.keyword == "ENV":
            for pair in shlex.split(instruction.args):
                name, _, value = pair.partition("=")
                env[name] = substitute(value, {**args, **env})
    return args, env


def healthcheck_command(instructions: list[Instruction]) -> tuple[list[str], str]:
    """(the HEALTHCHECK's exec-form command, its options)."""
    (args,) = arguments(instructions, "HEALTHCHECK")
    options, marker, command = args.partition(" CMD ")
    if not marker:
        raise ValueError(f"HEALTHCHECK without CMD: {args}")
    return exec_form(command.strip()), options.strip()


def copy_sources(instructions: list[Instruction], variables: dict[str, str]) -> list[str]:
    """The build-context paths COPY instructions read (``--from`` copies left out)."""
    sources: list[str] = []
    for args in arguments(instructions, "COPY"):
        words = shlex.split(args)
        if any(word.startswith("--from") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(substitute(path, variables).rstrip("/") for path in paths[:-1])
    return sources
