"""gRPC error statuses (spec 4.4 with our deviations) and custom tags/metrics (6.1, 6.2, 3.11).

Deviations from the original (which answered UNKNOWN, mostly with blank details):
client mistakes -> INVALID_ARGUMENT naming the problem; user exceptions -> UNKNOWN
"Exception calling application: <message>"; a user SeldonMicroserviceException with a status
below 500 -> INVALID_ARGUMENT with its message; GraphMetadata -> UNIMPLEMENTED; a TypeError
raised inside user code is not retried. After every error the server keeps serving.
"""

import grpc
import pytest
from google.protobuf import empty_pb2

from seldon_wrapper.proto import prediction_pb2
from tests.conftest import module_server
from tests.e2e.grpc_helpers import call, call_error, message, message_list, module_channel, rpc

errors = module_server("E2eErrors")
errors_channel = module_channel("errors")
tags_metrics = module_server("E2eTagsMetrics")
tags_metrics_channel = module_channel("tags_metrics")
bad_static = module_server("E2eBadStaticMetrics")
bad_static_channel = module_channel("bad_static")


def assert_still_serving(channel):
    assert call(rpc(channel, "Model", "Predict"), message({"strData": "ok"}))["strData"] == "ok"


EMPTY_TARGETS = [
    ("Model", "Predict"),
    ("Seldon", "Predict"),
    ("Generic", "TransformInput"),
    ("Transformer", "TransformInput"),
    ("Generic", "TransformOutput"),
    ("OutputTransformer", "TransformOutput"),
    ("Router", "Route"),
    ("Generic", "Route"),
]


@pytest.mark.parametrize("service, method", EMPTY_TARGETS, ids=[f"{s}.{m}" for s, m in EMPTY_TARGETS])
def test_empty_seldon_message_is_invalid_argument(errors_channel, service, method):
    error = call_error(rpc(errors_channel, service, method), prediction_pb2.SeldonMessage())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip(), "details must name the problem"
    assert not error.details().startswith("Exception calling application")
    assert_still_serving(errors_channel)


def test_empty_message_with_only_meta_is_invalid_argument(errors_channel):
    error = call_error(rpc(errors_channel, "Model", "Predict"), message({"meta": {"puid": "p"}}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip()
    assert_still_serving(errors_channel)


@pytest.mark.parametrize(
    "request_json",
    [
        {"data": {"ndarray": [[1], [1, 2]]}},
        {"data": {"tensor": {"shape": [2, 2], "values": [1, 2, 3]}}},
    ],
    ids=["ragged-ndarray", "tensor-shape-mismatch"],
)
def test_bad_data_is_invalid_argument(errors_channel, request_json):
    error = call_error(rpc(errors_channel, "Model", "Predict"), message(request_json))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().strip()
    assert_still_serving(errors_channel)


@pytest.mark.parametrize("service", ["Router", "Generic"])
def test_route_not_defined(errors_channel, service):
    error = call_error(rpc(errors_channel, service, "Route"), message({"data": {"ndarray": [[1]]}}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Route not defined" in error.details()
    assert_still_serving(errors_channel)


@pytest.mark.parametrize("service", ["Combiner", "Generic"])
def test_aggregate_not_defined(errors_channel, service):
    request = message_list({"data": {"ndarray": [[1]]}}, {"data": {"ndarray": [[2]]}})
    error = call_error(rpc(errors_channel, service, "Aggregate"), request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Aggregate not defined" in error.details()
    assert_still_serving(errors_channel)


@pytest.mark.parametrize("service", ["Model", "Seldon"])
def test_user_value_error_is_unknown_with_message(errors_channel, service):
    error = call_error(rpc(errors_channel, service, "Predict"), message({"strData": "value"}))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert error.details() == "Exception calling application: boom"
    assert_still_serving(errors_channel)


def test_user_seldon_exception_below_500_is_invalid_argument(errors_channel):
    # SeldonMicroserviceException("msg", status_code=403, reason="X")
    error = call_error(rpc(errors_channel, "Model", "Predict"), message({"strData": "seldon"}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "msg"
    assert_still_serving(errors_channel)


def test_type_error_in_user_code_is_not_retried(errors_channel):
    count = rpc(errors_channel, "Model", "Predict")
    before = call(count, message({"strData": "calls"}))["jsonData"]["type_error_calls"]
    error = call_error(rpc(errors_channel, "Model", "Predict"), message({"strData": "type"}))
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert error.details() == "Exception calling application: object of type 'NoneType' has no len()"
    after = call(count, message({"strData": "calls"}))["jsonData"]["type_error_calls"]
    assert after == before + 1


def test_user_receives_grpc_meta(errors_channel):
    request = message({"meta": {"puid": "p", "tags": {"n": 1}}, "jsonData": {"k": 1}})
    assert call(rpc(errors_channel, "Model", "Predict"), request) == {
        "meta": {"puid": "p", "tags": {"n": 1.0}},
        "jsonData": {"meta_seen": {"puid": "p", "tags": {"n": 1.0}}},
    }


def test_graph_metadata_is_unimplemented(errors_channel):
    error = call_error(rpc(errors_channel, "Seldon", "GraphMetadata"), empty_pb2.Empty())
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert error.details() == "GraphMetadata not available on the Model level."
    assert_still_serving(errors_channel)


def test_unknown_method_is_unimplemented(errors_channel):
    unknown = errors_channel.unary_unary(
        "/seldon.protos.Model/Explain",
        request_serializer=prediction_pb2.SeldonMessage.SerializeToString,
        response_deserializer=prediction_pb2.SeldonMessage.FromString,
    )
    error = call_error(unknown, message({"strData": "x"}))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert_still_serving(errors_channel)


# -- custom tags and metrics --------------------------------------------------------------------


def test_tags_and_metrics_merge_order(tags_metrics_channel):
    request = message({"meta": {"tags": {"req": "r", "shared": "request"}}, "data": {"ndarray": [[1]]}})
    assert call(rpc(tags_metrics_channel, "Model", "Predict"), request) == {
        "meta": {
            # request -> static tags() -> runtime SeldonResponse tags; later wins
            "tags": {"req": "r", "shared": "runtime", "st": "s", "rt": "1"},
            # static metrics() first, then runtime ones; COUNTER type omitted; tags get the method
            "metrics": [
                {"key": "reqs", "value": 1.0},
                {"key": "lat", "type": "TIMER", "value": 2.5, "tags": {"model": "m", "method": "predict"}},
                {"key": "g", "type": "GAUGE", "value": 3.0, "tags": {"l": "v", "method": "predict"}},
            ],
        },
        "data": {"names": ["t:0"], "ndarray": [[1.0]]},
    }


@pytest.mark.parametrize("bad", ["bad-type", "missing-key", "bad-value", "not-a-list"])
def test_bad_runtime_metrics_are_invalid_argument(tags_metrics_channel, bad):
    error = call_error(rpc(tags_metrics_channel, "Model", "Predict"), message({"strData": bad}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Bad metric" in error.details()
    assert_still_serving(tags_metrics_channel)


@pytest.mark.parametrize("service, method", [("Model", "Predict"), ("Generic", "TransformInput")])
def test_bad_static_metrics_are_invalid_argument(bad_static_channel, service, method):
    error = call_error(rpc(bad_static_channel, service, method), message({"strData": "x"}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Bad metric" in error.details()
    # Metadata does not touch metrics: the server is still answering.
    assert call(rpc(bad_static_channel, "Model", "Metadata"), empty_pb2.Empty()) == {"versions": [""]}
