"""Names the original looked up through its modules when called, patched the way its users' tests
patch them (``mocker.patch``, ``mock.patch``, ``monkeypatch.setattr``), change what the in-process
apps and functions answer."""

import json
from io import StringIO
from unittest import mock

import numpy as np

import seldon_core.metadata
from seldon_core import microservice, seldon_methods, utils
from seldon_core.metadata import validate_model_metadata
from seldon_core.metrics import SeldonMetrics
from seldon_core.proto import prediction_pb2
from seldon_core.wrapper import SeldonModelGRPC, get_rest_microservice

REQUEST = {"meta": {"requestPath": {"earlier": "earlier-image:1"}}, "data": {"ndarray": [[1, 2]]}}


class UserObject:
    def predict(self, X, features_names):
        return X


def test_request_path_follows_patched_model_and_image_names(mocker):
    mocker.patch("seldon_core.utils.get_model_name", return_value="my-model")
    mocker.patch("seldon_core.utils.get_image_name", return_value="repo/my-model:0.3")
    client = get_rest_microservice(UserObject(), SeldonMetrics()).test_client()
    rv = client.get("/predict?json=" + json.dumps(REQUEST))
    assert rv.status_code == 200
    assert rv.get_json()["meta"]["requestPath"] == {
        "my-model": "repo/my-model:0.3",
        "earlier": "earlier-image:1",
    }


def test_request_path_patch_after_the_app_was_built(mocker):
    """The original called get_request_path per request, so a later patch counts too."""
    client = get_rest_microservice(UserObject(), SeldonMetrics()).test_client()
    assert "requestPath" not in client.get('/predict?json={"data":{"ndarray":[1]}}').get_json()["meta"]
    mocker.patch("seldon_core.utils.get_model_name", return_value="late")
    mocker.patch("seldon_core.utils.get_image_name", return_value="late:1")
    meta = client.get('/predict?json={"data":{"ndarray":[1]}}').get_json()["meta"]
    assert meta["requestPath"] == {"late": "late:1"}


def test_request_path_through_grpc_and_seldon_methods(mocker):
    mocker.patch("seldon_core.utils.get_model_name", return_value="grpc-model")
    mocker.patch("seldon_core.utils.get_image_name", return_value="img:2")
    request = prediction_pb2.SeldonMessage()
    request.data.ndarray.extend([1.0])
    response = SeldonModelGRPC(UserObject(), SeldonMetrics()).Predict(request, None)
    assert dict(response.meta.requestPath) == {"grpc-model": "img:2"}
    answer = seldon_methods.predict(UserObject(), {"data": {"ndarray": [1]}}, SeldonMetrics())
    assert answer["meta"]["requestPath"] == {"grpc-model": "img:2"}
    assert utils.get_request_path() == {"grpc-model": "img:2"}


def test_request_path_empty_when_the_model_name_is_not_implemented(mocker):
    mocker.patch("seldon_core.utils.get_model_name", return_value="NOT_IMPLEMENTED")
    get_image_name = mocker.patch("seldon_core.utils.get_image_name", return_value="x:1")
    assert utils.get_request_path() == {}
    get_image_name.assert_not_called()


@mock.patch("seldon_core.metadata.MODEL_IMAGE", "seldonio/sklearn-iris:0.1")
def test_metadata_defaults_from_patched_model_image():
    meta = validate_model_metadata({})
    assert (meta["name"], meta["versions"]) == ("seldonio/sklearn-iris", ["0.1"])
    client = get_rest_microservice(UserObject(), SeldonMetrics()).test_client()
    served = client.get("/metadata").get_json()
    assert (served["name"], served["versions"]) == ("seldonio/sklearn-iris", ["0.1"])


def test_metadata_default_is_read_at_import_not_at_call(monkeypatch):
    monkeypatch.setattr(seldon_core.metadata, "MODEL_IMAGE", None)
    monkeypatch.setenv("PREDICTIVE_UNIT_IMAGE", "set/after-import:9")
    assert validate_model_metadata({})["name"] == ""


def test_init_metadata_uses_patched_validator(mocker):
    validator = mocker.patch(
        "seldon_core.seldon_methods.validate_model_metadata", return_value={"name": "patched"}
    )
    assert seldon_methods.init_metadata(UserObject()) == {"name": "patched"}
    validator.assert_called_once_with({})


def test_init_metadata_reads_model_metadata_through_os(mocker):
    mocker.patch.dict("seldon_core.seldon_methods.os.environ", {"MODEL_METADATA": "{name: from-env}"})
    assert seldon_methods.init_metadata(UserObject())["name"] == "from-env"


def test_load_annotations_through_patched_open_and_os():
    with (
        mock.patch("seldon_core.microservice.os.path.isfile", return_value=True),
        mock.patch("seldon_core.microservice.open", return_value=StringIO('foo="bar"\nseldon.io/x="1"\n')),
    ):
        assert microservice.load_annotations() == {"foo": "bar", "seldon.io/x": "1"}


def test_load_annotations_file_name_is_patchable(monkeypatch, tmp_path):
    path = tmp_path / "annotations"
    path.write_text('seldon.io/grpc-max-message-size="1000"\n')
    monkeypatch.setattr(microservice, "ANNOTATIONS_FILE", str(path))
    assert microservice.load_annotations() == {"seldon.io/grpc-max-message-size": "1000"}


def test_payload_passthrough_patched_before_the_app_is_built(monkeypatch):
    class Raw:
        def predict_raw(self, request):
            return {"echo": request.decode() if isinstance(request, bytes) else request}

    monkeypatch.setattr("seldon_core.wrapper.PAYLOAD_PASSTHROUGH", True)
    client = get_rest_microservice(Raw(), SeldonMetrics()).test_client()
    rv = client.post("/predict", data='{"strData": "x"}', content_type="application/json")
    assert rv.status_code == 200
    assert rv.get_json() == {"echo": '{"strData": "x"}'}


def test_metrics_in_response_switch_patched_on_seldon_methods(monkeypatch):
    class WithMetrics(UserObject):
        def metrics(self):
            return [{"type": "COUNTER", "key": "c", "value": 1}]

    monkeypatch.setattr(seldon_methods, "INCLUDE_METRICS_IN_CLIENT_RESPONSE", False)
    answer = seldon_methods.predict(WithMetrics(), {"data": {"ndarray": [1]}}, SeldonMetrics())
    assert "metrics" not in answer["meta"]
    assert np.array_equal(answer["data"]["ndarray"], [1])
