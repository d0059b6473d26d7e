"""Metrics across processes (spec 6.5, 6.6 and our deviations).

Every process writes its own prometheus-client multiprocess file and a scrape sums them, so:
no increment is lost under concurrency, and counters of recycled (``--max-requests``) or
crashed workers are kept instead of reset; a GAUGE reads as the most recent value set by any
process. There is no ``worker_id`` label.
"""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.metrics_helpers import REQUESTS_FAMILY, scrape

CLIENTS = 32
TOTAL = 2000


def one(value=1.0):
    return {"data": {"ndarray": [[value]]}}


def predict_pid(server, value=1.0, session=None):
    response = (session or requests).post(server.url + "/predict", json=one(value), timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["ndarray"][0])


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return children


def test_2000_concurrent_increments_over_2_workers_8_threads_are_all_counted(serve):
    server = serve("MetricsConcurrent", "--threads", "8", "--workers", "2")
    # The server answers once one worker is up; wait for the second (and the gRPC process) so
    # the 32 keep-alive connections can spread over both workers.
    deadline = time.monotonic() + 15
    while len(_children(server.process.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the second worker finishes booting after it is forked
    shares = [TOTAL // CLIENTS + (1 if i < TOTAL % CLIENTS else 0) for i in range(CLIENTS)]
    assert sum(shares) == TOTAL

    def client(count):
        pids = []
        with requests.Session() as session:
            for _ in range(count):
                pids.append(predict_pid(server, session=session))
        return pids

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        pids = [pid for result in pool.map(client, shares) for pid in result]
    elapsed = time.monotonic() - started
    assert len(pids) == TOTAL
    assert len(set(pids)) == 2, f"expected both workers to serve, got {set(pids)}"

    exposition = scrape(server)
    assert "worker_id" not in exposition.text
    for name in ("runtime_hits_total", "static_hits_total"):
        series = exposition.samples(name, method="predict")
        assert len(series) == 1, series  # one series: processes are summed, not labelled
        assert series[0].value == TOTAL, (name, series[0].value)
    assert exposition.total(f"{REQUESTS_FAMILY}_total", endpoint="/predict", code="200") == TOTAL
    assert elapsed < 30, f"2000 requests took {elapsed:.1f}s"


def test_recycled_workers_do_not_reset_counters(serve):
    server = serve("MetricsRecycle", "--max-requests", "5")
    pids = [predict_pid(server, value=float(i)) for i in range(1, 31)]
    assert len(set(pids)) >= 6, f"--max-requests 5 over 30 requests recycled too few workers: {set(pids)}"

    exposition = scrape(server)
    assert exposition.value("served_total", method="predict") == 30
    assert exposition.value("last_seen", method="predict") == 30.0  # the most recent value set
    assert exposition.value(f"{REQUESTS_FAMILY}_total", endpoint="/predict", code="200") == 30
    assert "worker_id" not in exposition.text


def test_a_crashed_worker_does_not_reset_counters(serve):
    server = serve("MetricsRecycle")
    pids = {predict_pid(server, value=float(i)) for i in range(1, 11)}
    assert len(pids) == 1
    os.kill(pids.pop(), signal.SIGKILL)  # the worker of the server this test started
    deadline = time.monotonic() + 20
    while True:  # gunicorn's arbiter replaces the worker
        try:
            if requests.get(server.url + "/health/ping", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "no worker came back after the crash"
        time.sleep(0.1)
    for i in range(11, 16):
        predict_pid(server, value=float(i))

    exposition = scrape(server)
    assert exposition.value("served_total", method="predict") == 15
    assert exposition.value("last_seen", method="predict") == 15.0
