"""Gunicorn options users set: threads, worker recycling, pidfile."""

import concurrent.futures
import json
import time

import requests

from tests.conftest import worker_pid_env


def _predict(server, seconds: float) -> int:
    response = requests.post(server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [seconds]}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["ndarray"][0]


def test_threads_serve_requests_concurrently(serve, tmp_path):
    server = serve(
        "WorkerPidModel",
        "--threads",
        "4",
        env=worker_pid_env(tmp_path),
    )
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        pids = list(pool.map(lambda _: _predict(server, 1.0), range(4)))
    elapsed = time.monotonic() - started
    # One worker process, four threads: four 1-second requests overlap.
    assert len(set(pids)) == 1
    assert elapsed < 2.5, elapsed


def test_max_requests_recycles_workers_and_each_new_worker_loads(serve, tmp_path):
    load_log = tmp_path / "load"
    server = serve(
        "WorkerPidModel",
        "--max-requests",
        "3",
        env=worker_pid_env(tmp_path),
    )
    pids = []
    for _ in range(10):
        for _attempt in range(50):  # a recycled worker is replaced within moments
            try:
                pids.append(_predict(server, 0))
                break
            except requests.ConnectionError:
                time.sleep(0.05)
    assert len(pids) == 10
    assert len(set(pids)) >= 3
    loaded = load_log.read_text().split()
    assert set(map(int, loaded)) >= set(pids)
    assert len(loaded) == len(set(loaded))  # load() ran once per worker process


def test_pidfile_holds_the_master_pid(serve, tmp_path):
    pidfile = tmp_path / "server.pid"
    server = serve(
        "WorkerPidModel",
        "--pidfile",
        str(pidfile),
        env=worker_pid_env(tmp_path),
    )
    assert int(pidfile.read_text().strip()) == server.process.pid
    assert json.loads(requests.get(server.url + "/health/status").text) == {"meta": {}, "strData": "healthy"}


def _connection_header(server) -> str:
    answer = requests.post(
        server.url + "/api/v1.0/predictions", json={"data": {"ndarray": [[1.0]]}}, timeout=10
    )
    assert answer.json()["data"]["ndarray"] == [[1.0]]
    return answer.headers.get("Connection", "")


def test_speedups_false_serves_rest_as_the_original_did_and_true_keeps_connections(serve):
    plain = serve("IdentityModel", "--speedups", "false")
    assert _connection_header(plain).lower() == "close"  # Gunicorn's sync worker, through Flask
    fast = serve("IdentityModel", env={"SELDON_SPEEDUPS": "true"})
    assert _connection_header(fast).lower() == "keep-alive"  # speedups/keepalive.py
