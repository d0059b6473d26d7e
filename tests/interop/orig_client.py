"""Drive the ORIGINAL seldon-core 1.19.0 against our server (run by the original's python, not ours).

Usage: ``<venv-orig>/bin/python orig_client.py`` with a JSON document on stdin::

    {"host": "127.0.0.1", "grpc_port": 5000, "http_port": 9000, "ops": [{"id": "...", "op": "...", ...}]}

and a JSON document on stdout: ``{"info": {...}, "results": {<id>: {...}}}``. Binary values travel as
base64. Every message is built, serialized and parsed with the original's generated classes
(``seldon_core.proto.prediction_pb2`` and its vendored ``tensorflow`` protos); calls go through the
original's stubs (``prediction_pb2_grpc``) and the original's ``SeldonClient``.

Ops:

* ``describe``: the original's FileDescriptorProtos (prediction.proto and the vendored TF protos).
* ``encode`` (type, json): ParseDict into the original's class -> deterministic bytes and MessageToDict.
* ``recipe`` (name): a message built in code by the original (its ``utils`` or its TF classes).
* ``decode`` (type, b64): parse bytes -> deterministic re-serialization and MessageToDict.
* ``grpc`` (service, method, request_type, response_type, request | request_b64, expected, oracle):
  call our server through the original's stub, and again on the raw channel to get the exact response
  bytes; compare with ``expected`` and, when ``oracle`` is true, with what the original's own
  gRPC servicer answers in-process for ``OracleModel`` (the twin of tests/models/InteropModel.py).
* ``client`` (transport, call=microservice|feedback, kwargs): the original's ``SeldonClient``.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
import traceback

import grpc
import numpy as np
from google.protobuf import any_pb2, descriptor_pb2, empty_pb2, json_format, wrappers_pb2


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


class Context:
    def __init__(self, request: dict) -> None:
        from seldon_core.proto import prediction_pb2, prediction_pb2_grpc
        from seldon_core.proto.tensorflow.core.framework import (
            resource_handle_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
        )

        self.pb2 = prediction_pb2
        self.pb2_grpc = prediction_pb2_grpc
        self.tf = {
            "tensor": tensor_pb2,
            "tensor_shape": tensor_shape_pb2,
            "types": types_pb2,
            "resource_handle": resource_handle_pb2,
        }
        self.host = request.get("host", "127.0.0.1")
        self.grpc_port = request.get("grpc_port")
        self.http_port = request.get("http_port")
        self._channel = None
        self._oracle = None
        self._oracle_metrics = None

    # -- messages ---------------------------------------------------------------------------
    def message_class(self, name: str):
        if name == "Empty":
            return empty_pb2.Empty
        if name == "TensorProto":
            return self.tf["tensor"].TensorProto
        return getattr(self.pb2, name)

    def from_json(self, name: str, obj) -> object:
        return json_format.ParseDict(obj, self.message_class(name)())

    @staticmethod
    def describe_message(msg) -> dict:
        return {
            "b64": b64(msg.SerializeToString(deterministic=True)),
            "dict": json_format.MessageToDict(msg),
        }

    # -- gRPC -------------------------------------------------------------------------------
    @property
    def channel(self):
        if self._channel is None:
            self._channel = grpc.insecure_channel(f"{self.host}:{self.grpc_port}")
        return self._channel

    def oracle(self):
        """The original's own gRPC servicer (seldon_core.wrapper.SeldonModelGRPC) for OracleModel."""
        if self._oracle is None:
            from seldon_core.metrics import SeldonMetrics
            from seldon_core.wrapper import SeldonModelGRPC

            self._oracle_metrics = SeldonMetrics()
            self._oracle = SeldonModelGRPC(make_oracle_model(), self._oracle_metrics)
        return self._oracle

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._oracle_metrics is not None:
            self._oracle_metrics._manager.shutdown()


def make_oracle_model():
    """The twin of tests/models/InteropModel.py, written against the original's user API."""
    from seldon_core.user_model import SeldonResponse

    metadata = {
        "name": "interop",
        "versions": ["v1", "v2"],
        "platform": "seldon",
        "inputs": [
            {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
            {"messagetype": "jsonData", "schema": {"type": "object"}},
            {"messagetype": "strData"},
        ],
        "outputs": [{"name": "out", "datatype": "FP64", "shape": [1, 2]}],
        "custom": {"team": "interop", "purpose": "wire"},
    }

    class OracleModel:
        def init_metadata(self):
            return metadata

        def predict(self, X, features_names, meta=None):
            tags = (meta or {}).get("tags") or {}
            if tags.get("runtime_meta"):
                metrics = [
                    {"type": "COUNTER", "key": "reqs", "value": 1},
                    {"type": "GAUGE", "key": "g", "value": 2.5, "tags": {"l": "v"}},
                    {"type": "TIMER", "key": "t", "value": 0.1},
                ]
                return SeldonResponse(X, tags={"runtime": "yes"}, metrics=metrics)
            return X

        def transform_input(self, X, features_names, meta=None):
            if isinstance(X, np.ndarray) and np.issubdtype(X.dtype, np.number):
                return X * 2
            return X

        def transform_output(self, X, features_names, meta=None):
            return X

        def route(self, features, feature_names, meta=None):
            return 0

        def aggregate(self, features_list, feature_names_list):
            return features_list[0]

        def send_feedback(self, features, feature_names, reward, truth, routing=None):
            return []

    return OracleModel()


# -- ops ------------------------------------------------------------------------------------


def op_describe(ctx: Context, op: dict) -> dict:
    modules = {"prediction": ctx.pb2, **{f"tf_{name}": module for name, module in ctx.tf.items()}}
    files = {}
    for key, module in modules.items():
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        files[key] = b64(proto.SerializeToString())
    # CopyToProto leaves json_name out, so the JSON names come from the live descriptors.
    return {
        "files": files,
        "json_names": {key: json_names(module.DESCRIPTOR) for key, module in modules.items()},
    }


def json_names(file_descriptor) -> dict:
    """``{"<full message name>.<field>": json_name}`` for every field of one .proto file."""
    out = {}

    def walk(message) -> None:
        for field in message.fields:
            out[f"{message.full_name}.{field.name}"] = field.json_name
        for nested in message.nested_types:
            walk(nested)

    for message in file_descriptor.message_types_by_name.values():
        walk(message)
    return out


def op_encode(ctx: Context, op: dict) -> dict:
    return ctx.describe_message(ctx.from_json(op["type"], op["json"]))


def op_decode(ctx: Context, op: dict) -> dict:
    msg = ctx.message_class(op["type"]).FromString(unb64(op["b64"]))
    return ctx.describe_message(msg)


def op_recipe(ctx: Context, op: dict) -> dict:
    """Messages built in code by the original's own helpers and classes (no JSON involved)."""
    from seldon_core import utils

    pb2 = ctx.pb2
    tensor_pb2 = ctx.tf["tensor"]
    types_pb2 = ctx.tf["types"]
    shape_pb2 = ctx.tf["tensor_shape"]
    name = op["name"]
    array = np.array([[1.5, -2.25], [3.0, 1e300]])
    if name == "utils_tensor":
        msg = pb2.SeldonMessage(data=utils.array_to_grpc_datadef("tensor", array, names=["a", "b"]))
    elif name == "utils_ndarray":
        msg = pb2.SeldonMessage(data=utils.array_to_grpc_datadef("ndarray", array, names=["a", "b"]))
    elif name == "vendored_tftensor":
        tensor = tensor_pb2.TensorProto(
            dtype=types_pb2.DT_DOUBLE,
            tensor_shape=shape_pb2.TensorShapeProto(
                dim=[shape_pb2.TensorShapeProto.Dim(size=2), shape_pb2.TensorShapeProto.Dim(size=2)]
            ),
            tensor_content=array.astype("<f8").tobytes(),
        )
        msg = pb2.SeldonMessage(data=pb2.DefaultData(names=["a", "b"], tftensor=tensor))
    elif name == "feedback":
        request = pb2.SeldonMessage(strData="question", meta=pb2.Meta(puid="p", routing={"r": -1}))
        response = pb2.SeldonMessage(binData=b"\x00\xffanswer")
        truth = pb2.SeldonMessage(data=utils.array_to_grpc_datadef("tensor", array))
        msg = pb2.Feedback(request=request, response=response, reward=0.1, truth=truth)
    elif name == "custom_any":
        packed = any_pb2.Any()
        packed.Pack(pb2.Tensor(shape=[2], values=[0.5, -0.5]))
        msg = pb2.SeldonMessage(customData=packed, status=pb2.Status(code=7, status=pb2.Status.FAILURE))
    else:
        raise ValueError(f"unknown recipe {name}")
    return {"type": type(msg).__name__, **ctx.describe_message(msg)}


def op_grpc(ctx: Context, op: dict) -> dict:
    service, method = op["service"], op["method"]
    request_cls = ctx.message_class(op["request_type"])
    response_cls = ctx.message_class(op["response_type"])
    if "request_b64" in op:
        request = request_cls.FromString(unb64(op["request_b64"]))
    else:
        request = ctx.from_json(op["request_type"], op.get("request", {}))
    request_bytes = request.SerializeToString()
    out: dict = {
        "request_b64": b64(request_bytes),
        "request_canonical_b64": b64(request.SerializeToString(deterministic=True)),
    }
    if op.get("oracle"):
        servicer = ctx.oracle()
        try:
            answer = getattr(servicer, method)(copy.deepcopy(request), None)
        except Exception as exc:  # the original's failure, reported not raised
            out["oracle_error"] = f"{type(exc).__name__}: {exc}"
        else:
            out["oracle_dict"] = json_format.MessageToDict(answer)
            out["oracle_b64"] = b64(answer.SerializeToString(deterministic=True))

    stub = getattr(ctx.pb2_grpc, f"{service}Stub")(ctx.channel)
    try:
        response = getattr(stub, method)(request, timeout=30)
    except grpc.RpcError as exc:
        out.update({"ok": False, "code": exc.code().name, "details": exc.details()})
        return out

    # The same call on the bare channel, to see the exact bytes our server put on the wire.
    full_name = ctx.pb2.DESCRIPTOR.services_by_name[service].full_name
    raw_call = ctx.channel.unary_unary(f"/{full_name}/{method}")
    raw = raw_call(request_bytes, timeout=30)
    parsed_raw = response_cls.FromString(raw)
    out.update(
        {
            "ok": True,
            "raw_b64": b64(raw),
            "raw_equals_stub_response": parsed_raw == response,
            **ctx.describe_message(response),
        }
    )
    if op.get("expected") is not None:
        expected = ctx.from_json(op["response_type"], op["expected"])
        out["expected_dict"] = json_format.MessageToDict(expected)
        out["expected_b64"] = b64(expected.SerializeToString(deterministic=True))
    return out


def _client_value(ctx: Context, spec):
    """Decode one client argument from its JSON form."""
    if isinstance(spec, dict):
        if "array" in spec:
            return np.array(spec["array"], dtype=spec.get("dtype", "float64"))
        if "bytes_b64" in spec:
            return unb64(spec["bytes_b64"])
        if "str" in spec:
            return spec["str"]
        if "any_string" in spec:
            packed = any_pb2.Any()
            packed.Pack(wrappers_pb2.StringValue(value=spec["any_string"]))
            return packed
        if "message" in spec:
            return ctx.from_json("SeldonMessage", spec["message"])
    raise ValueError(f"cannot decode client argument {spec!r}")


def op_client(ctx: Context, op: dict) -> dict:
    from seldon_core.seldon_client import SeldonClient

    transport = op["transport"]
    port = ctx.http_port if transport == "rest" else ctx.grpc_port
    client = SeldonClient(microservice_endpoint=f"{ctx.host}:{port}", transport=transport)
    kwargs = dict(op.get("kwargs", {}))
    for key in ("data", "bin_data", "custom_data", "prediction_request", "prediction_response"):
        if key in kwargs:
            kwargs[key] = _client_value(ctx, kwargs[key])
    if "datas" in kwargs:
        kwargs["datas"] = [_client_value(ctx, item) for item in kwargs["datas"]]
    if op["call"] == "feedback":
        result = client.microservice_feedback(transport=transport, **kwargs)
    else:
        result = client.microservice(transport=transport, **kwargs)
    response = result.response
    return {
        "success": result.success,
        "msg": str(result.msg),
        "request": json_format.MessageToDict(result.request) if result.request is not None else None,
        "response": json_format.MessageToDict(response) if response is not None else None,
        "response_type": type(response).__name__ if response is not None else None,
    }


def op_gateway(ctx: Context, op: dict) -> dict:
    """The client as users call a graph: ``gateway="seldon"`` at the executor's address."""
    from seldon_core.seldon_client import SeldonClient

    transport = op["transport"]
    port = ctx.http_port if transport == "rest" else ctx.grpc_port
    client = SeldonClient(gateway="seldon", gateway_endpoint=f"{ctx.host}:{port}", transport=transport)
    kwargs = dict(op.get("kwargs", {}))
    for key in ("data", "prediction_request", "prediction_response"):
        if key in kwargs:
            kwargs[key] = _client_value(ctx, kwargs[key])
    call = client.feedback if op["call"] == "feedback" else client.predict
    result = call(gateway="seldon", transport=transport, **kwargs)
    response = result.response
    return {
        "success": result.success,
        "msg": str(result.msg),
        "response": response
        if isinstance(response, dict) or response is None
        else json_format.MessageToDict(response),
    }


OPS = {
    "describe": op_describe,
    "encode": op_encode,
    "decode": op_decode,
    "recipe": op_recipe,
    "grpc": op_grpc,
    "client": op_client,
    "gateway": op_gateway,
}


def main() -> int:
    request = json.load(sys.stdin)
    import google.protobuf

    import seldon_core
    import seldon_core.version

    ctx = Context(request)
    results = {}
    try:
        for op in request["ops"]:
            try:
                results[op["id"]] = OPS[op["op"]](ctx, op)
            except Exception as exc:
                results[op["id"]] = {
                    "exception": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
    finally:
        ctx.close()
    info = {
        "seldon_core_file": seldon_core.__file__,
        "seldon_core_version": seldon_core.version.__version__,
        "protobuf": google.protobuf.__version__,
        "grpcio": grpc.__version__,
        "python": sys.version,
    }
    json.dump({"info": info, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
