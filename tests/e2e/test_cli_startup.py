"""The ``seldon-core-microservice`` command as a user runs it: flags, env vars, start-up errors,
process layout (workers, load()), debug/production servers, annotations and shutdown."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import CLI, MODELS_DIR, Server, free_port

PREDICT_BODY = {"data": {"ndarray": [[1, 2]]}}
ERROR_WORD = re.compile(r"\bERROR\b")


def clean_env(tmp_path: pathlib.Path, extra: dict | None = None) -> dict:
    """The test process's environment without any Seldon/Gunicorn settings leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "GUNICORN_", "GRPC_", "FLASK_"))
    }
    env.update({"SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations"), "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def local_ports() -> list[str]:
    return [
        "--host",
        "127.0.0.1",
        "--http-port",
        str(free_port()),
        "--grpc-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
    ]


def run_to_exit(
    args: list[str],
    tmp_path: pathlib.Path,
    env: dict | None = None,
    cwd: pathlib.Path | str = MODELS_DIR,
    timeout: float = 20,
) -> tuple[int, str, float]:
    """Run the CLI expecting it to exit by itself; returns (returncode, combined output, seconds)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [CLI, *args],
        cwd=str(cwd),
        env=clean_env(tmp_path, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"CLI did not exit within {timeout}s:\n{output.decode(errors='replace')}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of the group, if any
        except (ProcessLookupError, PermissionError):
            pass
    return process.returncode, output.decode(errors="replace"), time.monotonic() - started


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ERROR_WORD.search(line)]


def assert_one_clean_error(returncode: int, output: str, elapsed: float, *needles: str) -> None:
    assert returncode != 0, output
    assert elapsed < 10, f"took {elapsed:.1f}s to fail"
    assert "Traceback" not in output, output
    errors = error_lines(output)
    assert len(errors) == 1, output
    for needle in needles:
        assert needle in errors[0], errors[0]


def start_custom(
    argv: list[str],
    http_port: int,
    tmp_path: pathlib.Path,
    env: dict | None = None,
    cwd: pathlib.Path | str = MODELS_DIR,
    timeout: float = 30,
) -> Server:
    """Start the CLI with exactly ``argv`` (no port flags added) and wait for /health/ping on http_port."""
    log_path = tmp_path / f"custom-{http_port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [CLI, *argv],
            cwd=str(cwd),
            env=clean_env(tmp_path, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, http_port, 0, 0, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url + "/health/ping", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log()}")


@pytest.fixture
def custom(tmp_path):
    servers: list[Server] = []

    def _start(argv, http_port, **kwargs) -> Server:
        server = start_custom(argv, http_port, tmp_path, **kwargs)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.stop()


def predict(server: Server, body: dict = PREDICT_BODY, timeout: float = 10) -> requests.Response:
    return requests.post(server.url + "/predict", json=body, timeout=timeout)


def group_members(pgid: int) -> set[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            members.add(int(entry))
    return members


# -- start-up errors: one clear line, non-zero exit, no traceback ------------------------------


BAD_STARTS = {
    "bad-int-value": (
        ["IdentityModel", "--parameters", '[{"name":"batch_size","value":"abc","type":"INT"}]'],
        {},
        ["batch_size", "abc", "INT"],
    ),
    "bad-type": (
        ["IdentityModel", "--parameters", '[{"name":"threshold","value":"1","type":"FOO"}]'],
        {},
        ["FOO"],
    ),
    "malformed-env-json": (
        ["IdentityModel"],
        {"PREDICTIVE_UNIT_PARAMETERS": '[{"name": "a", "value": '},
        ["parameters"],
    ),
    "missing-module": (["NoSuchModelModuleXyz"], {}, ["NoSuchModelModuleXyz"]),
    "module-without-class": (["NoMatchingClass"], {}, ["NoMatchingClass"]),
    "dotted-missing-class": (["IdentityModel.NoSuchClass"], {}, ["IdentityModel", "NoSuchClass"]),
    "init-raises": (["InitFailsModel"], {}, ["InitFailsModel", "weights file /nowhere/model.bin is missing"]),
    "non-integer-env": (["IdentityModel"], {"GUNICORN_WORKERS": "many"}, ["GUNICORN_WORKERS", "many"]),
}


@pytest.mark.parametrize("case", list(BAD_STARTS), ids=list(BAD_STARTS))
def test_startup_error_is_one_clear_line(case, tmp_path):
    args, env, needles = BAD_STARTS[case]
    returncode, output, elapsed = run_to_exit([*args, *local_ports()], tmp_path, env=env)
    assert_one_clean_error(returncode, output, elapsed, *needles)


@pytest.mark.parametrize("case", ["bad-int-value", "missing-module", "init-raises"])
def test_startup_error_with_debug_log_level_still_names_problem(case, tmp_path):
    args, env, needles = BAD_STARTS[case]
    returncode, output, _ = run_to_exit([*args, "--log-level", "DEBUG", *local_ports()], tmp_path, env=env)
    assert returncode != 0, output
    assert any(all(needle in line for needle in needles) for line in error_lines(output)), output


def test_unknown_positional_api_type_is_fatal(tmp_path):
    returncode, output, elapsed = run_to_exit(["IdentityModel", "REST", *local_ports()], tmp_path)
    assert returncode != 0
    assert elapsed < 10
    assert "Unknown args ['REST']" in output
    assert "this CLI does not take API type (REST, GRPC)" in output


def test_invalid_seldon_log_level_fails_cleanly(tmp_path):
    returncode, output, elapsed = run_to_exit(
        ["IdentityModel", *local_ports()], tmp_path, env={"SELDON_LOG_LEVEL": "LOUD"}
    )
    assert_one_clean_error(returncode, output, elapsed, "LOUD")


def test_model_outside_cwd_is_not_found(tmp_path):
    returncode, output, elapsed = run_to_exit(["IdentityModel", *local_ports()], tmp_path, cwd=tmp_path)
    assert_one_clean_error(returncode, output, elapsed, "IdentityModel")


# -- flags that must be accepted -----------------------------------------------------------------


def test_persistence_is_accepted_and_ignored(serve):
    server = serve("IdentityModel", "--persistence", "1")
    assert "Persistence: ignored, persistence is deprecated" in server.log()
    response = predict(server)
    assert response.status_code == 200
    assert response.json()["data"]["ndarray"] == [[1, 2]]


def test_parameters_from_env_reach_the_constructor_typed(serve):
    params = [
        {"name": "a", "value": "1", "type": "INT"},
        {"name": "b", "value": "0.5", "type": "FLOAT"},
        {"name": "c", "value": "2.5", "type": "DOUBLE"},
        {"name": "d", "value": "hello", "type": "STRING"},
        {"name": "e", "value": "true", "type": "BOOL"},
    ]
    server = serve("ParamTypesModel", env={"PREDICTIVE_UNIT_PARAMETERS": json.dumps(params)})
    assert predict(server).json()["jsonData"] == {
        "a": [1, "int"],
        "b": [0.5, "float"],
        "c": [2.5, "float"],
        "d": ["hello", "str"],
        "e": [True, "bool"],
    }


def test_parameters_flag_wins_over_env(serve):
    env_params = json.dumps([{"name": "source", "value": "env", "type": "STRING"}])
    flag_params = json.dumps([{"name": "source", "value": "flag", "type": "STRING"}])
    server = serve(
        "ParamTypesModel", "--parameters", flag_params, env={"PREDICTIVE_UNIT_PARAMETERS": env_params}
    )
    assert predict(server).json()["jsonData"] == {"source": ["flag", "str"]}


# -- model import --------------------------------------------------------------------------------


def test_dotted_path_imports_class_from_package_module(serve):
    server = serve("dotted_pkg.sub_mod.Inner")
    response = predict(server)
    assert response.status_code == 200
    assert response.json()["data"]["ndarray"] == [["inner"]]


def test_module_name_is_imported_from_cwd(serve, tmp_path):
    workdir = tmp_path / "somewhere_else"
    workdir.mkdir()
    shutil.copy(MODELS_DIR / "IdentityModel.py", workdir / "IdentityModel.py")
    server = serve("IdentityModel", cwd=workdir)
    assert predict(server).json()["data"]["ndarray"] == [[1, 2]]


# -- load() semantics ----------------------------------------------------------------------------


def test_load_attribute_error_is_ignored(serve):
    server = serve("LoadAttributeErrorModel")
    response = predict(server)
    assert response.status_code == 200
    assert response.json()["data"]["ndarray"] == [[1, 2]]


def test_load_runtime_error_stops_the_server(tmp_path):
    returncode, output, _ = run_to_exit(["LoadFailsModel", *local_ports()], tmp_path, timeout=30)
    assert returncode != 0, output
    assert "cannot load weights for LoadFailsModel" in output


def test_two_workers_each_load_once_and_both_serve(serve, tmp_path):
    init_log, load_log = tmp_path / "init.log", tmp_path / "load.log"
    params = json.dumps(
        [
            {"name": "init_log", "value": str(init_log), "type": "STRING"},
            {"name": "load_log", "value": str(load_log), "type": "STRING"},
        ]
    )
    # REST only here: each gRPC process also runs load() once (tested with the gRPC server).
    server = serve("WorkerPidModel", "--workers", "2", "--grpc-workers", "0", "--parameters", params)
    master = server.process.pid
    # The server answers as soon as one worker is up: give the second one time to boot.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if load_log.exists() and len(load_log.read_text().split()) >= 2:
            break
        time.sleep(0.05)

    def served_by(_) -> int:
        response = predict(server, {"data": {"ndarray": [0.05]}})
        assert response.status_code == 200
        return response.json()["data"]["ndarray"][0]

    served: set[int] = set()
    with ThreadPoolExecutor(4) as pool:
        for _ in range(50):  # at most 200 requests, 4 at a time
            served.update(pool.map(served_by, range(4)))
            if len(served) == 2:
                break
    assert len(served) == 2, f"all requests served by {served}"
    assert master not in served

    load_pids = [int(line) for line in load_log.read_text().split()]
    assert len(load_pids) == 2
    assert set(load_pids) == served
    assert master not in load_pids

    init_pids = [int(line) for line in init_log.read_text().split()]
    assert init_pids == [master]


def test_debug_mode_loads_once_in_the_main_process(serve, tmp_path):
    init_log, load_log = tmp_path / "init.log", tmp_path / "load.log"
    params = json.dumps(
        [
            {"name": "init_log", "value": str(init_log), "type": "STRING"},
            {"name": "load_log", "value": str(load_log), "type": "STRING"},
        ]
    )
    server = serve("WorkerPidModel", "--debug", "--grpc-workers", "0", "--parameters", params)
    master = server.process.pid
    assert predict(server, {"data": {"ndarray": [0]}}).json()["data"]["ndarray"] == [master]
    assert [int(line) for line in load_log.read_text().split()] == [master]
    assert [int(line) for line in init_log.read_text().split()] == [master]


# -- debug vs production server --------------------------------------------------------------------


def test_debug_flag_uses_flask_development_server(serve):
    server = serve("IdentityModel", "--debug")
    response = predict(server)
    assert response.status_code == 200
    assert "Werkzeug" in response.headers["Server"]


def test_debug_false_uses_gunicorn(serve):
    server = serve("IdentityModel", "--debug", "False")
    response = predict(server)
    assert response.status_code == 200
    assert response.headers["Server"].startswith("gunicorn")


def test_default_is_gunicorn(serve):
    assert predict(serve("IdentityModel")).headers["Server"].startswith("gunicorn")


def test_seldon_debug_env_switches_to_debug(serve):
    server = serve("IdentityModel", env={"SELDON_DEBUG": "true"})
    assert "Werkzeug" in predict(server).headers["Server"]


def test_debug_false_flag_wins_over_seldon_debug_env(serve):
    server = serve("IdentityModel", "--debug", "False", env={"SELDON_DEBUG": "true"})
    assert predict(server).headers["Server"].startswith("gunicorn")


def test_access_log_flag_logs_requests(serve):
    server = serve("IdentityModel", "--access-log")
    predict(server)
    time.sleep(0.3)
    assert re.search(r'"POST /predict HTTP/1\.1" 200', server.log()), server.log()


def test_access_log_false_logs_no_requests(serve):
    server = serve("IdentityModel", "--access-log", "False")
    predict(server)
    time.sleep(0.3)
    assert "POST /predict" not in server.log()


# -- env var defaults ------------------------------------------------------------------------------


def test_http_port_from_env_when_flag_absent(custom):
    port = free_port()
    server = custom(
        ["IdentityModel", "--host", "127.0.0.1"],
        port,
        env={
            "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(port),
            "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(free_port()),
            "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": str(free_port()),
        },
    )
    assert predict(server).status_code == 200


def test_http_port_flag_wins_over_env(custom):
    env_port, flag_port = free_port(), free_port()
    server = custom(
        ["IdentityModel", "--host", "127.0.0.1", "--http-port", str(flag_port)],
        flag_port,
        env={
            "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": str(env_port),
            "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": str(free_port()),
            "PREDICTIVE_UNIT_METRICS_SERVICE_PORT": str(free_port()),
        },
    )
    assert predict(server).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{env_port}/health/ping", timeout=2)


# -- annotations: seldon.io/rest-timeout -----------------------------------------------------------


def _slow_predict(server: Server) -> requests.Response | Exception:
    try:
        return predict(server, {"data": {"ndarray": [3]}}, timeout=20)
    except requests.RequestException as exc:
        return exc


def test_rest_timeout_annotation_kills_slow_request(serve, tmp_path):
    annotations = tmp_path / "annotations"
    annotations.write_text('kubernetes.io/config.source="api"\nseldon.io/rest-timeout="1000"\n')
    limited = serve("SleepModel", env={"SELDON_ANNOTATIONS_FILE": str(annotations)})
    unlimited = serve("SleepModel")
    with ThreadPoolExecutor(2) as pool:
        limited_future = pool.submit(_slow_predict, limited)
        unlimited_future = pool.submit(_slow_predict, unlimited)
        limited_result, unlimited_result = limited_future.result(), unlimited_future.result()

    assert isinstance(unlimited_result, requests.Response), unlimited_result
    assert unlimited_result.status_code == 200
    assert unlimited_result.json()["data"]["ndarray"] == [3]

    # With a 1 s timeout the worker is killed mid-request: no successful answer comes back.
    assert not (isinstance(limited_result, requests.Response) and limited_result.status_code == 200)
    assert "WORKER TIMEOUT" in limited.log()
    # ...and the server keeps serving with a fresh worker.
    assert predict(limited, {"data": {"ndarray": [0]}}).status_code == 200


# -- shutdown --------------------------------------------------------------------------------------


def test_sigterm_stops_server_and_all_children(serve):
    server = serve("IdentityModel", "--workers", "2")
    master = server.process.pid
    deadline = time.monotonic() + 10
    while len(group_members(master)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    before = group_members(master)
    assert master in before and len(before) >= 3, before  # master + 2 workers

    server.process.send_signal(signal.SIGTERM)
    returncode = server.process.wait(timeout=10)
    assert returncode == 0
    deadline = time.monotonic() + 5
    while group_members(master) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(master) == set()
