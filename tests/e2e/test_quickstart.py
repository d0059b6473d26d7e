"""The README's quickstart: the identity model answers both documented curl forms."""

import requests

from tests.conftest import module_server

server = module_server("IdentityModel")


def test_form_field_json_on_predict(server):
    response = requests.post(server.url + "/predict", data={"json": '{"data":{"ndarray":[[1,2]]}}'})
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n'


def test_json_body_on_api_predictions(server):
    response = requests.post(
        server.url + "/api/v1.0/predictions",
        data='{"data":{"ndarray":[[1,2]]}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"data": {"names": ["t:0", "t:1"], "ndarray": [[1, 2]]}, "meta": {}}
