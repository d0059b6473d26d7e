"""The pre-Core ``io.seldon.api.rpc.Classifier`` service on the real server (docs/legacy-v0.md),
with examples/iris-v0: answers in the published format, statuses of failures, and the v1 and
health services still served beside it.
"""

from __future__ import annotations

import importlib
import pathlib
import sys

import grpc
import pytest
from google.protobuf import any_pb2, descriptor_pb2, wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seldon_wrapper.proto import seldon_v0_pb2 as pb
from seldon_wrapper.proto import seldon_v0_pb2_grpc as pb_grpc
from tests.conftest import module_server
from tests.e2e.grpc_helpers import CALL_TIMEOUT, call, message, module_channel, rpc
from tests.e2e.metrics_helpers import scrape
from tests.e2e.test_grpc_server import reflect

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "iris-v0"
SPECIES = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
SETOSA = {"f1": 4.8, "f2": 3.0, "f3": 1.4, "f4": 0.1}  # the flower of the pre-Core docs' REST call
SERVICE = "io.seldon.api.rpc.Classifier"

iris = module_server("IrisClassifier", cwd=EXAMPLE_DIR)
iris_channel = module_channel("iris")
identity = module_server("IdentityModel")
identity_channel = module_channel("identity")


@pytest.fixture(scope="module")
def iris_pb2():
    """The example's message module, imported as the server imports it (from its folder)."""
    sys.path.insert(0, str(EXAMPLE_DIR))
    try:
        return importlib.import_module("iris_pb2")
    finally:
        sys.path.remove(str(EXAMPLE_DIR))


def classify(channel, data: any_pb2.Any, puid: str = "") -> pb.ClassificationReply:
    request = pb.ClassificationRequest(meta=pb.ClassificationRequestMeta(puid=puid), data=data)
    return pb_grpc.ClassifierStub(channel).Predict(request, timeout=CALL_TIMEOUT)


def classify_error(channel, data: any_pb2.Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        classify(channel, data)
    return info.value


def packed(message_) -> any_pb2.Any:
    data = any_pb2.Any()
    data.Pack(message_)
    return data


def test_predict_answers_one_result_per_species(iris_channel, iris_pb2):
    reply = classify(iris_channel, packed(iris_pb2.IrisPredictRequest(**SETOSA)), puid="puid-42")
    assert (reply.meta.puid, reply.meta.modelName) == ("puid-42", "IrisClassifier")
    assert [p.predictedClass for p in reply.predictions] == SPECIES
    scores = [p.prediction for p in reply.predictions]
    assert scores == [0.933065, 0.055629, 0.011306]
    assert sum(scores) == pytest.approx(1.0, abs=1e-5)
    assert [p.confidence for p in reply.predictions] == [max(scores)] * 3
    assert not reply.HasField("custom")


def test_a_request_without_puid_gets_a_new_one(iris_channel, iris_pb2):
    virginica = packed(iris_pb2.IrisPredictRequest(f1=6.7, f2=3.0, f3=5.6, f4=2.1))
    first, second = classify(iris_channel, virginica), classify(iris_channel, virginica)
    assert len(first.meta.puid) == 32 and first.meta.puid != second.meta.puid
    assert [p.prediction for p in first.predictions] == [0.007399, 0.167275, 0.825326]


def test_an_any_of_another_type_is_invalid_argument_and_the_server_keeps_serving(iris_channel, iris_pb2):
    error = classify_error(iris_channel, packed(wrappers_pb2.StringValue(value="4.8,3.0,1.4,0.1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (
        "getData failed: request.data holds google.protobuf.StringValue, "
        "expected io.seldon.microservice.iris.IrisPredictRequest"
    )
    empty = classify_error(iris_channel, any_pb2.Any())
    assert empty.code() == grpc.StatusCode.INVALID_ARGUMENT and "holds nothing" in empty.details()
    reply = classify(iris_channel, packed(iris_pb2.IrisPredictRequest(**SETOSA)), puid="after")
    assert reply.meta.puid == "after" and len(reply.predictions) == 3


def test_a_class_without_get_data_is_unimplemented(identity_channel, iris_pb2):
    error = classify_error(identity_channel, packed(iris_pb2.IrisPredictRequest(**SETOSA)))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert error.details() == (
        "IdentityModel has no getData(request) (or data_handler) to unpack ClassificationRequest.data"
    )


def test_v1_predict_still_works_beside_it(iris_channel):
    request = message({"data": {"ndarray": [[6.7, 3.0, 5.6, 2.1]]}})
    answer = call(rpc(iris_channel, "Model", "Predict"), request)
    assert answer["data"] == {"names": SPECIES, "ndarray": [[0.007399, 0.167275, 0.825326]]}


@pytest.mark.parametrize("service", ["", SERVICE, "seldon.protos.Model", "inference.GRPCInferenceService"])
def test_health_serves_the_classifier_and_the_others(iris_channel, service):
    check = health_pb2_grpc.HealthStub(iris_channel).Check
    answer = check(health_pb2.HealthCheckRequest(service=service), timeout=CALL_TIMEOUT)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_classifier_calls_are_counted_by_status(iris, iris_channel, iris_pb2):
    classify(iris_channel, packed(iris_pb2.IrisPredictRequest(**SETOSA)))
    classify_error(iris_channel, any_pb2.Any())
    exposition = scrape(iris)
    endpoint = f"{SERVICE}/Predict"
    for code in ("OK", "INVALID_ARGUMENT"):
        count = exposition.total(
            "seldon_api_model_requests_total", protocol="grpc", endpoint=endpoint, code=code
        )
        assert count >= 1, code


def test_reflection_lists_and_describes_the_classifier(iris_channel):
    listed = reflect(iris_channel, list_services="").list_services_response.service
    assert SERVICE in {service.name for service in listed}
    response = reflect(iris_channel, file_containing_symbol=SERVICE)
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    (v0_file,) = [proto for proto in files if proto.package == "io.seldon.api.rpc"]
    (classifier,) = v0_file.service
    assert [(m.name, m.input_type, m.output_type) for m in classifier.method] == [
        ("Predict", ".io.seldon.api.rpc.ClassificationRequest", ".io.seldon.api.rpc.ClassificationReply")
    ]
    assert "google/protobuf/any.proto" in {proto.name for proto in files}
