"""The protocol-neutral core, without any front door: Dataplane, the component contract and the
V2 adapter, driven through a fake codec that records what it was given."""

import numpy as np
import pytest

from seldon_wrapper.codecs import v2
from seldon_wrapper.codecs.message import NDARRAY, Decoded, FeedbackRequest
from seldon_wrapper.component import Component, SeldonComponent, SeldonResponse
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException, SeldonNotImplementedError
from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.settings import Settings
from seldon_wrapper.v2_adapter import V2Adapter


class FakeCodec:
    """Messages are dicts ``{"X": ..., "meta": ...}``; answers show what the dataplane encoded."""

    def __init__(self, transport="rest"):
        self.LEGACY = transport

    def decode_message(self, msg):
        return Decoded(msg["X"], msg.get("names", []), msg.get("meta"), NDARRAY)

    def message_list(self, request):
        return request

    def encode_response(self, result, data_kind, meta, class_names):
        return {"result": result, "meta": meta, "kind": data_kind}

    def raw_metrics(self, response, keep):
        return []

    def decode_feedback(self, request):
        def array(key):
            def build():
                if request.get(key) == "unshapeable":
                    raise SeldonMicroserviceException(f"Invalid {key}")
                return np.array(request.get(key, []))

            return build

        routing = request.get("routing", {})
        return FeedbackRequest(
            array("X"),
            ["a"],
            NDARRAY,
            "p1",
            request.get("reward", 0.0),
            array("truth"),
            routing,
            lambda: {"proto": request},
        )

    def encode_feedback(self, result, data_kind, meta, class_names):
        return {"result": result, "meta": meta, "kind": data_kind}


CODEC = FakeCodec()


def dataplane(user, **settings):
    return Dataplane(Component(user), Settings(**settings))


def failure(call, *args):
    """The Seldon error a call raises (its text is in ``message``; ``str()`` is empty)."""
    with pytest.raises(SeldonMicroserviceException) as info:
        call(*args)
    return info.value


class Empty:
    pass


class Router:
    def __init__(self, branch):
        self.branch = branch

    def route(self, X, names):
        return self.branch


def test_missing_methods_fall_back_per_operation():
    dp = dataplane(Empty())
    assert dp.predict({"X": [1]}, CODEC)["result"] == []
    assert dp.transform_input({"X": [1]}, CODEC)["result"] == [1]
    assert dp.transform_output({"X": [2]}, CODEC)["result"] == [2]
    assert failure(dp.route, {"X": [1]}, CODEC).message == "Route not defined"
    assert failure(dp.aggregate, [{"X": [1]}], CODEC).message == "Aggregate not defined"


def test_seldon_component_defaults_mean_not_implemented():
    class Partial(SeldonComponent):
        def transform_input(self, X, names, meta=None):
            raise SeldonNotImplementedError("later")

    dp = dataplane(Partial())
    assert dp.predict({"X": [1]}, CODEC)["result"] == []
    assert dp.transform_input({"X": [5]}, CODEC)["result"] == [5]


def test_a_type_error_inside_predict_is_raised_once_not_retried():
    calls = []

    class Buggy:
        def predict(self, X, names, meta=None):
            calls.append(1)
            raise TypeError("inside the model")

    with pytest.raises(TypeError):
        dataplane(Buggy()).predict({"X": [1]}, CODEC)
    assert calls == [1]


def test_meta_is_passed_only_to_methods_that_take_it():
    seen = {}

    class WithMeta:
        def predict(self, X, names, meta=None):
            seen["meta"] = meta
            return X

    class WithoutMeta:
        def predict(self, X, names):
            return [len(names)]

    meta = {"puid": "p1", "tags": {"a": 1}}
    dataplane(WithMeta()).predict({"X": [1], "meta": meta}, CODEC)
    assert seen["meta"] == meta
    assert dataplane(WithoutMeta()).predict({"X": [1], "names": ["a", "b"]}, CODEC)["result"] == [2]


def test_tags_merge_request_then_class_then_result():
    class Tagged:
        def tags(self):
            return {"b": "class", "c": "class"}

        def predict(self, X, names, meta=None):
            return SeldonResponse(X, tags={"c": "result"})

    answer = dataplane(Tagged()).predict({"X": [1], "meta": {"tags": {"a": "req", "b": "req"}}}, CODEC)
    assert answer["meta"]["tags"] == {"a": "req", "b": "class", "c": "result"}


def test_router_must_answer_an_int():
    answer = dataplane(Router(2)).route({"X": [1], "meta": {"tags": {"t": 1}}}, CODEC)
    assert answer["result"].tolist() == [[2]]
    assert "tags" not in answer["meta"]  # routers answer with the node's meta only
    error = failure(dataplane(Router(1.5)).route, {"X": [1]}, CODEC)
    assert (error.status_code, error.message) == (400, "Routing response must be int but got 1.5")


def test_aggregate_sees_every_message_and_merges_their_meta():
    class Sum:
        def aggregate(self, features_list, names_list):
            return [sum(f[0] for f in features_list)]

    request = [{"X": [1], "meta": {"tags": {"a": 1}}}, {"X": [2], "meta": {"tags": {"b": 2}}}]
    answer = dataplane(Sum()).aggregate(request, CODEC)
    assert answer["result"] == [3]
    assert answer["meta"]["tags"] == {"a": 1, "b": 2}


def test_raw_method_answers_as_is_and_may_decline():
    class Raw:
        def __init__(self, declines):
            self.declines = declines

        def predict_raw(self, msg):
            if self.declines:
                raise SeldonNotImplementedError("no")
            return {"raw": msg["X"]}

        def predict(self, X, names, meta=None):
            return ["high"]

    assert dataplane(Raw(False)).predict({"X": [7]}, CODEC) == {"raw": [7]}
    assert dataplane(Raw(True)).predict({"X": [7]}, CODEC)["result"] == ["high"]


def test_legacy_predict_method_matches_the_transport():
    class Legacy:
        def predict_rest(self, msg):
            return "rest"

        def predict_grpc(self, msg):
            return "grpc"

    dp = dataplane(Legacy())
    assert dp.predict({"X": [1]}, FakeCodec("rest")) == "rest"
    assert dp.predict({"X": [1]}, FakeCodec("grpc")) == "grpc"


def test_custom_metrics_are_tagged_with_the_method_and_shown_when_asked():
    class Metered:
        def predict(self, X, names, meta=None):
            return SeldonResponse(X, metrics=[{"type": "COUNTER", "key": "c", "value": 1, "tags": {}}])

    shown = dataplane(Metered()).predict({"X": [1]}, CODEC)["meta"]["metrics"]
    assert shown == [{"type": "COUNTER", "key": "c", "value": 1, "tags": {"method": "predict"}}]
    hidden = dataplane(Metered(), include_metrics_in_client_response=False).predict({"X": [1]}, CODEC)
    assert "metrics" not in hidden["meta"]
    with pytest.raises(SeldonMicroserviceException) as info:

        class BadMetric:
            def predict(self, X, names, meta=None):
                return SeldonResponse(X, metrics=[{"type": "NOPE", "key": "c", "value": 1}])

        dataplane(BadMetric()).predict({"X": [1]}, CODEC)
    assert info.value.status_code == 500


def v2_request(*tensors, **parameters):
    return v2.Request(id="r1", parameters=parameters, inputs=list(tensors), outputs=[])


def tensor(name, values):
    array = np.asarray(values)
    return v2.Tensor(name, v2.datatype_of(array), list(array.shape), array)


def test_v2_adapter_calls_the_same_method_with_the_same_fallbacks():
    class Doubler:
        def tags(self):
            return {"k": "class"}

        def predict(self, X, names, meta=None):
            return SeldonResponse(X * 2, tags={"r": meta["puid"]})

    adapter = V2Adapter(dataplane(Doubler()))
    outputs, parameters = adapter.infer(v2_request(tensor("x", [[1, 2]]), user="u"))
    assert outputs[0].array.tolist() == [[2, 4]]
    assert parameters == {"user": "u", "k": "class", "r": "r1"}

    outputs, _ = V2Adapter(dataplane(Empty())).infer(v2_request(tensor("x", [1])))
    assert outputs[0].array.tolist() == []


def test_v2_router_answers_an_int64_branch_and_rejects_others():
    outputs, _ = V2Adapter(dataplane(Router(True))).infer(v2_request(tensor("x", [1])))
    assert outputs[0].array.dtype == np.int64 and outputs[0].array.tolist() == [[1]]
    error = failure(V2Adapter(dataplane(Router("a"))).infer, v2_request(tensor("x", [1])))
    assert (error.status_code, error.message) == (400, "Routing response must be int but got a")


def test_v2_refuses_a_class_with_only_raw_methods():
    class RawOnly:
        def predict_raw(self, msg):
            return msg

    with pytest.raises(SeldonMicroserviceException) as info:
        V2Adapter(dataplane(RawOnly())).infer(v2_request(tensor("x", [1])))
    assert info.value.status_code == 501


class Learner:
    def __init__(self):
        self.seen = None

    def send_feedback(self, features, names, reward, truth, routing=None):
        self.seen = (features.tolist(), names, reward, truth.tolist(), routing)


def test_feedback_reaches_the_model_with_this_units_routing_only():
    learner = Learner()
    request = {"X": [[1.0]], "reward": 0.5, "truth": [2.0], "routing": {"other": 3, "node": 1}}
    answer = dataplane(learner, predictive_unit_id="node").send_feedback(request, CODEC)
    assert learner.seen == ([[1.0]], ["a"], 0.5, [2.0], 1)
    assert answer["result"].tolist() == [] and answer["kind"] == NDARRAY
    assert answer["meta"] == {"puid": "p1", "requestPath": {"node": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"}}
    dataplane(learner).send_feedback(request, CODEC)
    assert learner.seen[4] is None  # the default unit "0" is not in the routing


def test_feedback_hooks_take_the_message_before_any_array_is_built():
    class Raw:
        def send_feedback_raw(self, message):
            return prediction_pb2.SeldonMessage(strData=repr(message))

    class Legacy:
        def send_feedback_grpc(self, message):
            return {"strData": repr(message)}

    request = {"X": "unshapeable", "reward": 1.0}
    answer = dataplane(Raw()).send_feedback(request, CODEC)
    assert (answer["result"].strData, answer["kind"]) == (repr({"proto": request}), None)
    answer = dataplane(Legacy()).send_feedback(request, FakeCodec("grpc"))
    assert answer["result"].strData == repr({"proto": request})
    assert failure(dataplane(Learner()).send_feedback, request, CODEC).message == "Invalid X"
