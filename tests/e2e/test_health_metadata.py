"""/health/status and /metadata against real servers (spec 2.6.6, 2.6.7, 7)."""

import pytest
import requests

from tests.conftest import module_server

plain = module_server("IdentityModel")
defaults = module_server("E2eComponentDefaults")
health_list = module_server("E2eHealthList")
health_dict = module_server(
    "E2eHealthDict",
    env={"MODEL_METADATA": "name: env-name\nversions:\n  - env-version\ncustom:\n  source: env\n"},
)
health_raw = module_server("E2eHealthRaw")
health_error = module_server("E2eHealthError", env={"MODEL_METADATA": '{"extra_key": 1}'})
image = module_server("IdentityModel", env={"PREDICTIVE_UNIT_IMAGE": "repo/img:0.3"})

HEALTH_PATHS = ["/health/status", "/api/v1.0/health/status"]
METADATA_PATHS = ["/metadata", "/api/v1.0/metadata"]
DEFAULT_METADATA = {"custom": {}, "inputs": [], "name": "", "outputs": [], "platform": "", "versions": [""]}
BAD_METADATA = {
    "status": {
        "code": -1,
        "info": "Model metadata unavailable",
        "reason": "MICROSERVICE_BAD_METADATA",
        "status": 1,
    }
}


def get(server, path):
    return requests.get(server.url + path, timeout=10)


# -- health ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_without_method_is_healthy(plain, path):
    response = get(plain, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == '{"meta":{},"strData":"healthy"}\n'


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_seldon_component_default(defaults, path):
    response = get(defaults, path)
    assert response.status_code == 200
    assert response.json() == {"meta": {}, "strData": "not implemented - assuming healthy"}


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_list_is_a_tensor(health_list, path):
    response = get(health_list, path)
    assert response.status_code == 200
    assert response.text == '{"data":{"names":[],"tensor":{"shape":[2],"values":[1,2]}},"meta":{}}\n'


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_dict_is_json_data_with_tags_and_metrics(health_dict, path):
    response = get(health_dict, path)
    assert response.status_code == 200
    assert response.json() == {
        "jsonData": {"load": 0.5, "status": "ok"},
        "meta": {
            "metrics": [{"key": "probes", "type": "COUNTER", "value": 1}],
            "tags": {"component": "health"},
        },
    }


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_status_raw_returned_as_is(health_raw, path):
    response = get(health_raw, path)
    # A status.code inside a health answer is not applied to the HTTP status.
    assert response.status_code == 200
    assert response.json() == {"ready": False, "status": {"code": 503, "status": "FAILURE"}}


@pytest.mark.parametrize("path", HEALTH_PATHS)
def test_health_exception_is_500(health_error, path):
    response = get(health_error, path)
    assert response.status_code == 500
    assert response.json() == {
        "status": {"code": -1, "info": "disk full", "reason": "MICROSERVICE_INTERNAL_ERROR", "status": 1}
    }


def test_health_ping_never_touches_the_model(health_error):
    response = get(health_error, "/health/ping")
    assert response.status_code == 200
    assert response.text == "pong"


# -- metadata -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", METADATA_PATHS)
@pytest.mark.parametrize("server_name", ["plain", "defaults"])
def test_metadata_default(request, server_name, path):
    response = get(request.getfixturevalue(server_name), path)
    assert response.status_code == 200
    assert response.text == (
        '{"custom":{},"inputs":[],"name":"","outputs":[],"platform":"","versions":[""]}\n'
    )
    assert response.json() == DEFAULT_METADATA


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_metadata_from_init_metadata_v1_and_v2_entries(health_list, path):
    response = get(health_list, path)
    assert response.status_code == 200
    assert response.json() == {
        "name": "my-model-name",
        "versions": ["model-version"],
        "platform": "model-platform",
        "inputs": [
            {"name": "input", "datatype": "BYTES", "shape": [1]},
            {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
        ],
        "outputs": [
            {"name": "output", "datatype": "BYTES", "shape": [1]},
            {"messagetype": "jsonData", "schema": {"type": "object"}},
            {"messagetype": "strData"},
            {"messagetype": "customData", "schema": {}},
        ],
        "custom": {"author": "e2e"},
    }


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_model_metadata_env_overrides_init_metadata_keys(health_dict, path):
    response = get(health_dict, path)
    assert response.status_code == 200
    # Shallow merge: env keys replace whole values (custom included), other keys stay.
    assert response.json() == {
        "custom": {"source": "env"},
        "inputs": [],
        "name": "env-name",
        "outputs": [],
        "platform": "user-platform",
        "versions": ["env-version"],
    }


@pytest.mark.parametrize("path", METADATA_PATHS)
@pytest.mark.parametrize("server_name", ["health_raw", "health_error"])
def test_invalid_metadata_is_500(request, server_name, path):
    server = request.getfixturevalue(server_name)
    response = get(server, path)
    assert response.status_code == 500
    assert response.json() == BAD_METADATA
    # The server still serves everything else.
    assert get(server, "/health/ping").text == "pong"


@pytest.mark.parametrize("path", METADATA_PATHS)
def test_metadata_default_name_and_version_from_image(image, path):
    response = get(image, path)
    assert response.status_code == 200
    assert response.json() == dict(DEFAULT_METADATA, name="repo/img", versions=["0.3"])


def test_image_env_alone_adds_no_request_path(image):
    response = requests.post(image.url + "/predict", json={"data": {"ndarray": [[1]]}}, timeout=10)
    assert response.json() == {"data": {"names": ["t:0"], "ndarray": [[1]]}, "meta": {}}
