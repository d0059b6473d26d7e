"""Helpers for the V2 (Open Inference Protocol) e2e tests.

``start_server`` only waits for REST; the gRPC process starts on its own, so every gRPC test
first waits until ``grpc.health.v1.Health/Check("")`` answers SERVING.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import grpc
import numpy as np
import pytest
import requests
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seldon_wrapper.proto import grpc_predict_v2_pb2 as pb
from seldon_wrapper.proto import grpc_predict_v2_pb2_grpc as pb_grpc
from tests.conftest import CLI, MODELS_DIR, Server, free_port

TIMEOUT = 10

# numpy dtype per V2 datatype (what the protocol fixes, independent of the product code).
NUMPY = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}
TYPED_FIELD = {
    "BOOL": "bool_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


# -- REST ------------------------------------------------------------------------------------


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as a strict client would: NaN/Infinity tokens are not JSON."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not valid JSON: bare {token}")

    return json.loads(text, parse_constant=refuse)


def infer_url(server: Server, model: str, version: str | None = None) -> str:
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    return server.url + path


def infer(server: Server, model: str, body: Any, version: str | None = None, **kwargs) -> requests.Response:
    return requests.post(infer_url(server, model, version), json=body, timeout=TIMEOUT, **kwargs)


def infer_ok(server: Server, model: str, body: Any, version: str | None = None) -> dict:
    response = infer(server, model, body, version)
    assert response.status_code == 200, response.text
    return strict_json(response.text)


def tensor(name: str, datatype: str, shape: list, data: Any, parameters: dict | None = None) -> dict:
    item = {"name": name, "datatype": datatype, "shape": shape, "data": data}
    if parameters is not None:
        item["parameters"] = parameters
    return item


def assert_error(response: requests.Response, status: int, contains: str | None = None) -> str:
    """The V2 error form: the given status and a JSON object with exactly the key ``error``."""
    assert response.status_code == status, (response.status_code, response.text)
    body = strict_json(response.text)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"], str) and body["error"], body
    if contains is not None:
        assert contains in body["error"], body
    return body["error"]


def output_array(output: dict) -> np.ndarray:
    """A JSON response output as an array of its shape."""
    return np.array(output["data"], dtype=NUMPY[output["datatype"]]).reshape(output["shape"])


# -- gRPC ------------------------------------------------------------------------------------


def wait_grpc_serving(port: int, timeout: float = 20) -> None:
    """Block until the standard health service on 127.0.0.1:port answers SERVING for ``""``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                last = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if last.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError as exc:
                last = f"{exc.code()}: {exc.details()}"
            time.sleep(0.05)
    raise AssertionError(f"gRPC health never answered SERVING within {timeout}s (last: {last})")


def v2_stub_fixture(server_fixture: str):
    """A module-scoped fixture factory: a V2 gRPC stub to the named (ready) module server."""

    @pytest.fixture(scope="module")
    def _fixture(request):
        server = request.getfixturevalue(server_fixture)
        wait_grpc_serving(server.grpc_port)
        with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            yield pb_grpc.GRPCInferenceServiceStub(channel)

    return _fixture


def typed_request(model: str, arrays: dict[str, tuple[str, np.ndarray]], **fields) -> Any:
    """A ModelInferRequest with every input in its typed ``contents`` field."""
    request = pb.ModelInferRequest(model_name=model, **fields)
    for name, (datatype, array) in arrays.items():
        item = request.inputs.add(name=name, datatype=datatype, shape=list(array.shape))
        getattr(item.contents, TYPED_FIELD[datatype]).extend(array.ravel().tolist())
    return request


def raw_bytes(array: np.ndarray, datatype: str) -> bytes:
    """The protocol's raw layout: little-endian elements; BYTES as <u32 LE length><bytes>."""
    if datatype == "BYTES":
        parts = []
        for item in array.ravel():
            data = item if isinstance(item, bytes) else str(item).encode("utf-8")
            parts.append(len(data).to_bytes(4, "little") + data)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=np.dtype(NUMPY[datatype]).newbyteorder("<")).tobytes()


def raw_request(model: str, arrays: dict[str, tuple[str, np.ndarray]], **fields) -> Any:
    """A ModelInferRequest with every input in ``raw_input_contents``."""
    request = pb.ModelInferRequest(model_name=model, **fields)
    for name, (datatype, array) in arrays.items():
        request.inputs.add(name=name, datatype=datatype, shape=list(array.shape))
        request.raw_input_contents.append(raw_bytes(array, datatype))
    return request


def from_raw(raw: bytes, datatype: str, shape: list[int]) -> np.ndarray:
    if datatype == "BYTES":
        items, offset = [], 0
        while offset < len(raw):
            length = int.from_bytes(raw[offset : offset + 4], "little")
            items.append(raw[offset + 4 : offset + 4 + length])
            offset += 4 + length
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array.reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(NUMPY[datatype]).newbyteorder("<")).reshape(shape)


def typed_output(output: Any) -> np.ndarray:
    """A response output decoded from its typed contents."""
    values = list(getattr(output.contents, TYPED_FIELD[output.datatype]))
    if output.datatype == "BYTES":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(list(output.shape))
    return np.array(values, dtype=NUMPY[output.datatype]).reshape(list(output.shape))


def grpc_error(call: Any, request: Any) -> grpc.RpcError:
    try:
        response = call(request, timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError(f"expected an error, got {response}")


def import_tritonclient_grpc() -> Any:
    """``tritonclient.grpc`` with its generated protos in a private descriptor pool.

    tritonclient's ``grpc_service.proto`` and the wrapper's ``grpc_predict_v2.proto`` both define
    ``inference.*`` messages; in protobuf's default pool the second import fails with "duplicate
    symbol". The wire format is the same, so the client keeps working from its own pool and the
    test process can import both.
    """
    if "tritonclient.grpc" in sys.modules:
        return sys.modules["tritonclient.grpc"]
    private = descriptor_pool.DescriptorPool()
    original = descriptor_pool.Default
    descriptor_pool.Default = lambda: private
    try:
        import tritonclient.grpc as module
    finally:
        descriptor_pool.Default = original
    return module


# -- a server that is not waited for -------------------------------------------------------


def launch(model: str, *args: str, tmp_path, env: dict | None = None) -> Server:
    """Start the CLI on free ports without waiting for anything (for readiness tests)."""
    http_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "GUNICORN_", "GRPC_"))
    }
    full_env.update({"SELDON_ANNOTATIONS_FILE": str(tmp_path / "no-annotations"), "PYTHONUNBUFFERED": "1"})
    full_env.update(env or {})
    log_path = tmp_path / f"server-{http_port}.log"
    command = [
        CLI,
        model,
        "--host",
        "127.0.0.1",
        "--http-port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        str(metrics_port),
        *args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=str(MODELS_DIR),
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process, http_port, grpc_port, metrics_port, log_path)
