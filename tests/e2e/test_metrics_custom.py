"""Custom metrics: validation, runtime vs static, label names (spec 6.1, 6.2, 6.5).

Bad metrics answer REST 500 MICROSERVICE_BAD_METRIC (gRPC INVALID_ARGUMENT, our deviation from
UNKNOWN), record nothing of the bad list, and the server keeps serving. Runtime metrics
(SeldonResponse) are recorded exactly like static ones (metrics()); invalid label characters
become ``_`` and the default labels win over same-named tags.
"""

import json
import math

import grpc
import pytest
import requests

from tests.conftest import start_server
from tests.e2e.grpc_helpers import call, call_error, grpc_channel, message, rpc
from tests.e2e.metrics_helpers import (
    REQUEST_FAMILIES,
    REQUESTS_FAMILY,
    SELDON_ENV,
    SELDON_LABELS,
    UNSET_LABELS,
    assert_timer_buckets,
    scrape,
)

# strData -> the runtime metrics the model returns for it.
BAD_CASES = {
    "wrong-type": [{"type": "HISTOGRAM", "key": "wrong_type", "value": 1}],
    "lower-case-type": [{"type": "counter", "key": "lower_case_type", "value": 1}],
    "missing-type": [{"key": "missing_type", "value": 1}],
    "missing-key": [{"type": "COUNTER", "value": 1}],
    "missing-value": [{"type": "GAUGE", "key": "missing_value"}],
    "string-value": [{"type": "COUNTER", "key": "string_value", "value": "1"}],
    "null-value": [{"type": "TIMER", "key": "null_value", "value": None}],
    "not-a-list": {"type": "COUNTER", "key": "not_a_list", "value": 1},
    "not-a-dict": ["not_a_dict"],
    # all or nothing: the valid first metric is not recorded either
    "one-bad-of-two": [
        {"type": "COUNTER", "key": "valid_first", "value": 1},
        {"type": "GAUGE", "key": "invalid_second", "value": "7"},
    ],
}


def cases_env(cases, **env):
    parameters = [{"name": "cases", "value": json.dumps(cases), "type": "STRING"}]
    return {"PREDICTIVE_UNIT_PARAMETERS": json.dumps(parameters), **env}


def bad_metric_info(metrics):
    return "Bad metric created during request: " + json.dumps(metrics)


def predict_rest(server, payload):
    return requests.post(server.url + "/predict", json=payload, timeout=10)


@pytest.fixture(scope="module")
def bad_run(module_tmp):
    """Every bad case over REST and gRPC, a scrape, then good calls and a second scrape."""
    server = start_server("MetricsCases", tmp_path=module_tmp, env=cases_env(BAD_CASES, **SELDON_ENV))
    try:
        with grpc_channel(server) as channel:
            predict = rpc(channel, "Model", "Predict")
            rest = {case: predict_rest(server, {"strData": case}) for case in BAD_CASES}
            errors = {case: call_error(predict, message({"strData": case})) for case in BAD_CASES}
            before = scrape(server)
            after_rest = predict_rest(server, {"strData": "fine"})
            after_grpc = call(predict, message({"strData": "fine"}))
            ping = requests.get(server.url + "/health/ping", timeout=10)
            yield {
                "rest": rest,
                "grpc": errors,
                "before": before,
                "after": (after_rest, after_grpc, ping),
                "after_scrape": scrape(server),
            }
    finally:
        server.stop()


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_metric_is_rest_500_bad_metric(bad_run, case):
    response = bad_run["rest"][case]
    assert response.status_code == 500
    assert response.json() == {
        "status": {
            "code": -1,
            "info": bad_metric_info(BAD_CASES[case]),
            "reason": "MICROSERVICE_BAD_METRIC",
            "status": 1,
        }
    }


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_metric_is_grpc_invalid_argument(bad_run, case):
    error = bad_run["grpc"][case]
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == bad_metric_info(BAD_CASES[case])


def test_nothing_is_recorded_for_bad_metrics(bad_run):
    before = bad_run["before"]
    assert before.names() == REQUEST_FAMILIES, before.text
    count = len(BAD_CASES)
    assert before.value(f"{REQUESTS_FAMILY}_total", protocol="rest", endpoint="/predict", code="500") == count
    assert (
        before.value(
            f"{REQUESTS_FAMILY}_total",
            protocol="grpc",
            endpoint="seldon.protos.Model/Predict",
            code="INVALID_ARGUMENT",
        )
        == count
    )


def test_server_keeps_serving_and_recording_after_bad_metrics(bad_run):
    rest, grpc_answer, ping = bad_run["after"]
    assert rest.status_code == 200 and rest.json()["strData"] == "fine"
    assert grpc_answer["strData"] == "fine"
    assert ping.status_code == 200
    after = bad_run["after_scrape"]
    assert after.names() == REQUEST_FAMILIES | {"good"}
    assert after.value("good_total") == 2
    assert after.samples("good_total")[0].labels == {**SELDON_LABELS, "method": "predict"}


def test_bad_static_metrics_are_rejected_and_not_recorded(serve):
    server = serve("MetricsBadStatic")
    static = [{"type": "COUNTER", "key": "static_bad", "value": "1"}]
    response = predict_rest(server, {"data": {"ndarray": [[1]]}})
    assert response.status_code == 500
    assert response.json()["status"] == {
        "code": -1,
        "info": bad_metric_info(static),
        "reason": "MICROSERVICE_BAD_METRIC",
        "status": 1,
    }
    with grpc_channel(server) as channel:
        error = call_error(rpc(channel, "Model", "Predict"), message({"data": {"ndarray": [[1]]}}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == bad_metric_info(static)
    exposition = scrape(server)
    assert "static_bad" not in exposition.names()
    # Spec 6.2: runtime metrics are validated and recorded before the static ones are checked.
    assert exposition.value("runtime_ok_total", method="predict") == 2
    assert requests.get(server.url + "/health/ping", timeout=10).text == "pong"


def test_negative_counter_values_are_added_like_the_original(serve):
    """Spec 6.1: a COUNTER's value is added, whatever its sign (validation only asks for a number)."""
    cases = {"down": [{"type": "COUNTER", "key": "signed", "value": -1.5}]}
    server = serve("MetricsCases", env=cases_env(cases))
    assert predict_rest(server, {"strData": "x"}).status_code == 200
    response = predict_rest(server, {"strData": "down"})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["metrics"] == cases["down"]
    assert scrape(server).value("signed_total", method="predict") == -1.5


# -- runtime vs static -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime_run(module_tmp):
    """MetricsRuntime (no Seldon env): 2 REST + 1 gRPC predicts, 1 REST transform-input."""
    server = start_server("MetricsRuntime", tmp_path=module_tmp)
    try:
        payload = {"data": {"ndarray": [[1.0]]}}
        responses = [predict_rest(server, payload) for _ in range(2)]
        with grpc_channel(server) as channel:
            responses.append(call(rpc(channel, "Model", "Predict"), message(payload)))
        transform = requests.post(server.url + "/transform-input", json=payload, timeout=10)
        yield responses, transform, scrape(server)
    finally:
        server.stop()


def test_runtime_metrics_are_shown_in_the_response_with_the_method_tag(runtime_run):
    responses, transform, _ = runtime_run
    assert responses[0].status_code == 200
    metrics = responses[0].json()["meta"]["metrics"]
    assert metrics[0] == {
        "key": "static_c",
        "type": "COUNTER",
        "value": 2,
        "tags": {"my-tag": "s", "model_name": "mine", "method": "predict"},
    }
    assert metrics[3] == {
        "key": "runtime_c",
        "type": "COUNTER",
        "value": 2,
        "tags": {"my-tag": "r", "model_name": "mine", "method": "predict"},
    }
    assert transform.status_code == 200


def test_runtime_metrics_are_recorded_like_static_ones(runtime_run):
    _, _, exposition = runtime_run
    for kind in ("c", "g", "t"):
        static, runtime = exposition.families[f"static_{kind}"], exposition.families[f"runtime_{kind}"]
        assert static.type == runtime.type, kind
        project = {"static_": "", "runtime_": "", '"s"': "", '"r"': ""}

        def shape(family, project=project):
            out = set()
            for sample in family.samples:
                if sample.labels.get("method") != "predict":
                    continue
                name = sample.name
                for old, new in project.items():
                    name = name.replace(old, new)
                labels = {k: v for k, v in sample.labels.items() if k != "my_tag"}
                out.add((name, frozenset(labels.items()), sample.value))
            return out

        assert shape(static) == shape(runtime), kind
    assert exposition.value("runtime_c_total", method="predict") == 6
    assert exposition.value("static_c_total", method="predict") == 6
    assert exposition.value("runtime_g", method="predict") == 7
    assert exposition.value("runtime_t_count", method="predict") == 3
    assert math.isclose(exposition.value("runtime_t_sum", method="predict"), 0.06, rel_tol=1e-9)
    assert_timer_buckets(exposition.buckets("runtime_t", method="predict"), [0.02] * 3)


def test_invalid_tag_characters_become_underscores_and_defaults_win(runtime_run):
    _, _, exposition = runtime_run
    assert "my-tag" not in exposition.text
    (sample,) = exposition.samples("runtime_c_total", method="predict")
    assert sample.labels == {**UNSET_LABELS, "method": "predict", "my_tag": "r"}
    (sample,) = exposition.samples("static_c_total", method="predict")
    assert sample.labels == {**UNSET_LABELS, "method": "predict", "my_tag": "s"}


def test_runtime_metrics_of_transform_input_carry_its_method(runtime_run):
    _, _, exposition = runtime_run
    (sample,) = exposition.samples("runtime_c_total", method="inputtransform")
    assert sample.value == 1
    assert sample.labels == {**UNSET_LABELS, "method": "inputtransform"}
    assert exposition.value("static_c_total", method="inputtransform") == 2
