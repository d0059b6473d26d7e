"""A REST worker keeps the memory of large requests while they come, and gives it back when quiet."""

import concurrent.futures
import time

import numpy as np
import pytest
import requests

ROWS = np.random.default_rng(7).normal(size=(2000, 100))
BODIES = {
    # ~3.9 MB of numbers, parsed straight into numpy (a pooled parser holds its buffers)
    "numbers": {"data": {"ndarray": ROWS.tolist()}},
    # the same with a label per row: Python lists, then a numpy str array (malloc's heap)
    "labelled": {"data": {"ndarray": [["row", *row] for row in ROWS.tolist()]}},
}


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("kind", BODIES)
def test_memory_of_large_requests_is_returned_once_the_worker_is_idle(serve_speedups, kind):
    server = serve_speedups("PidTagIdentity")
    url = server.url + "/api/v1.0/predictions"
    small = requests.post(url, json={"data": {"ndarray": [[1.0, 2.0]]}}).json()
    pid = small["meta"]["tags"]["pid"]
    baseline = _rss_mb(pid)

    body = BODIES[kind]
    peak = baseline
    with requests.Session() as session:
        for _ in range(15):
            answer = session.post(url, json=body)
            assert answer.status_code == 200
            peak = max(peak, _rss_mb(pid))
    assert len(answer.json()["data"]["ndarray"]) == len(ROWS)
    assert peak > baseline + 5  # the requests did need memory (and this is their worker)

    # Back within 10 MB of where it started (the requests took ~45 MB; what stays is
    # interpreter and allocator state, 5-7 MB here, not the requests' buffers or garbage).
    deadline = time.monotonic() + 10
    while _rss_mb(pid) > baseline + 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _rss_mb(pid) <= baseline + 10, (baseline, peak, _rss_mb(pid))
    # And the worker still serves, small and large.
    assert requests.post(url, json={"data": {"ndarray": [[3.0]]}}).json()["data"]["ndarray"] == [[3.0]]
    assert requests.post(url, json=body).status_code == 200


def test_concurrent_large_requests_on_threads_get_their_own_answers(serve_speedups):
    server = serve_speedups("PidTagIdentity", "--threads", "4")
    url = server.url + "/api/v1.0/predictions"
    bodies = [{"data": {"ndarray": (ROWS[:400] + i).tolist()}} for i in range(8)]

    def post(body):
        with requests.Session() as session:
            return [session.post(url, json=body).json()["data"]["ndarray"] for _ in range(3)]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for body, answers in zip(bodies, pool.map(post, bodies), strict=True):
            assert all(answer == body["data"]["ndarray"] for answer in answers)
