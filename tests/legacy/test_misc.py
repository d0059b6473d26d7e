"""The smaller modules: microservice, env_utils, imports_helper, metadata, flask_utils, Storage."""

import json
import os

import pytest
from flask import Flask

import seldon_core.metadata
from seldon_core import Storage, env_utils, flask_utils, imports_helper, microservice
from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.metadata import MODEL_METADATA_SCHEMA, SeldonInvalidMetadataError, validate_model_metadata
from seldon_wrapper import cli


def test_main_runs_the_wrapper_cli(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "main", calls.append)
    argv = ["MyModel", "--service-type", "MODEL", "--parameters", '[{"name":"a","value":"1","type":"INT"}]']
    monkeypatch.setattr("sys.argv", ["seldon-core-microservice", *argv])
    microservice.main()
    assert calls == [argv]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"type": "FLOAT", "name": "foo", "value": "abc"}, "Bad model parameter: foo"),
        ({"type": "FOO", "name": "foo", "value": "abc"}, "Bad model parameter type: FOO"),
    ],
)
def test_main_raises_for_bad_parameters_before_starting(monkeypatch, parameter, message):
    started = []
    monkeypatch.setattr(cli, "main", started.append)
    monkeypatch.setattr("sys.argv", ["x", "MyModel", "--parameters", json.dumps([parameter])])
    with pytest.raises(SeldonMicroserviceException) as excinfo:
        microservice.main()
    assert excinfo.value.message.startswith(message)
    assert excinfo.value.reason == "MICROSERVICE_BAD_PARAMETER"
    assert started == []


def test_parse_parameters():
    params = [
        {"name": "a", "value": "1", "type": "INT"},
        {"name": "b", "value": "1.5", "type": "FLOAT"},
        {"name": "c", "value": "2", "type": "DOUBLE"},
        {"name": "d", "value": "text", "type": "STRING"},
        {"name": "e", "value": "true", "type": "BOOL"},
        {"name": "f", "value": "off", "type": "BOOL"},
    ]
    assert microservice.parse_parameters(params) == {
        "a": 1,
        "b": 1.5,
        "c": 2.0,
        "d": "text",
        "e": True,
        "f": False,
    }


def test_parse_parameters_errors():
    with pytest.raises(SeldonMicroserviceException) as info:
        microservice.parse_parameters([{"name": "a", "value": "x", "type": "INT"}])
    assert info.value.message == "Bad model parameter: a with value x can't be parsed as a INT"
    assert info.value.reason == "MICROSERVICE_BAD_PARAMETER"
    with pytest.raises(SeldonMicroserviceException) as info:
        microservice.parse_parameters([{"name": "a", "value": "{}", "type": "JSON"}])
    assert info.value.message == "Bad model parameter type: JSON valid are INT, FLOAT, DOUBLE, STRING, BOOL"
    with pytest.raises(ValueError, match="invalid truth value 'maybe'"):
        microservice.parse_parameters([{"name": "a", "value": "Maybe", "type": "BOOL"}])


def test_load_annotations(tmp_path, monkeypatch):
    path = tmp_path / "annotations"
    path.write_text('foo="bar"\n  key  =   "assign==="  \nno-equals-sign\nseldon.io/rest-timeout="100"\n')
    monkeypatch.setattr(microservice, "ANNOTATIONS_FILE", str(path))
    assert microservice.load_annotations() == {
        "foo": "bar",
        "key": "assign===",
        "seldon.io/rest-timeout": "100",
    }
    monkeypatch.setattr(microservice, "ANNOTATIONS_FILE", str(tmp_path / "missing"))
    assert microservice.load_annotations() == {}


def test_annotation_constants():
    assert flask_utils.ANNOTATIONS_FILE == microservice.ANNOTATIONS_FILE == "/etc/podinfo/annotations"
    assert flask_utils.ANNOTATION_GRPC_MAX_MSG_SIZE == "seldon.io/grpc-max-message-size"
    assert flask_utils.ANNOTATION_REST_TIMEOUT == "seldon.io/rest-timeout"


def test_env_utils(monkeypatch):
    assert env_utils.get_model_name() == "NOT_IMPLEMENTED"
    assert env_utils.get_image_name() == "NOT_IMPLEMENTED:NOT_IMPLEMENTED"
    assert env_utils.get_predictor_version() == "NOT_IMPLEMENTED"
    monkeypatch.setenv(env_utils.ENV_MODEL_NAME, "mymodel")
    monkeypatch.setenv(env_utils.ENV_MODEL_IMAGE, "repo/img:1")
    monkeypatch.setenv(env_utils.ENV_SELDON_DEPLOYMENT_NAME, "dep")
    monkeypatch.setenv(env_utils.ENV_PREDICTOR_NAME, "pred")
    monkeypatch.setenv(env_utils.ENV_PREDICTOR_LABELS, '{"version": "v3"}')
    assert env_utils.get_model_name() == env_utils.get_predictive_unit_id() == "mymodel"
    assert env_utils.get_image_name() == env_utils.get_predictive_unit_image() == "repo/img:1"
    assert (env_utils.get_deployment_name(), env_utils.get_predictor_name()) == ("dep", "pred")
    assert env_utils.get_predictor_version() == "v3"
    monkeypatch.setenv(env_utils.ENV_PREDICTOR_LABELS, "not json")
    assert env_utils.get_predictor_version("dflt") == "dflt"


def test_imports_helper():
    assert isinstance(imports_helper._TF_PRESENT, bool)


def test_validate_model_metadata(monkeypatch):
    assert validate_model_metadata({}) == {
        "name": "",
        "versions": [""],
        "platform": "",
        "inputs": [],
        "outputs": [],
        "custom": {},
    }
    # MODEL_IMAGE is PREDICTIVE_UNIT_IMAGE read at import; patching it sets the defaults
    monkeypatch.setattr(seldon_core.metadata, "MODEL_IMAGE", "repo/image:0.2")
    meta = validate_model_metadata({"inputs": [{"messagetype": "customData", "schema": {}}]})
    assert (meta["name"], meta["versions"]) == ("repo/image", ["0.2"])
    for bad in (
        {"versions": "v1"},
        {"bogus": 1},
        {"inputs": [{"messagetype": "jsonData", "invalid": "field"}]},
    ):
        with pytest.raises(SeldonInvalidMetadataError):
            validate_model_metadata(bad)
    assert MODEL_METADATA_SCHEMA["additionalProperties"] is False


def test_flask_utils_get_request_and_jsonify():
    app = Flask(__name__)
    with app.test_request_context('/predict?json={"data":{"ndarray":[1]}}'):
        assert flask_utils.get_request() == {"data": {"ndarray": [1]}}
        assert flask_utils.get_request(skip_decoding=True) == '{"data":{"ndarray":[1]}}'
    with app.test_request_context("/predict", method="POST", json={"strData": "x"}):
        assert flask_utils.get_request() == {"strData": "x"}
    with app.test_request_context("/predict", method="POST", data="", content_type="application/json"):
        with pytest.raises(SeldonMicroserviceException) as info:
            flask_utils.get_request()
        assert info.value.message == "Can't find JSON in data"
    with app.test_request_context("/predict", method="POST", data={"strData": "s", "meta": '{"puid": "1"}'}):
        assert flask_utils.get_multi_form_data_request() == {"strData": "s", "meta": {"puid": "1"}}
    with app.test_request_context():
        response = flask_utils.jsonify({"b": 1, "a": [1.5]})
        assert response.mimetype == "application/json"
        assert response.get_data() == b'{"a":[1.5],"b":1}\n'
        assert json.loads(flask_utils.jsonify('{"x": 1}', skip_encoding=True).get_data()) == {"x": 1}


def test_storage(tmp_path):
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    (src / "model.joblib").write_text("weights")
    assert Storage.download(str(src)) == str(src)
    assert Storage.download(f"file://{src}") == str(src)
    out = tmp_path / "out" / "models"
    assert Storage.download(f"file://{src}", out_dir=str(out)) == str(out)
    assert sorted(os.listdir(out)) == ["model.joblib", "sub"]
    assert os.path.islink(out / "model.joblib") and (out / "model.joblib").read_text() == "weights"
    assert Storage.download(f"file://{src}", out_dir=str(out)) == str(out)  # again: links kept
    single = tmp_path / "single"
    Storage.download(str(src / "model.joblib"), out_dir=str(single))
    assert os.listdir(single) == ["model.joblib"]


def test_storage_errors(tmp_path):
    with pytest.raises(RuntimeError, match="does not exist"):
        Storage.download(f"file://{tmp_path}/missing")
    with pytest.raises(Exception, match="Cannot recognize storage type for s3://bucket/model"):
        Storage.download("s3://bucket/model")
