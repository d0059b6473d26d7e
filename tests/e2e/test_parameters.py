"""Constructor parameters from PREDICTIVE_UNIT_PARAMETERS and --parameters (spec 1.2, 1.5)."""

import json

import requests

from tests.conftest import module_server

PARAMETERS = [
    {"name": "count", "value": "7", "type": "INT"},
    {"name": "negative", "value": "-3", "type": "INT"},
    {"name": "ratio", "value": "0.5", "type": "FLOAT"},
    {"name": "precise", "value": "2.25", "type": "DOUBLE"},
    {"name": "label", "value": "123", "type": "STRING"},
    {"name": "flag", "value": "false", "type": "BOOL"},
    {"name": "yes_flag", "value": "Yes", "type": "BOOL"},
    {"name": "one_flag", "value": "1", "type": "BOOL"},
    {"name": "config", "value": '{"a": [1, 2.5], "b": null, "c": "x"}', "type": "JSON"},
]
EXPECTED = {
    "count": {"type": "int", "value": 7},
    "negative": {"type": "int", "value": -3},
    "ratio": {"type": "float", "value": 0.5},
    "precise": {"type": "float", "value": 2.25},
    "label": {"type": "str", "value": "123"},
    "flag": {"type": "bool", "value": False},
    "yes_flag": {"type": "bool", "value": True},
    "one_flag": {"type": "bool", "value": True},
    "config": {"type": "dict", "value": {"a": [1, 2.5], "b": None, "c": "x"}},
}

from_env = module_server("E2eParams", env={"PREDICTIVE_UNIT_PARAMETERS": json.dumps(PARAMETERS)})
from_flag = module_server(
    "E2eParams",
    "--parameters",
    json.dumps(PARAMETERS),
    env={"PREDICTIVE_UNIT_PARAMETERS": json.dumps([{"name": "ignored", "value": "1", "type": "INT"}])},
)


def params_of(server):
    response = requests.post(server.url + "/predict", json={"strData": "params"}, timeout=10)
    assert response.status_code == 200
    return response.json()["jsonData"]["params"]


def test_parameters_from_env_reach_init_with_python_types(from_env):
    assert params_of(from_env) == EXPECTED


def test_parameters_flag_wins_over_env(from_flag):
    assert params_of(from_flag) == EXPECTED


def test_parameter_values_keep_exact_json_types(from_env):
    response = requests.post(from_env.url + "/predict", json={"strData": "params"}, timeout=10)
    text = response.text
    assert '"count":{"type":"int","value":7}' in text
    assert '"ratio":{"type":"float","value":0.5}' in text
    assert '"label":{"type":"str","value":"123"}' in text
    assert '"flag":{"type":"bool","value":false}' in text
