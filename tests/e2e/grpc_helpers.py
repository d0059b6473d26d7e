"""Helpers for the gRPC e2e tests: wait for SERVING, channels, stubs and message conversion.

The shared ``start_server`` only waits for REST ``/health/ping``; the gRPC processes start on
their own, so every gRPC test first waits until the standard health service answers SERVING.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seldon_wrapper.proto import prediction_pb2, prediction_pb2_grpc
from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2, types_pb2

CALL_TIMEOUT = 10


def grpc_target(server) -> str:
    return f"127.0.0.1:{server.grpc_port}"


def wait_serving(channel: grpc.Channel, timeout: float = 20, service: str = "") -> None:
    """Block until ``grpc.health.v1.Health/Check(service)`` answers SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=service)
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = stub.Check(request, timeout=1)
            if last.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError as exc:
            last = f"{exc.code()}: {exc.details()}"
        time.sleep(0.05)
    raise AssertionError(f"gRPC health never answered SERVING within {timeout}s (last: {last})")


@contextlib.contextmanager
def grpc_channel(server, options: list | None = None, wait: bool = True) -> Iterator[grpc.Channel]:
    """An insecure channel to the server's gRPC port (ready to use when ``wait``), always closed."""
    channel = grpc.insecure_channel(grpc_target(server), options=options or [])
    try:
        if wait:
            wait_serving(channel)
        yield channel
    finally:
        channel.close()


def module_channel(server_fixture: str):
    """A module-scoped fixture factory: a ready channel to the named module-scoped server."""

    @pytest.fixture(scope="module")
    def _fixture(request):
        server = request.getfixturevalue(server_fixture)
        with grpc_channel(server) as channel:
            yield channel

    return _fixture


def stub(channel: grpc.Channel, service: str) -> Any:
    """``stub(channel, "Model")`` -> ``prediction_pb2_grpc.ModelStub(channel)``."""
    return getattr(prediction_pb2_grpc, f"{service}Stub")(channel)


def rpc(channel: grpc.Channel, service: str, method: str) -> Callable:
    return getattr(stub(channel, service), method)


def message(obj: dict) -> Any:
    return json_format.ParseDict(obj, prediction_pb2.SeldonMessage())


def message_list(*objs: dict) -> Any:
    return prediction_pb2.SeldonMessageList(seldonMessages=[message(obj) for obj in objs])


def feedback(obj: dict) -> Any:
    return json_format.ParseDict(obj, prediction_pb2.Feedback())


def to_dict(msg: Any) -> dict:
    return json_format.MessageToDict(msg)


def call(fn: Callable, request: Any) -> dict:
    """Call a unary RPC and answer the response as proto JSON."""
    return to_dict(fn(request, timeout=CALL_TIMEOUT))


def call_error(fn: Callable, request: Any) -> grpc.RpcError:
    """Call a unary RPC that must fail; answer the error."""
    try:
        response = fn(request, timeout=CALL_TIMEOUT)
    except grpc.RpcError as exc:
        return exc
    raise AssertionError(f"expected an error, got {to_dict(response)}")


def tftensor(array: np.ndarray, dtype: int) -> tensor_pb2.TensorProto:
    """A TensorFlow TensorProto using the typed ``*_val`` fields (what TF clients often send)."""
    proto = tensor_pb2.TensorProto(dtype=dtype)
    for size in array.shape:
        proto.tensor_shape.dim.add().size = size
    flat = array.ravel().tolist()
    if dtype == types_pb2.DT_FLOAT:
        proto.float_val.extend(flat)
    elif dtype == types_pb2.DT_DOUBLE:
        proto.double_val.extend(flat)
    elif dtype == types_pb2.DT_INT32:
        proto.int_val.extend(flat)
    elif dtype == types_pb2.DT_INT64:
        proto.int64_val.extend(flat)
    else:
        raise ValueError(f"unsupported dtype {dtype}")
    return proto


_NUMPY = {
    types_pb2.DT_FLOAT: (np.float32, "float_val"),
    types_pb2.DT_DOUBLE: (np.float64, "double_val"),
    types_pb2.DT_INT32: (np.int32, "int_val"),
    types_pb2.DT_INT64: (np.int64, "int64_val"),
}


def tftensor_to_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Decode a numeric TensorProto whichever way the server filled it (tensor_content or *_val)."""
    shape = [dim.size for dim in proto.tensor_shape.dim]
    dtype, field = _NUMPY[proto.dtype]
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape)
    return np.array(getattr(proto, field), dtype=dtype).reshape(shape)


def port_refuses(port: int) -> bool:
    """True when nothing accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False
