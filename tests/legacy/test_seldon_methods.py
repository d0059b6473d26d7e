"""seldon_core.seldon_methods and the client_* helpers of seldon_core.user_model, called directly."""

from unittest.mock import MagicMock, patch

import numpy as np
import pytest

from seldon_core import seldon_methods
from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metrics import SeldonMetrics
from seldon_core.proto import prediction_pb2
from seldon_core.user_model import (
    SeldonComponent,
    SeldonNotImplementedError,
    SeldonResponse,
    client_aggregate,
    client_class_names,
    client_custom_metrics,
    client_custom_tags,
    client_feature_names,
    client_health_status,
    client_predict,
    client_route,
    client_send_feedback,
    client_transform_input,
    client_transform_output,
)
from seldon_core.utils import json_to_feedback, json_to_seldon_message, json_to_seldon_messages


class UserObject:
    def __init__(self):
        self.routing = "unset"

    def predict(self, X, features_names, meta=None):
        return X * 2

    def tags(self):
        return {"t": "v"}

    def metrics(self):
        return [{"type": "COUNTER", "key": "calls", "value": 1}]

    def route(self, X, features_names):
        return 0

    def aggregate(self, Xs, features_names):
        return [len(Xs)]

    def send_feedback(self, features, feature_names, reward, truth, routing=None):
        self.routing = routing

    def init_metadata(self):
        return {"name": "user-model"}


class UserObjectRaw:
    def predict_raw(self, msg):
        meta = prediction_pb2.Meta(
            metrics=[prediction_pb2.Metric(key="raw", type=prediction_pb2.Metric.GAUGE, value=4)]
        )
        return prediction_pb2.SeldonMessage(strData="raw", meta=meta)


def test_predict_rest_dict_and_proto():
    answer = seldon_methods.predict(UserObject(), {"data": {"ndarray": [[1, 2]]}}, SeldonMetrics())
    assert answer == {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4]]},
        "meta": {"metrics": [{"key": "calls", "type": "COUNTER", "value": 1}], "tags": {"t": "v"}},
    }
    answer = seldon_methods.predict(
        UserObject(), json_to_seldon_message({"data": {"ndarray": [[1, 2]]}}), None
    )
    assert isinstance(answer, prediction_pb2.SeldonMessage)
    assert answer.data.ndarray[0][1] == 4.0


def test_other_methods():
    user_object = UserObject()
    metrics = SeldonMetrics()
    assert seldon_methods.route(user_object, {"data": {"ndarray": [[1]]}}, metrics)["data"]["ndarray"] == [
        [0]
    ]
    answer = seldon_methods.aggregate(user_object, [{"data": {"ndarray": [1]}}, {"strData": "x"}], metrics)
    assert answer["data"] == {"names": [], "ndarray": [2]}
    msgs = json_to_seldon_messages({"seldonMessages": [{"strData": "a"}, {"strData": "b"}, {"strData": "c"}]})
    assert list(seldon_methods.aggregate(user_object, msgs, metrics).data.tensor.values) == [3.0]
    answer = seldon_methods.transform_input(SeldonComponent(), {"data": {"ndarray": [1]}}, metrics)
    assert answer == {"data": {"names": [], "ndarray": [1]}, "meta": {}}
    answer = seldon_methods.transform_output(SeldonComponent(), {"strData": "s"}, metrics)
    assert answer == {"strData": "s", "meta": {}}
    answer = seldon_methods.health_status(user_object, metrics)
    assert answer["strData"] == "healthy" and answer["meta"]["tags"] == {"t": "v"}


def test_send_feedback_uses_predictive_unit_id():
    user_object = UserObject()
    feedback = json_to_feedback(
        {"request": {"data": {"ndarray": [[1]]}}, "response": {"meta": {"routing": {"node": 3}}}}
    )
    answer = seldon_methods.send_feedback(user_object, feedback, "node", SeldonMetrics())
    assert isinstance(answer, prediction_pb2.SeldonMessage)
    assert user_object.routing == 3
    seldon_methods.send_feedback(user_object, feedback, "other", SeldonMetrics())
    assert user_object.routing is None


def test_init_metadata():
    assert seldon_methods.init_metadata(UserObject())["name"] == "user-model"
    assert seldon_methods.init_metadata(object()) == {
        "name": "",
        "versions": [""],
        "platform": "",
        "inputs": [],
        "outputs": [],
        "custom": {},
    }

    class Bad:
        def init_metadata(self):
            return {"name": 5}

    assert seldon_methods.init_metadata(Bad()) is None


def test_raw_metrics_recorded_and_kept():
    metrics = SeldonMetrics()
    answer = seldon_methods.predict(UserObjectRaw(), json_to_seldon_message({"strData": "x"}), metrics)
    assert answer.meta.metrics[0].key == "raw"
    assert "raw{" in metrics.generate_metrics()[0]


@patch("seldon_core.seldon_methods.INCLUDE_METRICS_IN_CLIENT_RESPONSE", False)
def test_raw_metrics_stripped_when_disabled():
    metrics = SeldonMetrics()
    answer = seldon_methods.predict(UserObjectRaw(), json_to_seldon_message({"strData": "x"}), metrics)
    assert len(answer.meta.metrics) == 0
    assert "raw{" in metrics.generate_metrics()[0]


def test_mock_seldon_metrics_receives_update_calls():
    seldon_metrics = MagicMock()
    seldon_methods.predict(UserObject(), {"data": {"ndarray": [1]}}, seldon_metrics)
    seldon_metrics.update.assert_called_once_with(
        [{"type": "COUNTER", "key": "calls", "value": 1}], "predict"
    )
    feedback = json_to_feedback({"request": {"data": {"ndarray": [[1]]}}, "reward": 2})
    seldon_methods.send_feedback(UserObject(), feedback, "0", seldon_metrics)
    seldon_metrics.update_reward.assert_called_once_with(2.0)


def test_client_helpers():
    user_object = UserObject()
    assert client_custom_tags(user_object) == {"t": "v"}
    assert client_custom_tags(SeldonComponent()) == {}
    assert client_class_names(user_object, np.array([[1, 2, 3]])) == ["t:0", "t:1", "t:2"]
    assert client_class_names(user_object, np.array([1, 2, 3])) == []
    assert client_feature_names(user_object, ["a"]) == ["a"]
    response = client_predict(user_object, np.array([1]), [], meta={"puid": "x"})
    assert isinstance(response, SeldonResponse) and response.data.tolist() == [2]
    assert client_predict(object(), np.array([1]), []).data == []
    assert client_transform_input(object(), np.array([5]), []).data.tolist() == [5]
    assert client_transform_output(SeldonComponent(), "s", []).data == "s"
    assert client_route(user_object, np.array([1]), []).data == 0
    assert client_aggregate(user_object, [1, 2, 3], [[], [], []]).data == [3]
    assert client_send_feedback(user_object, np.array([1]), [], 1.0, np.array([]), 7).data is None
    assert user_object.routing == 7
    assert client_health_status(object()) == "healthy"
    assert client_health_status(SeldonComponent()) == "not implemented - assuming healthy"


def test_client_route_and_aggregate_errors():
    # like the original's exceptions, the text is in .message (str(exc) is empty)
    with pytest.raises(SeldonNotImplementedError) as info:
        client_route(object(), np.array([1]), [])
    assert info.value.message == "Route not defined"
    with pytest.raises(SeldonNotImplementedError) as info:
        client_route(SeldonComponent(), np.array([1]), [])
    assert info.value.message == "route is not implemented"
    with pytest.raises(SeldonNotImplementedError) as info:
        client_aggregate(object(), [], [])
    assert info.value.message == "Aggregate not defined"


def test_client_custom_metrics():
    metrics = SeldonMetrics()
    runtime = [{"type": "GAUGE", "key": "g", "value": 1, "tags": {"k": "v"}}]
    shown = client_custom_metrics(UserObject(), metrics, "predict", runtime)
    assert shown == [
        {"type": "COUNTER", "key": "calls", "value": 1},
        {"type": "GAUGE", "key": "g", "value": 1, "tags": {"k": "v", "method": "predict"}},
    ]
    assert client_custom_metrics(object(), metrics, "predict") == []
    with pytest.raises(SeldonMicroserviceException) as info:
        client_custom_metrics(object(), metrics, "predict", [{"key": "x"}])
    assert (info.value.status_code, info.value.reason) == (500, "MICROSERVICE_BAD_METRIC")
    with patch("seldon_core.user_model.INCLUDE_METRICS_IN_CLIENT_RESPONSE", False):
        assert client_custom_metrics(UserObject(), metrics, "predict", runtime) == []
