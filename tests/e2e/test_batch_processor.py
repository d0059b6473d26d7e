"""``seldon-batch-processor`` end to end: the real console script against our real server.

Our server is a single model, so the batch processor reaches it as it reaches a deployment's own
service: REST with ``--gateway-type seldon`` (``/api/v1.0/predictions``, ``/api/v1.0/feedback``).
gRPC serves ``seldon.protos.Seldon`` whatever the metadata, so both ``seldon`` and the ingress
types (``istio``: ``seldon``/``namespace`` metadata) work. The ingress REST path
``/seldon/<namespace>/<deployment>/api/v1.0/...`` is the ingress's, not a model's: not served here.

Model: tests/models/BatchModel.py (``X * 2``; rows ``[key, mode, value]`` plan failures).
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest

from tests.conftest import BIN_DIR, start_server

PROCESSOR = str(BIN_DIR / "seldon-batch-processor")
LINES = 2000
SUMMARY = re.compile(r"(\d+) lines sent, (\d+) succeeded, (\d+) failed, [\d.]+ s elapsed")


@pytest.fixture(scope="module")
def state_dir(module_tmp):
    path = module_tmp / "state"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def server(module_tmp, state_dir):
    parameters = json.dumps([{"name": "state_dir", "value": str(state_dir), "type": "STRING"}])
    running = start_server(
        "BatchModel", "--workers", "2", tmp_path=module_tmp, env={"PREDICTIVE_UNIT_PARAMETERS": parameters}
    )
    yield running
    running.stop()


def endpoint(server, transport: str, gateway: str = "seldon") -> list[str]:
    port = server.http_port if transport == "rest" else server.grpc_port
    return ["--transport", transport, "-g", gateway, "-h", f"127.0.0.1:{port}"]


def run(tmp_path, lines: list, *args: str, timeout: float = 60) -> tuple[list[dict], str]:
    """Run the console script on ``lines`` (JSON-encoded unless str); (output lines parsed, stderr)."""
    source, target = tmp_path / "input.txt", tmp_path / "output.txt"
    source.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    command = [PROCESSOR, "-d", "mymodel", "-i", str(source), "-o", str(target), *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in target.read_text().splitlines()], proc.stderr


def tags(output: dict) -> dict:
    """The batch tags of an output line: meta.tags of answers, meta itself for predict failures."""
    meta = output["meta"]
    return meta["tags"] if "tags" in meta else meta


def by_index(outputs: list[dict], count: int) -> dict[int, dict]:
    """Outputs keyed by batch_index; every input line has exactly one."""
    assert len(outputs) == count
    indexed = {}
    for output in outputs:
        index = tags(output)["batch_index"]
        assert index == int(index)
        indexed[int(index)] = output
    assert sorted(indexed) == list(range(count))
    return indexed


def summary(stderr: str) -> tuple[int, int, int]:
    match = SUMMARY.search(stderr)
    assert match, stderr
    return tuple(int(group) for group in match.groups())


def answer(output: dict) -> np.ndarray:
    data = output["data"]
    if "tensor" in data:
        return np.array(data["tensor"]["values"]).reshape(data["tensor"]["shape"])
    return np.array(data["ndarray"])


@pytest.mark.parametrize(
    "transport, gateway, payload",
    [
        ("rest", "seldon", "ndarray"),
        ("rest", "seldon", "tensor"),
        ("grpc", "seldon", "ndarray"),
        ("grpc", "istio", "tensor"),
    ],
)
def test_data_lines_each_get_their_prediction(server, tmp_path, transport, gateway, payload):
    lines = [[[i, 0, i / 4]] for i in range(LINES)]
    outputs, stderr = run(
        tmp_path, lines, *endpoint(server, transport, gateway), "-p", payload, "-w", "4", "-u", "run-1"
    )
    indexed = by_index(outputs, LINES)
    for index, output in indexed.items():
        np.testing.assert_allclose(answer(output), np.array(lines[index]) * 2)
        assert payload in output["data"]
        assert tags(output)["batch_id"] == "run-1"
    assert len({tags(output)["batch_instance_id"] for output in outputs}) == LINES
    assert summary(stderr) == (LINES, LINES, 0)
    assert "Total processed instances: 2000" in stderr


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_raw_lines_keep_their_own_tags(server, tmp_path, transport):
    count = LINES // 2
    lines = [
        {"data": {"names": ["k", "m", "v"], "ndarray": [[i, 0, i + 0.5]]}, "meta": {"tags": {"line": i}}}
        for i in range(count)
    ]
    gateway = "seldon" if transport == "rest" else "istio"
    outputs, _ = run(tmp_path, lines, *endpoint(server, transport, gateway), "-a", "raw", "-w", "3")
    for index, output in by_index(outputs, count).items():
        assert output["data"]["ndarray"] == [[2 * index, 0, 2 * index + 1]]
        assert tags(output)["line"] == index
        assert tags(output)["batch_index"] == index


def test_mini_batches_are_split_back_into_lines(server, tmp_path):
    lines = [[[i, 0, i / 2]] for i in range(LINES)]
    outputs, stderr = run(tmp_path, lines, *endpoint(server, "rest"), "-s", "7", "-w", "3")
    for index, output in by_index(outputs, LINES).items():
        assert output["data"]["ndarray"] == [[2 * index, 0, index]]
        assert re.fullmatch(r"[0-9a-f-]{36}-item-[0-6]", tags(output)["batch_instance_id"])
    assert summary(stderr) == (LINES, LINES, 0)


def attempts(state_dir, key: int) -> int:
    path = state_dir / f"{key}.attempts"
    return path.stat().st_size if path.exists() else 0


@pytest.mark.parametrize("transport, base", [("rest", 100_000), ("grpc", 200_000)])
def test_retries_recover_planned_failures(server, state_dir, tmp_path, transport, base):
    count = 600
    lines = [[[base + i, 1 if i % 7 == 3 else 0, i]] for i in range(count)]
    outputs, stderr = run(tmp_path, lines, *endpoint(server, transport), "-w", "4", "-r", "3")
    for index, output in by_index(outputs, count).items():
        assert "status" not in output, output
        np.testing.assert_allclose(answer(output), np.array(lines[index]) * 2)
    flaky = [base + i for i in range(count) if i % 7 == 3]
    assert {attempts(state_dir, key) for key in flaky} == {2}
    assert summary(stderr) == (count, count, 0)
    assert "failed, attempt 1 / 3" in stderr


def test_exhausted_retries_write_failure_lines(server, state_dir, tmp_path):
    base, count = 300_000, 200
    lines = [[[base + i, 2 if i % 10 == 0 else 0, i]] for i in range(count)]
    outputs, stderr = run(tmp_path, lines, *endpoint(server, "rest"), "-w", "2", "-r", "2", "-u", "b-7")
    for index, output in by_index(outputs, count).items():
        if index % 10:
            np.testing.assert_allclose(answer(output), np.array(lines[index]) * 2)
            continue
        # The original's failure line: status, and the batch tags as meta itself.
        assert output == {
            "status": {"info": "FAILURE", "reason": output["status"]["reason"], "status": 1},
            "meta": {
                "batch_id": "b-7",
                "batch_instance_id": output["meta"]["batch_instance_id"],
                "batch_index": index,
            },
        }
        assert output["status"]["reason"].startswith("500:")
        assert f"planned failure for key {base + index}" in output["status"]["reason"]
        assert attempts(state_dir, base + index) == 2
    assert summary(stderr) == (count, count - count // 10, count // 10)


def test_unparseable_lines_become_failures_in_place(server, tmp_path):
    lines = [[[1, 0, 1]], "not json", "", [[4, 0, 4]]]
    outputs, stderr = run(tmp_path, lines, *endpoint(server, "rest"))
    indexed = by_index(outputs, 4)
    assert indexed[1]["status"]["info"] == indexed[2]["status"]["info"] == "FAILURE"
    assert indexed[3]["data"]["ndarray"] == [[8, 0, 8]]
    assert summary(stderr) == (4, 2, 2)


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_feedback_lines(server, tmp_path, transport):
    count = 200
    lines = [
        {
            "request": {"data": {"ndarray": [[i, 0, 0]]}},
            "response": {"data": {"ndarray": [[2 * i, 0, 0]]}},
            "reward": -1 if i == 5 else i,
        }
        for i in range(count)
    ]
    gateway = "seldon" if transport == "rest" else "istio"
    outputs, stderr = run(
        tmp_path,
        lines,
        *endpoint(server, transport, gateway),
        "-m",
        "feedback",
        "-a",
        "raw",
        "-w",
        "2",
        "-u",
        "fb",
    )
    for index, output in by_index(outputs, count).items():
        assert output["meta"]["tags"]["batch_id"] == "fb"
        if index == 5:
            assert output["status"]["info"] == "FAILURE"
            assert set(output["meta"]) == {"tags"}
        else:
            assert output["data"]["ndarray"] == [[10.0 * index]]
    assert summary(stderr) == (count, count - 1, 1)


def test_feedback_needs_raw_lines(server, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("{}\n")
    command = [PROCESSOR, "-d", "m", "-m", "feedback", "-i", str(source), "-o", str(tmp_path / "out.txt")]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "Feedback method is supported only with `raw` data type." in proc.stderr
