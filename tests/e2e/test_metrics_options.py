"""Environment that shapes the metrics (spec 1.14, 2.7, 6.3, 6.6, 6.7).

PREDICTIVE_UNIT_METRICS_ENDPOINT moves the exposition; SELDON_EXECUTOR_ENABLED=false (legacy
mode) and a zero reward record no feedback counters; INCLUDE_METRICS_IN_CLIENT_RESPONSE=false
strips custom metrics from responses but still records them.
"""

import requests

from tests.e2e.grpc_helpers import call, feedback, grpc_channel, message, rpc
from tests.e2e.metrics_helpers import (
    FEEDBACK_FAMILY,
    REQUEST_FAMILIES,
    REWARD_FAMILY,
    SELDON_ENV,
    metrics_get,
    scrape,
)

PREDICT = {"data": {"ndarray": [[1.0, 2.0]]}}


def rest_feedback(server, **fields):
    response = requests.post(
        server.url + "/api/v1.0/feedback",
        json={"request": PREDICT, "response": PREDICT, **fields},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response


def grpc_feedback(channel, **fields):
    return call(rpc(channel, "Model", "SendFeedback"), feedback({"request": PREDICT, **fields}))


# -- endpoint ----------------------------------------------------------------------------------


def test_metrics_endpoint_env_moves_the_exposition(serve):
    server = serve("MetricsStatic", env={**SELDON_ENV, "PREDICTIVE_UNIT_METRICS_ENDPOINT": "/prometheus"})
    assert requests.post(server.url + "/predict", json=PREDICT, timeout=10).status_code == 200
    exposition = scrape(server, "/prometheus")
    assert exposition.value("c1_total", method="predict") == 1
    assert exposition.value("g1", method="predict") == 5
    for path in (
        "/metrics",
        "/",
        "/prometheus/",
        "/prometheus/metrics",
        "/prometheusx",
        "/metrics/prometheus",
    ):
        assert metrics_get(server, path).status_code == 404, path
    # The main HTTP port does not serve the exposition either.
    assert requests.get(server.url + "/prometheus", timeout=10).status_code == 404


def test_default_endpoint_is_metrics_and_other_paths_404(serve):
    server = serve("MetricsStatic")
    assert metrics_get(server, "/metrics").status_code == 200
    for path in ("/prometheus", "/", "/metrics/", "/metricsx", "/health/ping"):
        assert metrics_get(server, path).status_code == 404, path


# -- feedback counters -------------------------------------------------------------------------


def test_legacy_mode_records_no_feedback_counters(serve):
    server = serve("MetricsStatic", env={"SELDON_EXECUTOR_ENABLED": "False"})
    rest_feedback(server, reward=1)
    with grpc_channel(server) as channel:
        grpc_feedback(channel, reward=3)
    exposition = scrape(server)
    assert FEEDBACK_FAMILY not in exposition.names()
    assert REWARD_FAMILY not in exposition.names()
    assert "seldon_api_model_feedback" not in exposition.text
    # The model's own metrics are still recorded for feedback calls.
    assert exposition.value("c1_total", method="feedback") == 2


def test_zero_or_missing_reward_records_no_feedback_counters(serve):
    server = serve("MetricsStatic")
    rest_feedback(server, reward=0)
    rest_feedback(server)
    with grpc_channel(server) as channel:
        grpc_feedback(channel, reward=0)
        exposition = scrape(server)
        assert FEEDBACK_FAMILY not in exposition.names()
        assert REWARD_FAMILY not in exposition.names()
        assert exposition.value("c1_total", method="feedback") == 3
        # ...while a non-zero reward on the same server is recorded.
        grpc_feedback(channel, reward=0.25)
    exposition = scrape(server)
    assert exposition.value("seldon_api_model_feedback_total", method="feedback") == 1
    assert exposition.value("seldon_api_model_feedback_reward_total", method="feedback") == 0.25


def test_negative_rewards_are_counted_and_summed(serve):
    """Spec 6.3: any non-zero reward counts, and the reward counter adds it (bandit rewards go below 0)."""
    server = serve("MetricsStatic")
    rest_feedback(server, reward=1)
    rest_feedback(server, reward=-1)
    with grpc_channel(server) as channel:
        grpc_feedback(channel, reward=-0.5)
    exposition = scrape(server)
    assert exposition.value("seldon_api_model_feedback_total", method="feedback") == 3
    assert exposition.value("seldon_api_model_feedback_reward_total", method="feedback") == -0.5
    assert exposition.value("c1_total", method="feedback") == 3


# -- INCLUDE_METRICS_IN_CLIENT_RESPONSE ----------------------------------------------------------


def test_metrics_not_included_in_responses_are_still_recorded(serve):
    server = serve("MetricsRuntime", env={"INCLUDE_METRICS_IN_CLIENT_RESPONSE": "false"})
    response = requests.post(server.url + "/predict", json=PREDICT, timeout=10)
    assert response.status_code == 200
    assert "metrics" not in response.json().get("meta", {})
    with grpc_channel(server) as channel:
        answer = call(rpc(channel, "Model", "Predict"), message(PREDICT))
    assert "metrics" not in answer.get("meta", {})
    health = requests.get(server.url + "/health/status", timeout=10)
    assert "metrics" not in health.json().get("meta", {})

    exposition = scrape(server)
    assert exposition.names() == REQUEST_FAMILIES | {
        "static_c",
        "static_g",
        "static_t",
        "runtime_c",
        "runtime_g",
        "runtime_t",
    }
    for prefix in ("static", "runtime"):
        assert exposition.value(f"{prefix}_c_total", method="predict") == 4
        assert exposition.value(f"{prefix}_g", method="predict") == 7
        assert exposition.value(f"{prefix}_t_count", method="predict") == 2
    assert exposition.value("static_c_total", method="health") == 2
