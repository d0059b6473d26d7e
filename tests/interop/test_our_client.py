"""OUR ``seldon_core.seldon_client.SeldonClient`` against our server, case for case with the original's.

tests/interop/test_wire_compat.py drives the ORIGINAL 1.19.0 client (in its own virtualenv, through
orig_client.py) against our server with ``CLIENT_CASES``. Here the same cases run through our client
in-process, against the same model (tests/models/InteropModel.py):

* every case gives the right answer (the same assertions as for the original);
* every case gives the same result as the original client: success, message, request and response;
* ``tftensor`` payloads (method x transport, which the original can only build with TensorFlow
  installed) give the right answer and a request encoded as ``tf.make_tensor_proto`` encodes it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import any_pb2, json_format, wrappers_pb2

from seldon_core.seldon_client import (
    SeldonClient,
    SeldonClientCombine,
    SeldonClientFeedback,
    SeldonClientPrediction,
)
from seldon_wrapper.proto import prediction_pb2
from tests.conftest import module_server
from tests.e2e.grpc_helpers import grpc_channel
from tests.interop.test_wire_compat import (
    ARRAY,
    CLIENT_CASES,
    LOCAL,
    client_case,
    names,
    run_original,
    tf_json,
    unb64,
)

interop_server = module_server("InteropModel")

# -- tftensor cases (not in CLIENT_CASES: the original needs TensorFlow to build them) -------------

TF_METHODS = ("predict", "transform-input", "transform-output", "route")


def _tf_answer(method: str) -> dict:
    if method == "route":
        return {"meta": {}, "data": {"names": names(1), "tftensor": tf_json(np.array([[0]]), "DT_INT64")}}
    values = np.array(ARRAY) * (2 if method == "transform-input" else 1)
    return {"meta": {}, "data": {"names": names(2), "tftensor": tf_json(values, "DT_DOUBLE")}}


TFTENSOR_CASES = []
for _transport in ("rest", "grpc"):
    for _method in TF_METHODS:
        TFTENSOR_CASES.append(
            client_case(
                f"{_transport}-{_method}-tftensor",
                _transport,
                {
                    "method": _method,
                    "payload_type": "tftensor",
                    "data": {"array": ARRAY},
                    "names": ["a", "b"],
                },
                _tf_answer(_method),
            )
        )
    TFTENSOR_CASES.append(
        client_case(
            f"{_transport}-aggregate-tftensor",
            _transport,
            {
                "method": "aggregate",
                "payload_type": "tftensor",
                "datas": [{"array": ARRAY}, {"array": [[7.0, 8.0]]}],
            },
            _tf_answer("predict"),
        )
    )

ALL_CASES = CLIENT_CASES + TFTENSOR_CASES


def test_the_matrix_is_complete():
    """method x transport x payload type, the other payloads, aggregate and feedback on both transports."""
    ids = {param.id for param in ALL_CASES}
    for transport in ("rest", "grpc"):
        for method in (*TF_METHODS, "aggregate"):
            for payload in ("ndarray", "tensor", "tftensor", "bin_data", "str_data"):
                assert f"{transport}-{method}-{payload}" in ids
        for method in TF_METHODS:
            assert f"{transport}-{method}-json_data" in ids
        assert f"{transport}-feedback-ndarray" in ids and f"{transport}-feedback-tensor" in ids
    for method in (*TF_METHODS, "aggregate"):
        assert f"grpc-{method}-custom_data" in ids


# -- running a case through our client ----------------------------------------------------------


def _value(spec):
    """The Python value a case argument stands for (same decoding as orig_client.py)."""
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
        return json_format.ParseDict(spec["message"], prediction_pb2.SeldonMessage())
    raise ValueError(f"cannot decode {spec!r}")


def run_ours(server, case: dict) -> dict:
    transport = case["transport"]
    port = server.http_port if transport == "rest" else server.grpc_port
    client = SeldonClient(microservice_endpoint=f"{LOCAL}:{port}", transport=transport)
    kwargs = dict(case["kwargs"])
    for key in ("data", "bin_data", "custom_data", "prediction_request", "prediction_response"):
        if key in kwargs:
            kwargs[key] = _value(kwargs[key])
    if "datas" in kwargs:
        kwargs["datas"] = [_value(item) for item in kwargs["datas"]]
    if case["call"] == "feedback":
        result = client.microservice_feedback(transport=transport, **kwargs)
        assert isinstance(result, SeldonClientFeedback)
        assert isinstance(result.request, prediction_pb2.Feedback)
    else:
        result = client.microservice(transport=transport, **kwargs)
        if kwargs.get("method") == "aggregate":
            assert isinstance(result, SeldonClientCombine)
            assert isinstance(result.request, prediction_pb2.SeldonMessageList)
        else:
            assert isinstance(result, SeldonClientPrediction)
            assert isinstance(result.request, prediction_pb2.SeldonMessage)
    response = result.response
    return {
        "success": result.success,
        "msg": str(result.msg),
        "request": json_format.MessageToDict(result.request) if result.request is not None else None,
        "response": json_format.MessageToDict(response) if response is not None else None,
        "response_type": type(response).__name__ if response is not None else None,
    }


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def ready_server(interop_server):
    """Our server, with its gRPC health service answering SERVING."""
    with grpc_channel(interop_server):
        pass
    return interop_server


@pytest.fixture(scope="module")
def our_results(ready_server):
    mp = pytest.MonkeyPatch()
    mp.setenv("NO_PROXY", "127.0.0.1,localhost")
    try:
        return {param.id: run_ours(ready_server, param.values[0]) for param in ALL_CASES}
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def original_results(original_python, ready_server):
    ops = [
        {"id": param.id, "op": "client", **{k: param.values[0][k] for k in ("transport", "call", "kwargs")}}
        for param in CLIENT_CASES
    ]
    return run_original(original_python, ops, ready_server)


# -- 1. the right answer ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES)
def test_our_seldon_client(our_results, request, case):
    result = our_results[request.node.callspec.id]
    assert result["success"] is case["success"], result
    if case["expected"] == "error":
        assert result["msg"]
        if case["transport"] == "rest":
            status = result["response"]["status"]
            assert status["code"] == -1 and status["status"] == "FAILURE", status
            assert status["info"].startswith("Unknown data type returned as payload"), status
        else:
            assert result["response"] is None
            assert "StatusCode." in result["msg"], result["msg"]
        return
    assert result["msg"] == "", result
    assert result["response_type"] == "SeldonMessage"
    expected = case["expected"]
    if expected == "echo":
        sent = result["request"]["data"]["tensor"]
        assert sent["shape"] == [2, 3] and len(sent["values"]) == 6
        expected = {"meta": {}, "data": {"names": names(3), "tensor": sent}}
    assert result["response"] == expected


@pytest.mark.parametrize("case", TFTENSOR_CASES)
def test_tftensor_request_is_what_make_tensor_proto_builds(our_results, request, case):
    """The original builds tftensor payloads with ``tf.make_tensor_proto``: DT_DOUBLE, numbers in
    tensor_content. Ours must put the same message on the wire without TensorFlow."""
    sent = our_results[request.node.callspec.id]["request"]
    kwargs = case["kwargs"]
    if kwargs["method"] == "aggregate":
        datas = [message["data"] for message in sent["seldonMessages"]]
        arrays = [item["array"] for item in kwargs["datas"]]
    else:
        datas, arrays = [sent["data"]], [kwargs["data"]["array"]]
        assert sent["data"]["names"] == kwargs["names"]
    for data, array in zip(datas, arrays, strict=True):
        assert data["tftensor"] == tf_json(np.array(array, dtype="float64"), "DT_DOUBLE")


# -- 2. the same result as the original client --------------------------------------------------


def _grpc_status(msg: str) -> tuple:
    """(code, details) out of ``str(grpc.RpcError)``."""
    code = re.search(r"status = StatusCode\.(\w+)", msg)
    details = re.search(r'details = "(.*?)"\n', msg, re.S)
    return (code.group(1) if code else None, details.group(1) if details else None)


@pytest.mark.parametrize("case", CLIENT_CASES)
def test_same_result_as_the_original_client(our_results, original_results, request, case):
    ours = our_results[request.node.callspec.id]
    theirs = original_results[request.node.callspec.id]
    assert ours["success"] == theirs["success"], (ours, theirs)
    assert ours["response_type"] == theirs["response_type"]
    if case["expected"] == "echo":
        # Random data of each client's own making: the same message shape, each echoed unchanged.
        for side in (ours, theirs):
            sent = side["request"]["data"]["tensor"]
            assert list(side["request"]) == ["data"] and list(side["request"]["data"]) == ["tensor"]
            assert sent["shape"] == [2, 3] and len(sent["values"]) == 6
            assert all(0 <= value < 1 for value in sent["values"])
            assert side["response"] == {"meta": {}, "data": {"names": names(3), "tensor": sent}}
    else:
        assert ours["request"] == theirs["request"]
        assert ours["response"] == theirs["response"]
    if case["transport"] == "grpc" and not theirs["success"]:
        assert _grpc_status(ours["msg"]) == _grpc_status(theirs["msg"]) != (None, None), (ours, theirs)
    else:
        assert ours["msg"] == theirs["msg"]


# -- 3. the same public API -----------------------------------------------------------------------

SIGNATURES = r"""
import inspect, json, sys
out = {}
for module_name in sys.argv[1:]:
    module = __import__(module_name, fromlist=["_"])
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            members = {"__init__": obj.__init__}
            members.update({m: getattr(obj, m) for m in dir(obj) if not m.startswith("_")})
            targets = {f"{name}.{m}": f for m, f in members.items() if inspect.isfunction(f)}
        elif inspect.isfunction(obj):
            targets = {name: obj}
        else:
            continue
        for key, fn in targets.items():
            params = inspect.signature(fn).parameters.values()
            out[f"{module_name}.{key}"] = [
                [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)] for p in params
            ]
print(json.dumps(out))
"""
MODULES = ["seldon_core.seldon_client", "seldon_core.microservice_tester", "seldon_core.api_tester"]


def _signatures(python: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(
        [python, "-c", SIGNATURES, *MODULES], capture_output=True, text=True, timeout=120, cwd="/", env=env
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_public_functions_and_methods_match_the_original(original_python):
    """Every public function, class and method of the original's three modules exists in ours with the
    same parameters in the same order and the same defaults; ours may add optional parameters at the
    end (before ``**kwargs``). The original's mutable ``meta={}`` defaults are ``None`` in ours."""
    theirs, ours = _signatures(original_python), _signatures(sys.executable)
    problems = []
    for name, params in theirs.items():
        if name not in ours:
            problems.append(f"missing: {name}")
            continue
        mine = ours[name]
        head = [p for p in mine if p[1] != "VAR_KEYWORD"][: len([p for p in params if p[1] != "VAR_KEYWORD"])]
        expected = [
            [p[0], p[1], "None" if p[0] == "meta" and p[2] == "{}" else p[2]]
            for p in params
            if p[1] != "VAR_KEYWORD"
        ]
        if head != expected:
            problems.append(f"{name}: {head} != {expected}")
        extra = [p for p in mine if p not in head and p[1] != "VAR_KEYWORD"]
        if any(p[2] is None for p in extra):
            problems.append(f"{name}: added parameters without defaults {extra}")
        if any(p[1] == "VAR_KEYWORD" for p in params) != any(p[1] == "VAR_KEYWORD" for p in mine):
            problems.append(f"{name}: **kwargs differs")
    assert problems == []
    assert len(theirs) > 30  # the comparison saw the whole API


# -- 4. the tester CLIs print what the original's print ---------------------------------------------

TESTER_CONTRACT = {
    "features": [
        {"name": "x", "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1]},
        {"name": "n", "dtype": "INT", "ftype": "continuous", "range": [1, 100]},
        {"name": "r", "dtype": "FLOAT", "ftype": "continuous", "range": [-5, "inf"], "repeat": 3},
    ],
    "targets": [{"name": "y", "dtype": "FLOAT", "ftype": "continuous", "range": [0, 1]}],
}


def _shape_of_output(text: str) -> str:
    """The output with every number replaced and numpy's column padding removed."""
    text = re.sub(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", "N", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text.replace(" ]", "]")


@pytest.mark.parametrize(
    ("tool", "extra"),
    [
        ("seldon-core-microservice-tester", []),
        ("seldon-core-microservice-tester", ["-t"]),
        ("seldon-core-microservice-tester", ["--grpc"]),
        ("seldon-core-microservice-tester", ["--grpc", "-t", "--endpoint", "transform-input"]),
        ("seldon-core-microservice-tester", ["--endpoint", "send-feedback"]),
        ("seldon-core-microservice-tester", ["--endpoint", "send-feedback", "--grpc"]),
        ("seldon-core-api-tester", ["--grpc"]),
        ("seldon-core-api-tester", ["--grpc", "-t", "--namespace", "ns"]),
        ("seldon-core-api-tester", ["--grpc", "--endpoint", "send-feedback"]),
    ],
    ids=lambda value: value if isinstance(value, str) else "_".join(value) or "default",
)
def test_tester_output_matches_the_original(original_python, ready_server, tmp_path, tool, extra):
    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(TESTER_CONTRACT))
    port = ready_server.grpc_port if "--grpc" in extra else ready_server.http_port
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    outputs = []
    for bin_dir in (os.path.dirname(original_python), os.path.dirname(sys.executable)):
        argv = [
            os.path.join(bin_dir, tool),
            str(contract),
            LOCAL,
            str(port),
            "-p",
            "-n",
            "2",
            "-b",
            "3",
            *extra,
        ]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd="/", env=env)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert proc.stderr == "", proc.stderr
        outputs.append(proc.stdout)
    theirs, ours = outputs
    assert theirs.count("RECEIVED RESPONSE:") == 2
    assert "None" not in theirs and "Success:False" not in theirs
    assert _shape_of_output(ours) == _shape_of_output(theirs)
