"""The example served by `make serve` answers the README's two curl commands."""

import pathlib

import pytest
import requests

from tests.conftest import start_server

EXAMPLE_DIR = pathlib.Path(__file__).resolve().parents[2] / "examples" / "model"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    server = start_server(
        "MyModel", "--service-type", "MODEL", cwd=EXAMPLE_DIR, tmp_path=tmp_path_factory.mktemp("example")
    )
    yield server
    server.stop()


def test_readme_form_curl(example):
    response = requests.post(example.url + "/predict", data={"json": '{"data":{"ndarray":[[1,2]]}}'})
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n'


def test_readme_json_curl(example):
    response = requests.post(
        example.url + "/api/v1.0/predictions",
        data='{"data":{"ndarray":[[1,2]]}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.text == '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n'
