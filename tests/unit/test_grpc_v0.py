"""The pre-Core Classifier servicer in process (seldon_wrapper/grpc/v0.py), with the iris example."""

from __future__ import annotations

import importlib
import pathlib
import sys

import grpc
import numpy as np
import pytest
from google.protobuf import any_pb2, wrappers_pb2

from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.grpc import v0
from seldon_wrapper.proto import seldon_v0_pb2 as pb
from seldon_wrapper.settings import Settings
from seldon_wrapper.v0_adapter import V0Adapter

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "iris-v0"


@pytest.fixture(scope="module")
def iris():
    """The example's module (its iris_pb2 imports as the server imports it: from its folder)."""
    sys.path.insert(0, str(EXAMPLE_DIR))
    try:
        yield importlib.import_module("IrisClassifier")
    finally:
        sys.path.remove(str(EXAMPLE_DIR))


class Aborted(Exception):
    pass


class Context:
    """The part of grpc.ServicerContext the servicer uses: abort raises, as grpc's does."""

    def __init__(self):
        self.status = None

    def abort(self, code, details):
        self.status = (code, details)
        raise Aborted(code, details)


def servicer(user, **settings) -> v0.ClassifierServicer:
    return v0.ClassifierServicer(V0Adapter(Dataplane(Component(user), Settings(**settings))))


def iris_request(iris, puid="", **features) -> pb.ClassificationRequest:
    data = any_pb2.Any()
    data.Pack(iris.iris_pb2.IrisPredictRequest(**features))
    return pb.ClassificationRequest(meta=pb.ClassificationRequestMeta(puid=puid), data=data)


def predict_error(servicer, request) -> tuple[grpc.StatusCode, str]:
    context = Context()
    with pytest.raises(Aborted):
        servicer.Predict(request, context)
    return context.status


# -- what getData returns, as classify takes it ----------------------------------------------


class FakeFrame:
    """What the servicer knows of a pandas DataFrame: ``columns`` and ``to_dict``."""

    def __init__(self, rows):
        self.rows = rows
        self.columns = list(rows[0]) if rows else []

    def to_dict(self, orient="dict"):
        assert orient == "records"
        return self.rows


def test_a_dataframe_gives_its_first_row_with_plain_numbers():
    frame = FakeFrame([{"f1": np.float32(4.5), "f2": np.int64(3)}, {"f1": 9.0, "f2": 9.0}])
    features = v0.features_from(frame)
    assert features == {"f1": 4.5, "f2": 3}
    assert [type(value) for value in features.values()] == [float, int]


def test_a_dataframe_without_rows_is_a_client_error():
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.features_from(FakeFrame([]))
    assert info.value.status_code == 400 and "without rows" in info.value.message


def test_a_dict_is_a_feature_mapping_with_text_names():
    assert v0.features_from({"f1": 1.0, 2: np.float64(2.5)}) == {"f1": 1.0, "2": 2.5}


@pytest.mark.parametrize(
    "data", [[1, 2.5], (1, 2.5), np.array([1, 2.5]), [[1, 2.5], [7, 7]], np.array([[1, 2.5]])]
)
def test_a_list_or_array_is_one_row_of_floats(data):
    row = v0.features_from(data)
    assert row.dtype == np.float64 and row.tolist() == [1.0, 2.5]


@pytest.mark.parametrize("data", [["a", 1], [], [[]], np.zeros((1, 2, 2)), [[1, 2], [3]]])
def test_a_list_that_is_not_one_row_of_numbers_is_a_client_error(data):
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.features_from(data)
    assert info.value.status_code == 400


def test_another_type_is_the_handler_s_bug():
    with pytest.raises(SeldonMicroserviceException) as info:
        v0.features_from("f1=1")
    assert info.value.status_code == 500 and "got str" in info.value.message


# -- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, code, details",
    [
        (SeldonMicroserviceException("bad", 400), grpc.StatusCode.INVALID_ARGUMENT, "bad"),
        (SeldonMicroserviceException("gone", 404), grpc.StatusCode.INVALID_ARGUMENT, "gone"),
        (SeldonMicroserviceException("no getData", 501), grpc.StatusCode.UNIMPLEMENTED, "no getData"),
        (SeldonMicroserviceException("ours", 500), grpc.StatusCode.INTERNAL, "ours"),
        (ValueError("boom"), grpc.StatusCode.INTERNAL, "ValueError: boom"),
    ],
)
def test_status_of_a_failure(exc, code, details):
    assert v0.status(exc) == (code, details)


# -- the servicer with the iris example -----------------------------------------------------------


def test_iris_predict_answers_one_result_per_species(iris):
    answer = servicer(iris.IrisClassifier()).Predict(
        iris_request(iris, puid="p-1", f1=4.8, f2=3.0, f3=1.4, f4=0.1), Context()
    )
    assert (answer.meta.puid, answer.meta.modelName) == ("p-1", "IrisClassifier")
    assert [p.predictedClass for p in answer.predictions] == iris.SPECIES
    scores = [p.prediction for p in answer.predictions]
    expected = iris.IrisClassifier().predict(np.array([[4.8, 3.0, 1.4, 0.1]], dtype=np.float32))[0]
    assert scores == pytest.approx(expected.tolist(), abs=1e-12)
    assert sum(scores) == pytest.approx(1.0)
    assert scores[0] > 0.9
    assert {p.confidence for p in answer.predictions} == {max(scores)}
    assert not answer.HasField("custom")


def test_a_missing_puid_is_generated_and_the_unit_id_names_the_model(iris):
    served = servicer(iris.IrisClassifier(), predictive_unit_id="iris")
    first = served.Predict(iris_request(iris, f1=6.7, f2=3.0, f3=5.6, f4=2.1), Context())
    second = served.Predict(iris_request(iris, f1=6.7, f2=3.0, f3=5.6, f4=2.1), Context())
    assert first.meta.modelName == "iris"
    assert len(first.meta.puid) == 32 and first.meta.puid != second.meta.puid
    assert max(first.predictions, key=lambda p: p.prediction).predictedClass == "Iris-virginica"


def test_an_any_of_another_type_is_invalid_argument_with_the_handler_s_message(iris):
    data = any_pb2.Any()
    data.Pack(wrappers_pb2.StringValue(value="4.8,3.0,1.4,0.1"))
    request = pb.ClassificationRequest(data=data)
    code, details = predict_error(servicer(iris.IrisClassifier()), request)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == (
        "getData failed: request.data holds google.protobuf.StringValue, "
        "expected io.seldon.microservice.iris.IrisPredictRequest"
    )
    code, details = predict_error(servicer(iris.IrisClassifier()), pb.ClassificationRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "holds nothing" in details


def test_a_class_without_get_data_is_unimplemented():
    class Plain:
        def predict(self, X, feature_names):
            return X

    code, details = predict_error(servicer(Plain()), pb.ClassificationRequest())
    assert code == grpc.StatusCode.UNIMPLEMENTED and "getData" in details


def test_a_data_handler_attribute_serves_get_data():
    class Handler:
        def getData(self, request):  # noqa: N802
            return FakeFrame([{"b": 1.0, "a": 3.0}])

    class Model:
        data_handler = Handler()

        def predict(self, X, feature_names):
            assert feature_names == ["b", "a"]
            return [[0.25, 0.75]]

    answer = servicer(Model()).Predict(pb.ClassificationRequest(), Context())
    assert [(p.predictedClass, p.prediction, p.confidence) for p in answer.predictions] == [
        ("0", 0.25, 0.75),
        ("1", 0.75, 0.75),
    ]


def test_a_failing_predict_is_internal():
    class Broken:
        def getData(self, request):  # noqa: N802
            return [1.0, 2.0]

        def predict(self, X, feature_names):
            raise RuntimeError("model file missing")

    code, details = predict_error(servicer(Broken()), pb.ClassificationRequest())
    assert (code, details) == (grpc.StatusCode.INTERNAL, "RuntimeError: model file missing")
