"""Model metadata validation (spec 7.1/7.2) and custom metric validation (spec 6.1)."""

from __future__ import annotations

import json
import logging

import pytest

from seldon_wrapper.metadata import (
    SeldonInvalidMetadataError,
    compute_metadata,
    env_metadata,
    validate_model_metadata,
)
from seldon_wrapper.metrics import (
    bad_metric_error,
    create_counter,
    create_gauge,
    create_timer,
    validate_metrics,
)

DEFAULTS = {"name": "", "versions": [""], "platform": "", "inputs": [], "outputs": [], "custom": {}}

# -- validate_model_metadata: valid ---------------------------------------------------------------


def test_empty_metadata_gets_defaults():
    assert validate_model_metadata({}) == DEFAULTS


def test_defaults_from_image():
    meta = validate_model_metadata({}, image_name="repo/model", image_version="1.2")
    assert meta == {**DEFAULTS, "name": "repo/model", "versions": ["1.2"]}


def test_data_overrides_defaults():
    meta = validate_model_metadata({"name": "mine", "platform": "sklearn"}, "img", "1")
    assert meta == {**DEFAULTS, "name": "mine", "platform": "sklearn", "versions": ["1"]}


def test_v2_example_from_spec():
    data = {
        "name": "my-model-name",
        "versions": ["model-version"],
        "platform": "model-platform",
        "inputs": [{"name": "input", "datatype": "BYTES", "shape": [1]}],
        "outputs": [{"name": "output", "datatype": "BYTES", "shape": [1]}],
        "custom": {},
    }
    assert validate_model_metadata(data) == data


VALID_ENTRIES = [
    {"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}},
    {"messagetype": "ndarray", "schema": {"names": ["a"]}},
    {"messagetype": "tftensor", "schema": {"shape": [1, 784]}},
    {"messagetype": "tensor"},
    {"messagetype": "jsonData", "schema": {"type": "object", "anything": ["goes"]}},
    {"messagetype": "jsonData"},
    {"messagetype": "strData"},
    {"messagetype": "binData"},
    {"messagetype": "customData", "schema": {"x": 1}},
    {"messagetype": "custom_data"},
    {"name": "x", "datatype": "FP32", "shape": [1, 3]},
    {"name": "y"},
    {},
]


@pytest.mark.parametrize("entry", VALID_ENTRIES, ids=[json.dumps(e) for e in VALID_ENTRIES])
def test_valid_input_and_output_entries(entry):
    assert validate_model_metadata({"inputs": [entry], "outputs": [entry]})["inputs"] == [entry]


@pytest.mark.parametrize(
    "datatype",
    [
        "BOOL",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
    ],
)
def test_every_v2_datatype_valid(datatype):
    validate_model_metadata({"inputs": [{"name": "i", "datatype": datatype, "shape": [-1]}]})


def test_v1_and_v2_entries_mixed():
    inputs = [{"messagetype": "ndarray", "schema": {"names": ["a"]}}, {"name": "b", "datatype": "INT64"}]
    assert validate_model_metadata({"inputs": inputs})["inputs"] == inputs


def test_custom_with_string_values():
    assert validate_model_metadata({"custom": {"author": "me", "tag": "1"}})["custom"] == {
        "author": "me",
        "tag": "1",
    }


# -- validate_model_metadata: invalid -------------------------------------------------------------

INVALID = {
    "versions-string": {"versions": "v1"},
    "versions-int-items": {"versions": [1]},
    "versions-int": {"versions": 1},
    "name-not-string": {"name": 5},
    "platform-not-string": {"platform": ["x"]},
    "inputs-not-array": {"inputs": {"messagetype": "tensor"}},
    "outputs-string": {"outputs": "tensor"},
    "jsondata-extra-field": {"inputs": [{"messagetype": "jsonData", "invalid": "field"}]},
    "tensor-schema-extra-field": {"inputs": [{"messagetype": "tensor", "schema": {"custom-field": "x"}}]},
    "tensor-schema-shape-strings": {"inputs": [{"messagetype": "tensor", "schema": {"shape": ["a"]}}]},
    "tensor-schema-names-ints": {"inputs": [{"messagetype": "ndarray", "schema": {"names": [1]}}]},
    "strdata-with-schema": {"inputs": [{"messagetype": "strData", "schema": {}}]},
    "bindata-with-schema": {"outputs": [{"messagetype": "binData", "schema": {}}]},
    "custom-type-extra-field": {"inputs": [{"messagetype": "customData", "other": 1}]},
    "messagetype-not-string": {"inputs": [{"messagetype": 3}]},
    "v2-datatype-not-in-enum": {"inputs": [{"name": "i", "datatype": "FP128", "shape": [1]}]},
    "v2-shape-strings": {"inputs": [{"name": "i", "datatype": "FP32", "shape": ["1"]}]},
    "v2-extra-field": {"outputs": [{"name": "o", "datatype": "FP32", "parameters": {}}]},
    "entry-not-object": {"inputs": ["tensor"]},
    "extra-top-level-key": {"author": "me"},
    "custom-non-string-value": {"custom": {"a": 1}},
    "custom-not-object": {"custom": ["a"]},
}


@pytest.mark.parametrize("data", list(INVALID.values()), ids=list(INVALID))
def test_invalid_metadata(data):
    with pytest.raises(SeldonInvalidMetadataError):
        validate_model_metadata(data)


# -- MODEL_METADATA (env) ----------------------------------------------------------------------------


def test_env_metadata_yaml():
    text = (
        "name: my-model\n"
        "versions: [v1, v2]\n"
        "inputs:\n"
        "  - messagetype: tensor\n"
        "    schema:\n"
        "      shape: [1, 4]\n"
    )
    assert env_metadata(text) == {
        "name": "my-model",
        "versions": ["v1", "v2"],
        "inputs": [{"messagetype": "tensor", "schema": {"shape": [1, 4]}}],
    }


def test_env_metadata_json():
    assert env_metadata('{"name": "j", "custom": {"k": "v"}}') == {"name": "j", "custom": {"k": "v"}}


@pytest.mark.parametrize("text", [None, ""])
def test_env_metadata_absent(text):
    assert env_metadata(text) == {}


def test_env_metadata_bad_yaml_logged_and_ignored(caplog):
    with caplog.at_level(logging.ERROR):
        assert env_metadata("name: [unclosed\nfoo: : bar") == {}
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_env_metadata_not_a_mapping_ignored():
    assert env_metadata("- a\n- b\n") == {}


def test_compute_metadata_env_wins_shallow_merge():
    user = {"name": "user-name", "platform": "p", "custom": {"a": "1", "b": "2"}}
    meta = compute_metadata(user, "name: env-name\ncustom: {c: '3'}\n", "img", "9")
    assert meta == {
        "name": "env-name",
        "versions": ["9"],
        "platform": "p",
        "inputs": [],
        "outputs": [],
        "custom": {"c": "3"},
    }


def test_compute_metadata_invalid_is_none(caplog):
    with caplog.at_level(logging.ERROR):
        assert compute_metadata({"versions": "v1"}, None, "", "") is None
    assert any(record.levelno == logging.ERROR for record in caplog.records)


def test_compute_metadata_invalid_env_value_is_none():
    assert compute_metadata({}, "versions: 1", "", "") is None


# -- validate_metrics (spec 6.1) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "metrics",
    [
        [],
        [{"type": "COUNTER", "key": "c", "value": 1}],
        [{"type": "GAUGE", "key": "g", "value": 2.5}],
        [{"type": "TIMER", "key": "t", "value": 20.2}],
        [{"type": "COUNTER", "key": "c", "value": 1, "tags": {"a": "b"}}],
        [{"type": "GAUGE", "key": "", "value": -3}, {"type": "TIMER", "key": "t", "value": 0}],
        [{"type": "COUNTER", "key": 1, "value": 1, "tags": {"n": 1}}],
    ],
)
def test_valid_metrics(metrics):
    assert validate_metrics(metrics) is True


@pytest.mark.parametrize(
    "metrics",
    [
        {"type": "COUNTER", "key": "c", "value": 1},
        ({"type": "COUNTER", "key": "c", "value": 1},),
        None,
        "metrics",
        [{"key": "c", "value": 1}],
        [{"type": "COUNTER", "value": 1}],
        [{"type": "COUNTER", "key": "c"}],
        [{"type": "counter", "key": "c", "value": 1}],
        [{"type": "HISTOGRAM", "key": "c", "value": 1}],
        [{"type": "COUNTER", "key": "c", "value": "1"}],
        [{"type": "GAUGE", "key": "g", "value": None}],
        [{"type": "GAUGE", "key": "g", "value": [1]}],
        [{"type": "COUNTER", "key": "c", "value": 1}, {"type": "GAUGE", "key": "g"}],
    ],
)
def test_invalid_metrics(metrics):
    assert validate_metrics(metrics) is False


def test_metric_constructors():
    assert create_counter("c", 1) == {"key": "c", "type": "COUNTER", "value": 1}
    assert create_gauge("g", 2.5) == {"key": "g", "type": "GAUGE", "value": 2.5}
    assert create_timer("t", 20) == {"key": "t", "type": "TIMER", "value": 20}
    assert validate_metrics([create_counter("c", 1), create_gauge("g", 2), create_timer("t", 3)])


@pytest.mark.parametrize("create", [create_counter, create_gauge, create_timer])
def test_metric_constructors_reject_non_numbers(create):
    with pytest.raises(TypeError):
        create("k", "1")


def test_bad_metric_error():
    metrics = [{"type": "BAD", "key": "k", "value": 1}]
    error = bad_metric_error(metrics)
    assert error.message == "Bad metric created during request: " + json.dumps(metrics)
    assert error.status_code == 500
    assert error.reason == "MICROSERVICE_BAD_METRIC"
