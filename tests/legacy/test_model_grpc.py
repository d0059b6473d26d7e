"""gRPC tests as users of the original wrote them: SeldonModelGRPC(model).Predict(request, None)."""

import grpc
import numpy as np
import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import ListValue

from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metrics import SeldonMetrics
from seldon_core.proto import prediction_pb2, prediction_pb2_grpc
from seldon_core.user_model import SeldonComponent, SeldonNotImplementedError
from seldon_core.utils import array_to_grpc_datadef, seldon_message_to_json
from seldon_core.wrapper import SeldonModelGRPC, get_grpc_server


class UserObject:
    def __init__(self):
        self.seen = None

    def predict(self, X, features_names, meta=None):
        self.seen = (X, list(features_names), meta)
        return X

    def tags(self):
        return {"mytag": 1}

    def metrics(self):
        return [{"type": "COUNTER", "key": "mycounter", "value": 1}]


class UserObjectLowLevelGrpc:
    def predict_grpc(self, request):
        return prediction_pb2.SeldonMessage(strData="from predict_grpc")


class UserRouter:
    def __init__(self):
        self.routing = "unset"

    def route(self, features, feature_names):
        return 2

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        self.routing = routing
        return np.array([[reward]])


class UserCombiner:
    def aggregate(self, features_list, feature_names_list):
        return [features_list[0][0][0] + features_list[1][0][0]]


class UserTransformer(SeldonComponent):
    def transform_input(self, X, feature_names):
        return X + 1

    def transform_output(self, X, feature_names):
        return {"output": X.tolist()}

    def init_metadata(self):
        return {
            "name": "transformer",
            "versions": ["1"],
            "inputs": [{"name": "x", "datatype": "FP64", "shape": [2]}],
        }


def tensor_request(values, shape, puid=""):
    datadef = prediction_pb2.DefaultData(tensor=prediction_pb2.Tensor(shape=shape, values=values))
    return prediction_pb2.SeldonMessage(data=datadef, meta=prediction_pb2.Meta(puid=puid))


def test_predict_tensor():
    user_object = UserObject()
    app = SeldonModelGRPC(user_object)
    resp = app.Predict(tensor_request([1, 2, 3, 4], [2, 2], puid="abc"), None)
    assert isinstance(resp, prediction_pb2.SeldonMessage)
    assert resp.meta.puid == "abc"
    assert resp.meta.tags["mytag"].number_value == 1
    assert resp.meta.metrics[0].key == "mycounter"
    assert resp.meta.metrics[0].type == prediction_pb2.Metric.COUNTER
    assert list(resp.data.names) == ["t:0", "t:1"]
    assert list(resp.data.tensor.shape) == [2, 2]
    assert list(resp.data.tensor.values) == [1.0, 2.0, 3.0, 4.0]
    X, names, meta = user_object.seen
    assert X.dtype == np.float64 and X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert meta == {"puid": "abc"}


def test_predict_ndarray():
    arr = np.array([[1, 2]])
    datadef = prediction_pb2.DefaultData(names=["a", "b"], ndarray=ListValue())
    datadef.ndarray.extend(arr.tolist())
    resp = SeldonModelGRPC(UserObject()).Predict(prediction_pb2.SeldonMessage(data=datadef), None)
    j = json_format.MessageToDict(resp)
    assert j["data"] == {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}
    assert j["meta"]["metrics"] == [{"key": "mycounter", "value": 1.0}]


def test_predict_with_utils_datadef():
    datadef = array_to_grpc_datadef("tensor", np.array([[5.0, 6.0]]))
    resp = SeldonModelGRPC(UserObject()).Predict(prediction_pb2.SeldonMessage(data=datadef), None)
    assert seldon_message_to_json(resp)["data"]["tensor"] == {"shape": [1, 2], "values": [5.0, 6.0]}


def test_predict_legacy_grpc_method():
    resp = SeldonModelGRPC(UserObjectLowLevelGrpc()).Predict(tensor_request([1], [1]), None)
    assert resp.strData == "from predict_grpc"


def test_predict_empty_message_raises():
    with pytest.raises(SeldonMicroserviceException) as info:
        SeldonModelGRPC(UserObject()).Predict(prediction_pb2.SeldonMessage(), None)
    assert info.value.message == "Unknown data in SeldonMessage"


def test_route_and_feedback():
    user_object = UserRouter()
    app = SeldonModelGRPC(user_object)
    resp = app.Route(tensor_request([1], [1, 1]), None)
    assert list(resp.data.tensor.values) == [2.0]
    feedback = prediction_pb2.Feedback(
        request=tensor_request([1, 2], [1, 2]),
        response=prediction_pb2.SeldonMessage(meta=prediction_pb2.Meta(routing={"0": 1})),
        reward=1.0,
    )
    resp = app.SendFeedback(feedback, None)
    assert user_object.routing == 1
    assert list(resp.data.tensor.values) == [1.0]


def test_route_not_defined_raises():
    with pytest.raises(SeldonMicroserviceException) as info:
        SeldonModelGRPC(UserCombiner()).Route(tensor_request([1], [1]), None)
    assert info.value.message == "Route not defined"


def test_seldon_component_route_default_raises_not_implemented():
    with pytest.raises(SeldonNotImplementedError):
        SeldonModelGRPC(UserTransformer()).Route(tensor_request([1], [1]), None)


def test_aggregate():
    msgs = prediction_pb2.SeldonMessageList(
        seldonMessages=[tensor_request([1], [1, 1], puid="p1"), tensor_request([2], [1, 1])]
    )
    resp = SeldonModelGRPC(UserCombiner()).Aggregate(msgs, None)
    assert resp.meta.puid == "p1"
    assert list(resp.data.tensor.values) == [3.0]


def test_transform_input_output_and_metadata():
    app = SeldonModelGRPC(UserTransformer())
    resp = app.TransformInput(tensor_request([1, 2], [2]), None)
    assert list(resp.data.tensor.values) == [2.0, 3.0]
    resp = app.TransformOutput(tensor_request([1, 2], [2]), None)
    assert json_format.MessageToDict(resp.jsonData) == {"output": [1.0, 2.0]}
    meta = app.Metadata(None, None)
    assert isinstance(meta, prediction_pb2.SeldonModelMetadata)
    assert (meta.name, list(meta.versions), meta.inputs[0].datatype) == ("transformer", ["1"], "FP64")
    assert app.ModelMetadata(prediction_pb2.SeldonModelMetadataRequest(name="x"), None) == meta


def test_graph_metadata_not_available():
    with pytest.raises(NotImplementedError, match="GraphMetadata not available on the Model level."):
        SeldonModelGRPC(UserObject()).GraphMetadata(None, None)


class AbortContext:
    """A stand-in for grpc.ServicerContext: abort raises, as grpc does."""

    def __init__(self):
        self.aborted = None

    def abort(self, code, details):
        self.aborted = (code, details)
        raise RuntimeError("aborted")


def test_errors_abort_the_call_when_a_context_is_given():
    context = AbortContext()
    with pytest.raises(RuntimeError, match="aborted"):
        SeldonModelGRPC(UserObject()).Predict(prediction_pb2.SeldonMessage(), context)
    assert context.aborted == (grpc.StatusCode.INVALID_ARGUMENT, "Unknown data in SeldonMessage")


def test_grpc_metrics_recorded():
    seldon_metrics = SeldonMetrics()
    app = SeldonModelGRPC(UserObject(), seldon_metrics)
    app.Predict(tensor_request([1], [1]), None)
    app.Predict(tensor_request([1], [1]), None)
    assert "mycounter_total{" in seldon_metrics.generate_metrics()[0]
    assert [s.value for f in seldon_metrics.collect() if f.name == "mycounter" for s in f.samples] == [2.0]


def test_get_grpc_server_serves_model():
    server = get_grpc_server(
        UserObject(), SeldonMetrics(), annotations={"seldon.io/grpc-max-message-size": "1000"}
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = prediction_pb2_grpc.ModelStub(channel)
            resp = stub.Predict(tensor_request([1, 2], [1, 2]), timeout=10)
            assert list(resp.data.tensor.values) == [1.0, 2.0]
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(prediction_pb2.SeldonMessage(), timeout=10)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as info:
                stub.Predict(tensor_request([0.5] * 200, [200]), timeout=10)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        server.stop(None)
