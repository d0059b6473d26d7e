"""Real clients against ``seldon-core-executor``: the ORIGINAL seldon-core 1.19.0 ``SeldonClient``
(its own virtualenv, ``gateway="seldon"`` as users call a graph) over REST and gRPC, and
tritonclient over V2 REST and gRPC."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import module_server
from tests.e2e.v2_helpers import import_tritonclient_grpc
from tests.executor.harness import endpoint, sdep, start_executor
from tests.interop.test_wire_compat import run_original

transformer = module_server("E2eTransformer", env={"PREDICTIVE_UNIT_ID": "t"})
identity = module_server("IdentityModel", env={"PREDICTIVE_UNIT_ID": "m"})
# Both V2 nodes answer to one model name: V2 clients always name a model, and the executor
# calls every node by the name in the path, as the original did.
affine = module_server("V2Affine", env={"SELDON_V2_MODEL_NAME": "graph"})
double = module_server("V2Double", env={"SELDON_V2_MODEL_NAME": "graph"})


@pytest.fixture(scope="module")
def chain(module_tmp, transformer, identity):
    graph = {"name": "t", "type": "TRANSFORMER", "endpoint": endpoint(transformer),
             "children": [{"name": "m", "endpoint": endpoint(identity)}]}  # fmt: skip
    server = start_executor(module_tmp, sdep(graph))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def v2_chain(module_tmp, affine, double):
    graph = {"name": "first", "endpoint": endpoint(affine),
             "children": [{"name": "second", "endpoint": endpoint(double)}]}  # fmt: skip
    server = start_executor(module_tmp, sdep(graph, protocol="v2"), "--protocol", "v2")
    yield server
    server.stop()


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_the_original_seldon_client_runs_the_graph(original_python, chain, transport):
    ops = [
        {"id": "predict", "op": "gateway", "transport": transport, "call": "predict",
         "kwargs": {"data": {"array": [[1.0, 2.0]]}, "payload_type": "ndarray"}},
        {"id": "feedback", "op": "gateway", "transport": transport, "call": "feedback",
         "kwargs": {"prediction_request": {"message": {"data": {"ndarray": [[1.0, 2.0]]}}},
                    "prediction_response": {"message": {"data": {"ndarray": [[2.0, 4.0]]}}},
                    "reward": 1.0}},
    ]  # fmt: skip
    results = run_original(original_python, ops, chain)
    predict = results["predict"]
    assert predict["success"] is True, predict["msg"]
    assert predict["response"]["data"]["ndarray"] == [[2.0, 4.0]]  # t doubled, m echoed
    assert set(predict["response"]["meta"]["requestPath"]) == {"t", "m"}
    assert results["feedback"]["success"] is True, results["feedback"]["msg"]


def test_tritonclient_http_runs_a_v2_graph(v2_chain):
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{v2_chain.http_port}")
    assert client.is_server_live() and client.is_server_ready()
    x = httpclient.InferInput("x", [2], "FP64")
    x.set_data_from_numpy(np.array([1.0, 2.0]))
    result = client.infer("graph", [x])
    assert result.as_numpy(result.get_response()["outputs"][0]["name"]).tolist() == [6.0, 10.0]


def test_tritonclient_grpc_runs_a_v2_graph(v2_chain):
    grpcclient = import_tritonclient_grpc()
    client = grpcclient.InferenceServerClient(url=f"127.0.0.1:{v2_chain.grpc_port}")
    x = grpcclient.InferInput("x", [2], "FP64")
    x.set_data_from_numpy(np.array([1.0, 2.0]))
    result = client.infer("graph", [x])
    name = result.get_response().outputs[0].name
    assert result.as_numpy(name).tolist() == [6.0, 10.0]
    assert client.is_server_live()
