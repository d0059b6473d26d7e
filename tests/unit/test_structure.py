"""The layout rules of DESIGN.md that a change could silently break."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "seldon_wrapper"


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources() -> list[pathlib.Path]:
    return [p for p in PACKAGE.rglob("*.py") if "proto" not in p.relative_to(PACKAGE).parts[:1]]


def test_flask_only_in_rest_and_serving():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in _sources()
        if {"flask", "werkzeug"} & _imports(p)
        and p.relative_to(PACKAGE).parts[0] != "rest"
        and p.name != "serving.py"
    ]
    assert offenders == []


def test_dataplane_and_codecs_import_no_web_or_rpc_framework():
    neutral = [PACKAGE / "dataplane.py", PACKAGE / "component.py", *(PACKAGE / "codecs").glob("*.py")]
    for path in neutral:
        assert not {"flask", "werkzeug", "grpc", "gunicorn"} & _imports(path), path.name


def test_package_does_not_import_seldon_core():
    assert [str(p) for p in _sources() if "seldon_core" in _imports(p)] == []
