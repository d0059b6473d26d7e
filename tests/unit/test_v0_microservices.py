"""What a pre-Core ``Microservices`` folder may hold (seldon_wrapper/v0_microservices.py)."""

import json
import pathlib
import pickle
import sys

import numpy as np
import pytest

from seldon_wrapper.component import Component
from seldon_wrapper.errors import StartupError
from seldon_wrapper.v0_microservices import Microservices, PickledClassifier, load_model


class ProbaModel:
    """A scikit-learn style classifier (picklable: it lives in an importable module)."""

    classes_ = np.array([1, 2])

    def predict_proba(self, X):
        return np.array([[0.9, 0.1]] * len(X))


class PredictOnly:
    def predict(self, X):
        return np.array([[0.3, 0.7]])


CLASS_FILE = """
class TestModel:
    def predict(self, X, feature_names):
        return [[0.9, 0.1]]

class Helper:
    pass
"""


def test_a_class_file_named_after_the_model(tmp_path):
    (tmp_path / "test_model.py").write_text(CLASS_FILE.replace("TestModel", "test_model"))
    (tmp_path / "other.py").write_text("x = 1\n")
    user = load_model(tmp_path, "test_model")
    assert type(user).__name__ == "test_model"


def test_the_only_class_file_with_the_one_predicting_class(tmp_path):
    (tmp_path / "pipeline.py").write_text(CLASS_FILE)
    user = load_model(tmp_path, "test_model")
    assert type(user).__name__ == "TestModel"
    assert user.predict(None, []) == [[0.9, 0.1]]


def test_a_pickled_scikit_learn_style_model(tmp_path):
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(ProbaModel()))
    user = load_model(tmp_path, "test_model")
    assert isinstance(user, PickledClassifier)
    component = Component(user)
    assert component.class_names(2) == ["1", "2"]
    assert user.predict(np.zeros((1, 4)), []).tolist() == [[0.9, 0.1]]


def test_a_pickled_model_with_predict_only(tmp_path):
    (tmp_path / "model.pickle").write_bytes(pickle.dumps(PredictOnly()))
    user = load_model(tmp_path, "m")
    assert user.predict(np.zeros((1, 2)), []).tolist() == [[0.3, 0.7]]
    assert Component(user).class_names(2) == ["t:0", "t:1"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "must hold one model"),
        ({"a.pkl": pickle.dumps(ProbaModel()), "b.pkl": pickle.dumps(ProbaModel())}, "2 pickle files"),
        ({"m.pkl": pickle.dumps({"not": "a model"})}, "without predict"),
        ({"broken.py": b"raise RuntimeError('boom')\n"}, "boom"),
    ],
)
def test_folders_that_hold_no_single_model(tmp_path, files, message):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with pytest.raises(StartupError, match=message):
        load_model(tmp_path, "m")


def test_a_missing_folder(tmp_path):
    with pytest.raises(StartupError, match="does not exist"):
        load_model(tmp_path / "nope", "m")


# -- the entry points, with the examples' folders --------------------------------------------

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
FLOWER = {"f1": 4.8, "f2": 3.0, "f3": 1.4, "f4": 0.1}


def test_create_prediction_microservice_answers_the_pre_core_predict():
    app = Microservices().create_prediction_microservice(EXAMPLES / "iris-v0", "IrisClassifier")
    client = app.test_client()
    rv = client.get("/predict", query_string={"client": "test1", "json": json.dumps(FLOWER)})
    assert rv.status_code == 200
    predictions = rv.get_json()["predictions"]
    assert [p["classId"] for p in predictions] == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert predictions[0]["score"] == max(p["score"] for p in predictions)
    # the v1 API is served by the same app
    v1 = client.post("/api/v1.0/predictions", json={"data": {"ndarray": [list(FLOWER.values())]}})
    assert v1.get_json()["data"]["names"] == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]


def test_create_recommendation_microservice_answers_recommend():
    app = Microservices().create_recommendation_microservice(EXAMPLES / "recommender")
    rv = app.test_client().get("/recommend", query_string={"user_id": "1", "data_key": "all", "limit": "3"})
    assert rv.status_code == 200
    recommended = rv.get_json()["recommended"]
    assert len(recommended) <= 3 and (not recommended or recommended[0]["score"] == 1)


def test_create_prediction_rpc_microservice_serves_the_classifier(monkeypatch):
    import grpc
    from google.protobuf import any_pb2

    from seldon_wrapper.proto import seldon_v0_pb2, seldon_v0_pb2_grpc

    class Handler:
        def __init__(self):
            self.calls = 0

        def getData(self, request):  # noqa: N802
            self.calls += 1
            iris_pb2 = sys.modules["iris_pb2"]
            flower = iris_pb2.IrisPredictRequest()
            assert request.data.Unpack(flower)
            return {"f1": flower.f1, "f2": flower.f2, "f3": flower.f3, "f4": flower.f4}

    handler = Handler()
    monkeypatch.setenv("SELDON_HOST", "127.0.0.1")
    server = Microservices().create_prediction_rpc_microservice(
        EXAMPLES / "iris-v0", "IrisClassifier", handler, port=0, block=False
    )
    try:
        iris_pb2 = sys.modules["iris_pb2"]
        data = any_pb2.Any()
        data.Pack(iris_pb2.IrisPredictRequest(**FLOWER))
        request = seldon_v0_pb2.ClassificationRequest(data=data)
        request.meta.puid = "p-1"
        with grpc.insecure_channel(f"127.0.0.1:{server.bound_port}") as channel:
            reply = seldon_v0_pb2_grpc.ClassifierStub(channel).Predict(request, timeout=10)
        assert handler.calls == 1
        assert (reply.meta.puid, reply.meta.modelName) == ("p-1", "IrisClassifier")
        assert [p.predictedClass for p in reply.predictions][0] == "Iris-setosa"
    finally:
        server.stop(None)
