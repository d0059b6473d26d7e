"""The layout rules of DESIGN.md that a change could silently break."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "seldon_wrapper"


def _imports(path: pathlib.Path, full: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names if full else {name.split(".")[0] for name in names}


def _sources() -> list[pathlib.Path]:
    return [p for p in PACKAGE.rglob("*.py") if "proto" not in p.relative_to(PACKAGE).parts[:1]]


def _importers(names: set[str], full: bool = False) -> list[str]:
    """Files (relative to the package) importing any of ``names`` (top-level, or full names)."""
    return sorted(str(path.relative_to(PACKAGE)) for path in _sources() if names & _imports(path, full))


def test_flask_only_in_rest_speedups_and_serving():
    offenders = [
        p
        for p in _importers({"flask", "werkzeug"})
        if p.split("/")[0] not in ("rest", "speedups", "serving.py")
    ]
    assert offenders == []


def test_gunicorn_only_in_serving_and_speedups():
    process_layers = ("speedups", "serving.py")
    importers = [p for p in _importers({"gunicorn"}) if p.split("/")[0] not in process_layers]
    assert importers == ["executor/rest_worker.py", "executor/serving.py"]  # the executor's process layer


def test_the_executor_walk_is_protocol_neutral():
    """The walk and the graph know no transport: payloads and node clients bring it."""
    executor = PACKAGE / "executor"
    for name in ("walk.py", "graph.py", "graph_metadata.py"):
        imports = _imports(executor / name)
        assert not {"flask", "werkzeug", "grpc", "gunicorn", "urllib3", "http"} & imports, name


def test_only_serving_reaches_the_speed_machinery():
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in _sources()
        if any(name.startswith("seldon_wrapper.speedups") for name in _imports(path, full=True))
    )
    assert [p for p in users if not p.startswith("speedups/")] == ["serving.py"]


def test_dataplane_and_codecs_import_no_web_or_rpc_framework():
    neutral = [PACKAGE / "dataplane.py", PACKAGE / "component.py", *(PACKAGE / "codecs").glob("*.py")]
    for path in neutral:
        assert not {"flask", "werkzeug", "grpc", "gunicorn"} & _imports(path), path.name


def test_package_does_not_import_seldon_core():
    assert [str(p) for p in _sources() if "seldon_core" in _imports(p)] == []


def test_v1_codecs_offer_the_declared_codec_interface():
    from seldon_wrapper.codecs import seldon_json, seldon_proto
    from seldon_wrapper.codecs.message import MessageCodec

    members = [name for name in vars(MessageCodec) if not name.startswith("_")]
    members += list(MessageCodec.__annotations__)
    for codec in (seldon_json, seldon_proto):
        assert [name for name in members if not hasattr(codec, name)] == [], codec.__name__
    assert (seldon_json.LEGACY, seldon_proto.LEGACY) == ("rest", "grpc")


def test_json_codec_does_not_load_the_large_array_parser():
    import subprocess
    import sys

    code = "import sys, seldon_wrapper.codecs.seldon_json; print('simdjson' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dataplane_does_not_branch_on_the_transport():
    source = (PACKAGE / "dataplane.py").read_text()
    assert "TRANSPORT" not in source and '"rest"' not in source and '"grpc"' not in source
