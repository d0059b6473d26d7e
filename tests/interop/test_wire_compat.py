"""Wire compatibility with the ORIGINAL seldon-core 1.19.0 (its generated classes, stubs and SeldonClient).

The original runs in its own virtualenv (fixture ``original_python``) and is driven by
``orig_client.py`` in a subprocess; our side runs in-process. Checked here:

* the schemas: the original's FileDescriptorProtos and ours describe the same wire and JSON format;
* bytes: a catalogue of messages covering every field is serialized identically by both sides, and
  each side parses the other's bytes back to the same message;
* gRPC: messages built and serialized by the original's classes, sent through the original's stubs
  to our server (tests/models/InteropModel.py), come back as bytes the original parses into exactly
  what the original wrapper answers: the spec's answer (3.5, 4.6) and, where the original can run
  without TensorFlow, the answer of the original's own servicer run in-process on a twin model;
* the original's ``SeldonClient.microservice`` / ``microservice_feedback`` over REST and gRPC.
"""

from __future__ import annotations

import base64
import json
import math
import os
import pathlib
import subprocess
import time

import grpc
import numpy as np
import pytest
from google.protobuf import descriptor_pb2, empty_pb2, json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.proto.tensorflow.core.framework import (
    resource_handle_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)
from tests.conftest import module_server
from tests.interop.conftest import ORIG_VENV

ORIG_CLIENT = pathlib.Path(__file__).parent / "orig_client.py"
LOCAL = "127.0.0.1"

interop_server = module_server("InteropModel")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def run_original(python: str, ops: list[dict], server=None) -> dict:
    """Run orig_client.py under the original's interpreter; returns its results by op id."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith(("PREDICTIVE_UNIT", "SELDON_", "GRPC_"))
    }
    env.update(
        {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}
    )
    payload = {"host": LOCAL, "ops": ops}
    if server is not None:
        payload.update({"grpc_port": server.grpc_port, "http_port": server.http_port})
    proc = subprocess.run(
        [python, str(ORIG_CLIENT)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=180,
        cwd="/",
        env=env,
    )
    assert proc.returncode == 0, f"orig_client.py failed:\n{proc.stderr}"
    out = json.loads(proc.stdout)
    info = out["info"]
    # It really is the original package, not our seldon_core compatibility shim.
    assert info["seldon_core_version"] == "1.19.0", info
    assert info["seldon_core_file"].startswith(str(ORIG_VENV)), info
    for op_id, result in out["results"].items():
        assert "exception" not in result, f"{op_id}: {result['exception']}\n{result.get('traceback')}"
    return out["results"]


def ours(type_name: str):
    if type_name == "Empty":
        return empty_pb2.Empty
    if type_name == "TensorProto":
        return tensor_pb2.TensorProto
    return getattr(prediction_pb2, type_name)


def canonical(msg) -> bytes:
    return msg.SerializeToString(deterministic=True)


# =============================================================================================
# 1. Schemas
# =============================================================================================

OUR_FILES = {
    "prediction": prediction_pb2,
    "tf_tensor": tensor_pb2,
    "tf_tensor_shape": tensor_shape_pb2,
    "tf_types": types_pb2,
    "tf_resource_handle": resource_handle_pb2,
}


def _enum_fingerprint(enum) -> dict:
    return {value.name: value.number for value in enum.value}


def _message_fingerprint(msg) -> dict:
    fields = {}
    for field in msg.field:
        fields[field.name] = {
            "number": field.number,
            "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
            "label": descriptor_pb2.FieldDescriptorProto.Label.Name(field.label),
            "type_name": field.type_name,
            "oneof": msg.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None,
            "proto3_optional": field.proto3_optional,
            "packed": field.options.packed if field.options.HasField("packed") else None,
        }
    return {
        "fields": fields,
        "map_entry": msg.options.map_entry,
        "nested": {nested.name: _message_fingerprint(nested) for nested in msg.nested_type},
        "enums": {enum.name: _enum_fingerprint(enum) for enum in msg.enum_type},
    }


def fingerprint(file_proto: descriptor_pb2.FileDescriptorProto) -> dict:
    """Everything of a .proto file that decides its binary and JSON encoding (not names of files or
    language options such as java_package)."""
    return {
        "package": file_proto.package,
        "syntax": file_proto.syntax,
        "dependency": sorted(file_proto.dependency),
        "messages": {msg.name: _message_fingerprint(msg) for msg in file_proto.message_type},
        "enums": {enum.name: _enum_fingerprint(enum) for enum in file_proto.enum_type},
        "services": {
            service.name: {
                method.name: [
                    method.input_type,
                    method.output_type,
                    method.client_streaming,
                    method.server_streaming,
                ]
                for method in service.method
            }
            for service in file_proto.service
        },
    }


def differences(theirs, mine, path="") -> list[str]:
    if isinstance(theirs, dict) and isinstance(mine, dict):
        out = []
        for key in sorted(set(theirs) | set(mine), key=str):
            here = f"{path}.{key}" if path else str(key)
            if key not in mine:
                out.append(f"{here}: only in the original: {theirs[key]!r}")
            elif key not in theirs:
                out.append(f"{here}: only in ours: {mine[key]!r}")
            else:
                out.extend(differences(theirs[key], mine[key], here))
        return out
    return [] if theirs == mine else [f"{path}: original {theirs!r} != ours {mine!r}"]


def json_names(file_descriptor) -> dict:
    """``{"<full message name>.<field>": json_name}`` (CopyToProto leaves json_name out)."""
    out = {}

    def walk(message) -> None:
        for field in message.fields:
            out[f"{message.full_name}.{field.name}"] = field.json_name
        for nested in message.nested_types:
            walk(nested)

    for message in file_descriptor.message_types_by_name.values():
        walk(message)
    return out


@pytest.fixture(scope="module")
def original_descriptors(original_python):
    return run_original(original_python, [{"id": "describe", "op": "describe"}])["describe"]


@pytest.mark.parametrize("file_key", sorted(OUR_FILES))
def test_proto_schema_matches_original(original_descriptors, file_key):
    theirs = descriptor_pb2.FileDescriptorProto.FromString(unb64(original_descriptors["files"][file_key]))
    mine = descriptor_pb2.FileDescriptorProto()
    OUR_FILES[file_key].DESCRIPTOR.CopyToProto(mine)
    diff = differences(fingerprint(theirs), fingerprint(mine))
    # The JSON field names (proto3 JSON mapping: binData, requestPath, tensorShape, ...).
    their_json = original_descriptors["json_names"][file_key]
    diff += differences(their_json, json_names(OUR_FILES[file_key].DESCRIPTOR), "json_name")
    assert not diff, f"{theirs.name} vs ours {mine.name}:\n" + "\n".join(diff)


def test_seldon_message_covers_every_field_of_spec_3_1():
    """The catalogue below is only complete if it names every field; this keeps it honest."""
    expected = {
        "SeldonMessage": {"status", "meta", "data", "binData", "strData", "jsonData", "customData"},
        "DefaultData": {"names", "tensor", "ndarray", "tftensor"},
        "Meta": {"puid", "tags", "routing", "requestPath", "metrics"},
        "Metric": {"key", "type", "value", "tags"},
        "Feedback": {"request", "response", "reward", "truth"},
        "Status": {"code", "info", "reason", "status"},
        "SeldonModelMetadata": {"name", "versions", "platform", "inputs", "outputs", "custom"},
        "SeldonMessageMetadata": {"messagetype", "schema", "name", "datatype", "shape"},
    }
    for name, fields in expected.items():
        assert set(ours(name).DESCRIPTOR.fields_by_name) == fields, name
    covered: dict[str, set] = {}

    def walk(descriptor, obj):
        if not isinstance(obj, dict) or descriptor.full_name.startswith("google.protobuf."):
            return
        by_json = {field.json_name: field for field in descriptor.fields}
        for key, value in obj.items():
            field = by_json.get(key) or descriptor.fields_by_name.get(key)
            if field is None:
                continue
            covered.setdefault(descriptor.name, set()).add(field.name)
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                for item in value.values():
                    if value_field.message_type is not None:
                        walk(value_field.message_type, item)
            elif isinstance(value, list):
                for item in value:
                    walk(field.message_type, item)
            else:
                walk(field.message_type, value)

    for _case_id, type_name, obj in CATALOGUE:
        walk(ours(type_name).DESCRIPTOR, obj)
    for name, fields in expected.items():
        assert fields <= covered.get(name, set()), (
            f"catalogue misses {name}: {fields - covered.get(name, set())}"
        )
    tf_fields = {f.name for f in tensor_pb2.TensorProto.DESCRIPTOR.fields}
    assert tf_fields <= covered["TensorProto"], tf_fields - covered["TensorProto"]


# =============================================================================================
# 2. Bytes: a catalogue serialized by both sides
# =============================================================================================

ARRAY_BYTES = np.array([[1.5, -2.25]], dtype="<f8").tobytes()
FULL_META = {
    "puid": "puid-ü-1",
    "tags": {
        "str": "v",
        "num": 1.5,
        "int": 7,
        "neg": -3,
        "bool": True,
        "null": None,
        "list": [1, "a", None, [True]],
        "struct": {"k": {"deep": "x"}, "n": 0},
    },
    "routing": {"router": 1, "neg": -1, "max": 2147483647, "min": -2147483648},
    "requestPath": {"model": "repo/image:0.1", "other": ""},
    "metrics": [
        {"key": "c", "type": "COUNTER", "value": 1},
        {"key": "g", "type": "GAUGE", "value": 0.1, "tags": {"a": "b", "method": "predict"}},
        {"key": "t", "type": "TIMER", "value": 123.456},
        {"key": "neg", "type": "GAUGE", "value": -1e30},
    ],
}
FULL_TENSOR_PROTO = {
    "dtype": "DT_DOUBLE",
    "tensorShape": {"dim": [{"size": "1", "name": "batch"}, {"size": "2"}], "unknownRank": False},
    "versionNumber": 3,
    "tensorContent": b64(ARRAY_BYTES),
    "halfVal": [15360, 0],
    "floatVal": [0.1, -0.0, 3.4e38],
    "doubleVal": [1e-300, 2.5],
    "intVal": [-1, 2147483647, -2147483648],
    "stringVal": [b64(b"a"), b64(b"\x00\xff")],
    "scomplexVal": [1.0, -1.0],
    "int64Val": ["-9223372036854775808", "9223372036854775807"],
    "boolVal": [True, False],
    "dcomplexVal": [0.5, 0.25],
    "resourceHandleVal": [
        {
            "device": "/cpu:0",
            "container": "c",
            "name": "h",
            "hashCode": "18446744073709551615",
            "maybeTypeName": "T",
            "dtypesAndShapes": [{"dtype": "DT_FLOAT", "shape": {"dim": [{"size": "-1"}]}}],
        }
    ],
    "variantVal": [
        {"typeName": "v", "metadata": b64(b"m"), "tensors": [{"dtype": "DT_INT32", "intVal": [1]}]}
    ],
    "uint32Val": [4294967295],
    "uint64Val": ["18446744073709551615"],
    "float8Val": b64(b"\x01\x7f"),
}
METADATA_JSON = {
    "name": "m",
    "versions": ["v1", ""],
    "platform": "p",
    "inputs": [
        {"messagetype": "tensor", "schema": {"names": ["a"], "shape": [2]}},
        {"name": "in", "datatype": "FP32", "shape": ["-1", "9223372036854775807"]},
    ],
    "outputs": [{"messagetype": "jsonData", "schema": {"type": "object", "nested": [None, True]}}],
    "custom": {"k": "v", "empty": ""},
}
CATALOGUE = [
    ("empty", "SeldonMessage", {}),
    (
        "status_meta_tensor",
        "SeldonMessage",
        {
            "status": {"code": -1, "info": "i", "reason": "r", "status": "FAILURE"},
            "meta": FULL_META,
            "data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1.5, -2.25]}},
        },
    ),
    ("status_success", "SeldonMessage", {"status": {"code": 200, "status": "SUCCESS"}, "strData": ""}),
    (
        "ndarray",
        "SeldonMessage",
        {"data": {"names": ["x"], "ndarray": [[1, 2.5, -0.0], ["s", True, None], [{"k": [1]}, [], {}]]}},
    ),
    ("ndarray_empty", "SeldonMessage", {"data": {"ndarray": []}}),
    ("data_names_only", "SeldonMessage", {"data": {"names": ["only"]}}),
    (
        "tensor_special_floats",
        "SeldonMessage",
        {"data": {"tensor": {"shape": [3], "values": ["NaN", "Infinity", "-Infinity"]}}},
    ),
    (
        "tensor_big",
        "SeldonMessage",
        {"data": {"tensor": {"shape": [2, 3], "values": [1e300, -1e-300, 0, 1, 2, 3]}}},
    ),
    ("tftensor_full", "SeldonMessage", {"data": {"names": ["a", "b"], "tftensor": FULL_TENSOR_PROTO}}),
    (
        "tftensor_unknown_rank",
        "SeldonMessage",
        {"data": {"tftensor": {"dtype": "DT_STRING", "tensorShape": {"unknownRank": True}}}},
    ),
    ("bindata", "SeldonMessage", {"binData": b64(bytes(range(256)))}),
    ("strdata_unicode", "SeldonMessage", {"strData": "héllo ✓ \u0000 \U0001f600", "meta": {"puid": "p"}}),
    ("jsondata_object", "SeldonMessage", {"jsonData": {"a": [1, 2], "b": {"c": None, "d": True}, "e": "f"}}),
    ("jsondata_list", "SeldonMessage", {"jsonData": [1, "two", False]}),
    ("jsondata_number", "SeldonMessage", {"jsonData": 5}),
    ("jsondata_null", "SeldonMessage", {"jsonData": None}),
    (
        "customdata_tensor",
        "SeldonMessage",
        {
            "customData": {
                "@type": "type.googleapis.com/seldon.protos.Tensor",
                "shape": [2],
                "values": [0.5, -0.5],
            }
        },
    ),
    (
        "customdata_message",
        "SeldonMessage",
        {"customData": {"@type": "type.googleapis.com/seldon.protos.SeldonMessage", "strData": "inner"}},
    ),
    ("meta_only", "Meta", FULL_META),
    ("metric_defaults", "Metric", {"key": "k"}),
    (
        "status",
        "Status",
        {"code": 500, "info": "boom", "reason": "MICROSERVICE_INTERNAL_ERROR", "status": "FAILURE"},
    ),
    ("tensor_msg", "Tensor", {"shape": [2147483647, -1], "values": [0.1]}),
    ("default_data", "DefaultData", {"names": ["a"], "ndarray": [1]}),
    (
        "feedback",
        "Feedback",
        {
            "request": {"meta": {"puid": "r"}, "data": {"ndarray": [[1, 2]]}},
            "response": {"meta": {"routing": {"0": 1}}, "data": {"tensor": {"shape": [1], "values": [3]}}},
            "reward": 0.1,
            "truth": {"binData": b64(b"t")},
        },
    ),
    ("feedback_negative_reward", "Feedback", {"reward": -3.5}),
    (
        "message_list",
        "SeldonMessageList",
        {
            "seldonMessages": [
                {"data": {"ndarray": [[1]]}},
                {"strData": "s"},
                {},
                {"meta": {"tags": {"a": 1}}},
            ]
        },
    ),
    (
        "request_response",
        "RequestResponse",
        {"request": {"strData": "q"}, "response": {"binData": b64(b"a")}},
    ),
    ("metadata_request", "SeldonModelMetadataRequest", {"name": "m"}),
    (
        "message_metadata",
        "SeldonMessageMetadata",
        METADATA_JSON["inputs"][1] | {"messagetype": "x", "schema": 1},
    ),
    ("model_metadata", "SeldonModelMetadata", METADATA_JSON),
    (
        "graph_metadata",
        "SeldonGraphMetadata",
        {
            "name": "g",
            "models": {"m1": METADATA_JSON, "m2": {"name": "two"}},
            "inputs": METADATA_JSON["inputs"],
            "outputs": METADATA_JSON["outputs"],
        },
    ),
    ("tensor_proto", "TensorProto", FULL_TENSOR_PROTO),
]
RECIPES = ["utils_tensor", "utils_ndarray", "vendored_tftensor", "feedback", "custom_any"]


def our_encoding(type_name: str, obj) -> bytes:
    return canonical(json_format.ParseDict(obj, ours(type_name)()))


@pytest.fixture(scope="module")
def byte_results(original_python):
    ops = []
    for case_id, type_name, obj in CATALOGUE:
        ops.append({"id": f"enc:{case_id}", "op": "encode", "type": type_name, "json": obj})
        ops.append(
            {
                "id": f"dec:{case_id}",
                "op": "decode",
                "type": type_name,
                "b64": b64(our_encoding(type_name, obj)),
            }
        )
    ops += [{"id": f"recipe:{name}", "op": "recipe", "name": name} for name in RECIPES]
    return run_original(original_python, ops)


@pytest.mark.parametrize("case_id,type_name,obj", CATALOGUE, ids=[case[0] for case in CATALOGUE])
def test_same_bytes_both_ways(byte_results, case_id, type_name, obj):
    theirs = byte_results[f"enc:{case_id}"]
    their_bytes = unb64(theirs["b64"])
    my_bytes = our_encoding(type_name, obj)
    # Built from the same JSON, both sides emit the same bytes.
    assert my_bytes == their_bytes
    # Our classes read the original's bytes back to the same message (nothing unknown, nothing lost).
    parsed = ours(type_name).FromString(their_bytes)
    assert canonical(parsed) == their_bytes
    assert json_format.MessageToDict(parsed) == theirs["dict"]
    # The original reads our bytes back to the same message.
    back = byte_results[f"dec:{case_id}"]
    assert unb64(back["b64"]) == my_bytes
    assert back["dict"] == json_format.MessageToDict(ours(type_name).FromString(my_bytes))


def test_message_with_nan_keeps_its_bits(byte_results):
    parsed = prediction_pb2.SeldonMessage.FromString(unb64(byte_results["enc:tensor_special_floats"]["b64"]))
    values = list(parsed.data.tensor.values)
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize("name", RECIPES)
def test_messages_built_in_code_by_the_original_parse_in_ours(byte_results, name):
    theirs = byte_results[f"recipe:{name}"]
    their_bytes = unb64(theirs["b64"])
    parsed = ours(theirs["type"]).FromString(their_bytes)
    assert canonical(parsed) == their_bytes
    assert json_format.MessageToDict(parsed) == theirs["dict"]
    array = [[1.5, -2.25], [3.0, 1e300]]
    if name == "utils_tensor":
        assert list(parsed.data.names) == ["a", "b"]
        assert list(parsed.data.tensor.shape) == [2, 2]
        assert list(parsed.data.tensor.values) == sum(array, [])
    elif name == "utils_ndarray":
        assert json_format.MessageToDict(parsed.data.ndarray) == array
    elif name == "vendored_tftensor":
        tensor = parsed.data.tftensor
        assert tensor.dtype == types_pb2.DT_DOUBLE
        assert [dim.size for dim in tensor.tensor_shape.dim] == [2, 2]
        assert np.frombuffer(tensor.tensor_content, dtype="<f8").reshape(2, 2).tolist() == array
    elif name == "feedback":
        assert parsed.request.strData == "question"
        assert dict(parsed.request.meta.routing) == {"r": -1}
        assert parsed.response.binData == b"\x00\xffanswer"
        assert parsed.reward == pytest.approx(0.1)
        assert list(parsed.truth.data.tensor.values) == sum(array, [])
    elif name == "custom_any":
        inner = prediction_pb2.Tensor()
        assert parsed.customData.Unpack(inner)
        assert list(inner.values) == [0.5, -0.5]
        assert parsed.status.code == 7 and parsed.status.status == prediction_pb2.Status.FAILURE


# =============================================================================================
# 3. gRPC: the original's stubs and messages against our server
# =============================================================================================


def grpc_case(
    case_id,
    service,
    method,
    request,
    expected,
    *,
    request_type="SeldonMessage",
    response_type="SeldonMessage",
    oracle=True,
    error=None,
):
    return pytest.param(
        {
            "service": service,
            "method": method,
            "request_type": request_type,
            "response_type": response_type,
            "request": request,
            "expected": expected,
            "oracle": oracle,
            "error": error,
        },
        id=case_id,
    )


def names(n):
    return [f"t:{i}" for i in range(n)]


def tf_json(array: np.ndarray, dtype: str) -> dict:
    """What TensorFlow's make_tensor_proto writes for a numeric array (numbers in tensor_content)."""
    return {
        "dtype": dtype,
        "tensorShape": {"dim": [{"size": str(size)} for size in array.shape]},
        "tensorContent": b64(array.tobytes()),
    }


EMPTY_META: dict = {}
INTEROP_METADATA = {
    "name": "interop",
    "versions": ["v1", "v2"],
    "platform": "seldon",
    "inputs": [
        {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
        {"messagetype": "jsonData", "schema": {"type": "object"}},
        {"messagetype": "strData"},
    ],
    "outputs": [{"name": "out", "datatype": "FP64", "shape": ["1", "2"]}],
    "custom": {"team": "interop", "purpose": "wire"},
}
AGG_INPUTS = {
    "seldonMessages": [
        {
            "meta": {
                "puid": "first",
                "tags": {"input-1": "yes", "common": 1},
                "requestPath": {"m1": "i1"},
                "metrics": [{"key": "k1", "value": 1}],
            },
            "data": {"names": ["a", "b"], "ndarray": [[1, 2]]},
        },
        {
            "meta": {
                "puid": "second",
                "tags": {"input-2": "yes", "common": 2},
                "requestPath": {"m2": "i2"},
                "metrics": [{"key": "k2", "type": "GAUGE", "value": 2}],
            },
            "data": {"tensor": {"shape": [1, 2], "values": [3, 4]}},
        },
    ]
}
FEEDBACK = {
    "request": {"meta": {"puid": "fb", "tags": {"t": "x"}}, "data": {"ndarray": [[1, 2]]}},
    "response": {"meta": {"routing": {"0": 1}}, "data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}},
    "reward": 1,
    "truth": {"data": {"ndarray": [[1]]}},
}
FEEDBACK_TENSOR = {
    "request": {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
    "response": {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
    "reward": 0.5,
}
META_ECHO = {k: v for k, v in FULL_META.items() if k != "routing"}

GRPC_CASES = [
    # -- Model/Predict on the identity model (spec 3.5, 4.6) --------------------------------
    grpc_case(
        "predict-ndarray-2d",
        "Model",
        "Predict",
        {"data": {"names": ["a", "b"], "ndarray": [[1, 2], [3, 4]]}},
        {"meta": EMPTY_META, "data": {"names": names(2), "ndarray": [[1.0, 2.0], [3.0, 4.0]]}},
    ),
    grpc_case(
        "predict-ndarray-1d",
        "Model",
        "Predict",
        {"data": {"ndarray": [1, 2, 3]}},
        {"meta": {}, "data": {"ndarray": [1.0, 2.0, 3.0]}},
    ),
    grpc_case(
        "predict-ndarray-3d",
        "Model",
        "Predict",
        {"data": {"ndarray": [[[1, 2, 3]]]}},
        {"meta": {}, "data": {"names": names(1), "ndarray": [[[1.0, 2.0, 3.0]]]}},
    ),
    grpc_case(
        "predict-ndarray-mixed",
        "Model",
        "Predict",
        {"data": {"ndarray": [["a", 1]]}},
        {"meta": {}, "data": {"names": names(2), "ndarray": [["a", "1.0"]]}},
    ),
    grpc_case(
        "predict-ndarray-strings",
        "Model",
        "Predict",
        {"data": {"ndarray": [["x", "y"]]}},
        {"meta": {}, "data": {"names": names(2), "ndarray": [["x", "y"]]}},
    ),
    grpc_case(
        "predict-ndarray-bool",
        "Model",
        "Predict",
        {"data": {"ndarray": [[True, False]]}},
        {"meta": {}, "data": {"names": names(2), "ndarray": [[True, False]]}},
    ),
    grpc_case(
        "predict-data-without-payload",
        "Model",
        "Predict",
        {"data": {"names": ["a"]}},
        {"meta": {}, "data": {"ndarray": []}},
    ),
    grpc_case(
        "predict-tensor-2d",
        "Model",
        "Predict",
        {"data": {"names": ["a", "b"], "tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}},
        {"meta": {}, "data": {"names": names(2), "tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}},
    ),
    grpc_case(
        "predict-tensor-1d-extremes",
        "Model",
        "Predict",
        {"data": {"tensor": {"shape": [4], "values": [0.5, -1, 1e300, -1e-300]}}},
        {"meta": {}, "data": {"tensor": {"shape": [4], "values": [0.5, -1, 1e300, -1e-300]}}},
    ),
    grpc_case(
        "predict-tensor-nan-inf",
        "Model",
        "Predict",
        {"data": {"tensor": {"shape": [1, 3], "values": ["NaN", "Infinity", "-Infinity"]}}},
        {
            "meta": {},
            "data": {
                "names": names(3),
                "tensor": {"shape": [1, 3], "values": ["NaN", "Infinity", "-Infinity"]},
            },
        },
    ),
    # tftensor built with the original's vendored TensorFlow classes; the original wrapper itself needs
    # TensorFlow for it, so the expected answer is TensorFlow's make_tensor_proto (spec 3.5) and there
    # is no in-process oracle.
    grpc_case(
        "predict-tftensor-double",
        "Model",
        "Predict",
        {"data": {"tftensor": tf_json(np.array([[1.5, 2.5]]), "DT_DOUBLE")}},
        {"meta": {}, "data": {"names": names(2), "tftensor": tf_json(np.array([[1.5, 2.5]]), "DT_DOUBLE")}},
        oracle=False,
    ),
    grpc_case(
        "predict-tftensor-float-val",
        "Model",
        "Predict",
        {
            "data": {
                "tftensor": {
                    "dtype": "DT_FLOAT",
                    "tensorShape": {"dim": [{"size": "2"}]},
                    "floatVal": [0.5, 1.5],
                }
            }
        },
        {"meta": {}, "data": {"tftensor": tf_json(np.array([0.5, 1.5], dtype="<f4"), "DT_FLOAT")}},
        oracle=False,
    ),
    grpc_case(
        "predict-strdata", "Model", "Predict", {"strData": "héllo ✓"}, {"meta": {}, "strData": "héllo ✓"}
    ),
    grpc_case(
        "predict-bindata",
        "Model",
        "Predict",
        {"binData": b64(b"\x00\x01abc\xff")},
        {"meta": {}, "binData": b64(b"\x00\x01abc\xff")},
    ),
    grpc_case(
        "predict-jsondata-object",
        "Model",
        "Predict",
        {"jsonData": {"x": 1, "y": [True, None, "s"], "z": {"k": 1.5}}},
        {"meta": {}, "jsonData": {"x": 1.0, "y": [True, None, "s"], "z": {"k": 1.5}}},
    ),
    # A list or a string in jsonData reaches predict as a list / str, and is answered as such.
    grpc_case(
        "predict-jsondata-list",
        "Model",
        "Predict",
        {"jsonData": [1, 2]},
        {"meta": {}, "data": {"tensor": {"shape": [2], "values": [1.0, 2.0]}}},
    ),
    grpc_case(
        "predict-jsondata-string", "Model", "Predict", {"jsonData": "abc"}, {"meta": {}, "strData": "abc"}
    ),
    grpc_case(
        "predict-customdata",
        "Model",
        "Predict",
        {
            "customData": {
                "@type": "type.googleapis.com/seldon.protos.Tensor",
                "shape": [2],
                "values": [0.5, -0.5],
            }
        },
        {
            "meta": {},
            "customData": {
                "@type": "type.googleapis.com/seldon.protos.Tensor",
                "shape": [2],
                "values": [0.5, -0.5],
            },
        },
    ),
    grpc_case(
        "predict-meta-every-field",
        "Model",
        "Predict",
        {"meta": FULL_META, "data": {"ndarray": [[1, 2]]}},
        {"meta": META_ECHO, "data": {"names": names(2), "ndarray": [[1.0, 2.0]]}},
    ),
    grpc_case(
        "predict-status-not-echoed",
        "Model",
        "Predict",
        {
            "status": {"code": 200, "info": "x", "reason": "y", "status": "FAILURE"},
            "meta": {"puid": "abc"},
            "data": {"tensor": {"shape": [1, 1], "values": [7]}},
        },
        {"meta": {"puid": "abc"}, "data": {"names": names(1), "tensor": {"shape": [1, 1], "values": [7]}}},
    ),
    grpc_case(
        "predict-runtime-tags-and-metrics",
        "Model",
        "Predict",
        {
            "meta": {"tags": {"runtime_meta": True, "runtime": "request"}},
            "data": {"tensor": {"shape": [1, 2], "values": [1, 2]}},
        },
        {
            "meta": {
                "tags": {"runtime_meta": True, "runtime": "yes"},
                "metrics": [
                    {"key": "reqs", "type": "COUNTER", "value": 1},
                    {"key": "g", "type": "GAUGE", "value": 2.5, "tags": {"l": "v", "method": "predict"}},
                    {"key": "t", "type": "TIMER", "value": 0.1},
                ],
            },
            "data": {"names": names(2), "tensor": {"shape": [1, 2], "values": [1, 2]}},
        },
    ),
    grpc_case(
        "seldon-predict",
        "Seldon",
        "Predict",
        {"data": {"ndarray": [[1, 2]]}},
        {"meta": {}, "data": {"names": names(2), "ndarray": [[1.0, 2.0]]}},
    ),
    # -- Generic and the single-purpose services ---------------------------------------------
    grpc_case(
        "generic-transform-input-ndarray",
        "Generic",
        "TransformInput",
        {"meta": {"tags": {"a": "b"}}, "data": {"ndarray": [[1, 2]]}},
        {"meta": {"tags": {"a": "b"}}, "data": {"names": names(2), "ndarray": [[2.0, 4.0]]}},
    ),
    grpc_case(
        "generic-transform-input-tensor",
        "Generic",
        "TransformInput",
        {"data": {"tensor": {"shape": [1, 2], "values": [1.5, 2.5]}}},
        {"meta": {}, "data": {"names": names(2), "tensor": {"shape": [1, 2], "values": [3.0, 5.0]}}},
    ),
    grpc_case(
        "generic-transform-input-strdata",
        "Generic",
        "TransformInput",
        {"meta": {"tags": {"a": "b"}}, "strData": "s"},
        {"meta": {"tags": {"a": "b"}}, "strData": "s"},
    ),
    grpc_case(
        "transformer-transform-input",
        "Transformer",
        "TransformInput",
        {"data": {"ndarray": [[1, 2]]}},
        {"meta": {}, "data": {"names": names(2), "ndarray": [[2.0, 4.0]]}},
    ),
    grpc_case(
        "generic-transform-output-ndarray",
        "Generic",
        "TransformOutput",
        {"meta": {"puid": "o"}, "data": {"ndarray": [[1, 2]]}},
        {"meta": {"puid": "o"}, "data": {"names": names(2), "ndarray": [[1.0, 2.0]]}},
    ),
    grpc_case(
        "generic-transform-output-bindata",
        "Generic",
        "TransformOutput",
        {"binData": b64(b"\x01\x02")},
        {"meta": {}, "binData": b64(b"\x01\x02")},
    ),
    grpc_case(
        "outputtransformer-transform-output",
        "OutputTransformer",
        "TransformOutput",
        {"data": {"tensor": {"shape": [2], "values": [1, 2]}}},
        {"meta": {}, "data": {"tensor": {"shape": [2], "values": [1, 2]}}},
    ),
    # Route: [[0]], request tags/metrics not propagated, puid kept (spec 2.6.4).
    grpc_case(
        "generic-route-ndarray",
        "Generic",
        "Route",
        {
            "meta": {"puid": "p", "tags": {"x": 1}, "metrics": [{"key": "m", "value": 1}]},
            "data": {"ndarray": [[1]]},
        },
        {"meta": {"puid": "p"}, "data": {"names": names(1), "ndarray": [[0.0]]}},
    ),
    grpc_case(
        "generic-route-tensor",
        "Generic",
        "Route",
        {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}},
        {"meta": {}, "data": {"names": names(1), "tensor": {"shape": [1, 1], "values": [0.0]}}},
    ),
    grpc_case(
        "generic-route-strdata",
        "Generic",
        "Route",
        {"strData": "s"},
        {"meta": {}, "data": {"names": names(1), "tensor": {"shape": [1, 1], "values": [0.0]}}},
    ),
    grpc_case(
        "router-route",
        "Router",
        "Route",
        {"data": {"ndarray": [[5]]}},
        {"meta": {}, "data": {"names": names(1), "ndarray": [[0.0]]}},
    ),
    # Aggregate: the first input, meta merged over all inputs (spec 3.9).
    grpc_case(
        "generic-aggregate",
        "Generic",
        "Aggregate",
        AGG_INPUTS,
        {
            "meta": {
                "puid": "first",
                "tags": {"input-1": "yes", "input-2": "yes", "common": 2},
                "requestPath": {"m1": "i1", "m2": "i2"},
                "metrics": [{"key": "k1", "value": 1}, {"key": "k2", "type": "GAUGE", "value": 2}],
            },
            "data": {"names": names(2), "ndarray": [[1.0, 2.0]]},
        },
        request_type="SeldonMessageList",
    ),
    grpc_case(
        "combiner-aggregate",
        "Combiner",
        "Aggregate",
        {"seldonMessages": [{"strData": "one"}, {"binData": b64(b"two")}]},
        {"meta": {}, "strData": "one"},
        request_type="SeldonMessageList",
    ),
    grpc_case(
        "generic-aggregate-tensor-first",
        "Generic",
        "Aggregate",
        {
            "seldonMessages": [
                {"data": {"tensor": {"shape": [1, 1], "values": [9]}}},
                {"data": {"ndarray": [[1]]}},
            ]
        },
        {"meta": {}, "data": {"names": names(1), "tensor": {"shape": [1, 1], "values": [9]}}},
        request_type="SeldonMessageList",
    ),
    # SendFeedback: [] encoded against feedback.request (spec 3.8).
    grpc_case(
        "generic-send-feedback",
        "Generic",
        "SendFeedback",
        FEEDBACK,
        {"meta": {"puid": "fb"}, "data": {"ndarray": []}},
        request_type="Feedback",
    ),
    grpc_case(
        "model-send-feedback-tensor",
        "Model",
        "SendFeedback",
        FEEDBACK_TENSOR,
        {"meta": {}, "data": {"tensor": {"shape": [0]}}},
        request_type="Feedback",
    ),
    grpc_case(
        "router-send-feedback-no-request",
        "Router",
        "SendFeedback",
        {"reward": 0.5},
        {"meta": {}, "data": {"tensor": {"shape": [0]}}},
        request_type="Feedback",
    ),
    grpc_case(
        "seldon-send-feedback",
        "Seldon",
        "SendFeedback",
        FEEDBACK,
        {"meta": {"puid": "fb"}, "data": {"ndarray": []}},
        request_type="Feedback",
    ),
    # Metadata (spec 7.3).
    grpc_case(
        "model-metadata",
        "Model",
        "Metadata",
        {},
        INTEROP_METADATA,
        request_type="Empty",
        response_type="SeldonModelMetadata",
    ),
    grpc_case(
        "seldon-model-metadata",
        "Seldon",
        "ModelMetadata",
        {"name": "ignored"},
        INTEROP_METADATA,
        request_type="SeldonModelMetadataRequest",
        response_type="SeldonModelMetadata",
    ),
    # Failures reach the original's stub as gRPC errors (codes as documented in docs/compatibility.md;
    # the original answered UNKNOWN) - and the original failed on them too.
    grpc_case(
        "predict-empty-message",
        "Model",
        "Predict",
        {},
        None,
        error=("INVALID_ARGUMENT", "Unknown data in SeldonMessage"),
    ),
    grpc_case(
        "seldon-graph-metadata",
        "Seldon",
        "GraphMetadata",
        {},
        None,
        request_type="Empty",
        response_type="SeldonGraphMetadata",
        error=("UNIMPLEMENTED", "GraphMetadata not available on the Model level."),
    ),
]


@pytest.fixture(scope="module")
def grpc_ready(interop_server):
    """Our gRPC server reports SERVING on the standard health service."""
    deadline = time.monotonic() + 30
    last = None
    with grpc.insecure_channel(
        f"{LOCAL}:{interop_server.grpc_port}", options=[("grpc.enable_http_proxy", 0)]
    ) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return interop_server
                last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except grpc.RpcError as exc:
                last = exc.code().name
            time.sleep(0.05)
    pytest.fail(f"gRPC server not SERVING after 30s (last: {last}):\n{interop_server.log()}")


@pytest.fixture(scope="module")
def grpc_results(original_python, grpc_ready):
    ops = []
    for param in GRPC_CASES:
        case = dict(param.values[0])
        case.pop("error")
        ops.append({"id": param.id, "op": "grpc", **case})
    return run_original(original_python, ops, grpc_ready)


@pytest.mark.parametrize("case", GRPC_CASES)
def test_grpc_with_original_stubs(grpc_results, request, case):
    result = grpc_results[request.node.callspec.id]
    # The request the original serialized parses in our classes to the same message.
    request_bytes = unb64(result["request_b64"])
    our_request = ours(case["request_type"]).FromString(request_bytes)
    assert canonical(our_request) == unb64(result["request_canonical_b64"])
    if case["error"] is not None:
        code, details = case["error"]
        assert not result["ok"], result
        assert (result["code"], result["details"]) == (code, details)
        assert "oracle_error" in result, "the original answered this request without an error"
        return
    assert result["ok"], f"{result['code']}: {result['details']}"
    assert result["raw_equals_stub_response"]
    # What came back is exactly what the spec says the original wrapper answers ...
    assert result["dict"] == result["expected_dict"]
    assert result["b64"] == result["expected_b64"]
    # ... and what the original's own servicer answers for the twin model.
    if case["oracle"]:
        assert "oracle_error" not in result, result["oracle_error"]
        assert result["dict"] == result["oracle_dict"]
        assert result["b64"] == result["oracle_b64"]
    # Our classes parse the bytes our server sent to the same message the original parsed.
    raw = unb64(result["raw_b64"])
    assert canonical(ours(case["response_type"]).FromString(raw)) == unb64(result["b64"])


# =============================================================================================
# 4. The original's SeldonClient (spec 10.2)
# =============================================================================================

ARRAY = [[1.5, 2.5]]
BIN = b"\x00\x01interop\xff"
STR = "hello interop ✓"
JSON_DATA = {"a": [1, 2], "b": "x", "c": {"d": None}}
JSON_ECHO = {"a": [1.0, 2.0], "b": "x", "c": {"d": None}}
ANY_JSON = {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "custom"}
ROUTE_TENSOR = {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [0.0]}}

CLIENT_PAYLOADS = {
    "ndarray": {"payload_type": "ndarray", "data": {"array": ARRAY}, "names": ["a", "b"]},
    "tensor": {"payload_type": "tensor", "data": {"array": ARRAY}},
    "bin_data": {"bin_data": {"bytes_b64": b64(BIN)}},
    "str_data": {"str_data": STR},
    "json_data": {"json_data": JSON_DATA},
    "custom_data": {"custom_data": {"any_string": "custom"}},  # gRPC only in the original client
}


def expected_client_answer(method: str, payload: str) -> dict:
    if payload in ("ndarray", "tensor"):
        if method == "route":
            values = [[0.0]]
        elif method == "transform-input":
            values = [[v * 2 for v in row] for row in ARRAY]
        else:
            values = ARRAY
        if payload == "ndarray":
            data = {"names": names(len(values[0])), "ndarray": values}
        else:
            data = {
                "names": names(len(values[0])),
                "tensor": {"shape": [len(values), len(values[0])], "values": sum(values, [])},
            }
        return {"meta": {}, "data": data}
    if method == "route":
        return {"meta": {}, "data": ROUTE_TENSOR}
    return {
        "bin_data": {"meta": {}, "binData": b64(BIN)},
        "str_data": {"meta": {}, "strData": STR},
        "json_data": {"meta": {}, "jsonData": JSON_ECHO},
        "custom_data": {"meta": {}, "customData": ANY_JSON},
    }[payload]


def client_case(case_id, transport, kwargs, expected, call="microservice", success=True):
    return pytest.param(
        {"transport": transport, "call": call, "kwargs": kwargs, "expected": expected, "success": success},
        id=case_id,
    )


CLIENT_CASES = []
for _transport in ("rest", "grpc"):
    for _method in ("predict", "transform-input", "transform-output", "route"):
        for _payload, _kwargs in CLIENT_PAYLOADS.items():
            if _payload == "custom_data" and _transport == "rest":
                continue
            CLIENT_CASES.append(
                client_case(
                    f"{_transport}-{_method}-{_payload}",
                    _transport,
                    {"method": _method, **_kwargs},
                    expected_client_answer(_method, _payload),
                )
            )
    # Random data of the client's own making (data=None, shape given) comes back unchanged.
    CLIENT_CASES.append(
        client_case(
            f"{_transport}-predict-random-tensor",
            _transport,
            {"method": "predict", "payload_type": "tensor", "shape": [2, 3]},
            "echo",
        )
    )
    # aggregate: ndarray/tensor arrays, bytes -> binData, str -> strData (and Any -> customData for gRPC).
    _datas = {
        "ndarray": (
            {"payload_type": "ndarray", "datas": [{"array": ARRAY}, {"array": [[10.0, 20.0]]}]},
            {"meta": {}, "data": {"names": names(2), "ndarray": ARRAY}},
        ),
        "tensor": (
            {"payload_type": "tensor", "datas": [{"array": ARRAY}, {"array": [[10.0, 20.0]]}]},
            {"meta": {}, "data": {"names": names(2), "tensor": {"shape": [1, 2], "values": ARRAY[0]}}},
        ),
        "bin_data": (
            {"datas": [{"bytes_b64": b64(BIN)}, {"bytes_b64": b64(b"second")}]},
            {"meta": {}, "binData": b64(BIN)},
        ),
        "str_data": ({"datas": [{"str": STR}, {"str": "second"}]}, {"meta": {}, "strData": STR}),
    }
    if _transport == "grpc":
        _datas["custom_data"] = (
            {"datas": [{"any_string": "custom"}, {"any_string": "second"}]},
            {"meta": {}, "customData": ANY_JSON},
        )
    for _payload, (_kwargs, _expected) in _datas.items():
        CLIENT_CASES.append(
            client_case(
                f"{_transport}-aggregate-{_payload}",
                _transport,
                {"method": "aggregate", **_kwargs},
                _expected,
            )
        )
    # microservice_feedback (the previous request and response, and a reward; no truth).
    CLIENT_CASES.append(
        client_case(
            f"{_transport}-feedback-ndarray",
            _transport,
            {
                "prediction_request": {"message": FEEDBACK["request"]},
                "prediction_response": {"message": FEEDBACK["response"]},
                "reward": 1.0,
            },
            {"meta": {"puid": "fb"}, "data": {"ndarray": []}},
            call="feedback",
        )
    )
    CLIENT_CASES.append(
        client_case(
            f"{_transport}-feedback-tensor",
            _transport,
            {
                "prediction_request": {"message": FEEDBACK_TENSOR["request"]},
                "prediction_response": {"message": FEEDBACK_TENSOR["response"]},
                "reward": 0.0,
            },
            {"meta": {}, "data": {"tensor": {"shape": [0]}}},
            call="feedback",
        )
    )
    # A model answer the wrapper cannot encode (a float from jsonData 5) fails cleanly for the client.
    CLIENT_CASES.append(
        client_case(
            f"{_transport}-predict-unencodable-answer",
            _transport,
            {"method": "predict", "json_data": 5},
            "error",
            success=False,
        )
    )


@pytest.fixture(scope="module")
def client_results(original_python, grpc_ready):
    ops = [
        {
            "id": param.id,
            "op": "client",
            **{k: v for k, v in param.values[0].items() if k in ("transport", "call", "kwargs")},
        }
        for param in CLIENT_CASES
    ]
    return run_original(original_python, ops, grpc_ready)


@pytest.mark.parametrize("case", CLIENT_CASES)
def test_original_seldon_client(client_results, request, case):
    result = client_results[request.node.callspec.id]
    assert result["success"] is case["success"], result
    if case["expected"] == "error":
        assert result["msg"]
        if case["transport"] == "rest":
            # The Seldon error body parses as a SeldonMessage (spec 10.2).
            status = result["response"]["status"]
            assert status["code"] == -1 and status["status"] == "FAILURE", status
            assert status["info"].startswith("Unknown data type returned as payload"), status
        else:
            assert result["response"] is None
        return
    assert result["msg"] == ""
    assert result["response_type"] == "SeldonMessage"
    expected = case["expected"]
    if expected == "echo":
        sent = result["request"]["data"]["tensor"]
        assert sent["shape"] == [2, 3]
        expected = {"meta": {}, "data": {"names": names(3), "tensor": sent}}
    assert result["response"] == expected
