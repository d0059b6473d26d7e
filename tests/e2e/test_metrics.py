"""The Prometheus exposition after a fixed sequence of REST and gRPC calls (spec 6, 2.7, 1.14).

One server (``MetricsStatic``: metrics() = COUNTER c1 {a=b} 1, GAUGE g1 5, TIMER t1 20 ms) in the
operator's environment gets 3 REST + 2 gRPC predicts, a REST feedback (reward 0.5), a gRPC
feedback (reward 2), a health status and an unknown path; the scrape must then hold exactly
these families, label sets and values. Besides the readiness probes of the test harness
(REST ``/health/ping``, gRPC ``Health/Check``, counted at least once) nothing else is sent.

Our deviations from the original are asserted too: no ``worker_id`` label, one ``# TYPE`` block
per metric name, no ``_created`` series, and our request metrics.
"""

import math

import pytest
import requests

from tests.conftest import start_server
from tests.e2e.grpc_helpers import call, feedback, grpc_channel, message, rpc
from tests.e2e.metrics_helpers import (
    DURATION_FAMILY,
    FEEDBACK_FAMILY,
    REQUESTS_FAMILY,
    REWARD_FAMILY,
    SELDON_ENV,
    SELDON_LABELS,
    assert_timer_buckets,
    labelset,
    request_labels,
    scrape,
)

PREDICT = {"data": {"ndarray": [[1.0, 2.0]]}}
CUSTOM_FAMILIES = {"c1": "counter", "g1": "gauge", "t1": "histogram"}
SELDON_FAMILIES = {
    FEEDBACK_FAMILY: "counter",
    REWARD_FAMILY: "counter",
    REQUESTS_FAMILY: "counter",
    DURATION_FAMILY: "histogram",
}
# How often metrics() ran per method label: 3 REST + 2 gRPC predicts, 2 feedbacks, 1 health.
CALLS = {"predict": 5, "feedback": 2, "health": 1}
REQUEST = request_labels(SELDON_LABELS)
# (protocol, endpoint, method, code) -> count; None = the harness' readiness probes (>= 1).
REQUESTS = {
    ("rest", "/predict", "POST", "200"): 2,
    ("rest", "/api/v1.0/predictions", "POST", "200"): 1,
    ("rest", "/api/v1.0/feedback", "POST", "200"): 1,
    ("rest", "/health/status", "GET", "200"): 1,
    ("rest", "unmatched", "GET", "404"): 1,
    ("rest", "/health/ping", "GET", "200"): None,
    ("grpc", "seldon.protos.Model/Predict", "POST", "OK"): 2,
    ("grpc", "seldon.protos.Model/SendFeedback", "POST", "OK"): 1,
    ("grpc", "grpc.health.v1.Health/Check", "POST", "OK"): None,
}


def custom(method, **tags):
    return labelset(**SELDON_LABELS, method=method, **tags)


def request_series(protocol, endpoint, method, code=None):
    labels = dict(REQUEST, protocol=protocol, endpoint=endpoint, method=method)
    if code is not None:
        labels["code"] = code
    return labels


@pytest.fixture(scope="module")
def sequence(module_tmp):
    """Run the fixed call sequence once; answer (first scrape, second scrape)."""
    server = start_server("MetricsStatic", tmp_path=module_tmp, env=SELDON_ENV)
    try:
        url = server.url
        for path in ("/predict", "/predict", "/api/v1.0/predictions"):
            assert requests.post(url + path, json=PREDICT, timeout=10).status_code == 200
        with grpc_channel(server) as channel:
            for _ in range(2):
                assert call(rpc(channel, "Model", "Predict"), message(PREDICT))["data"]
            call(
                rpc(channel, "Model", "SendFeedback"),
                feedback({"request": PREDICT, "response": PREDICT, "reward": 2}),
            )
        rest_feedback = {"request": PREDICT, "response": PREDICT, "reward": 0.5}
        assert requests.post(url + "/api/v1.0/feedback", json=rest_feedback, timeout=10).status_code == 200
        assert requests.get(url + "/health/status", timeout=10).status_code == 200
        assert requests.get(url + "/no/such/path", timeout=10).status_code == 404
        yield scrape(server), scrape(server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def exposition(sequence):
    return sequence[0]


def test_exactly_these_families_with_their_types(exposition):
    assert exposition.types() == {**CUSTOM_FAMILIES, **SELDON_FAMILIES}


def test_each_name_has_one_type_block_and_no_created_or_worker_series(exposition):
    headers = exposition.header_counts()
    expected = {
        "c1_total",
        "g1",
        "t1",
        "seldon_api_model_feedback_total",
        "seldon_api_model_feedback_reward_total",
        "seldon_api_model_requests_total",
        DURATION_FAMILY,
    }
    assert set(headers) == expected
    assert set(headers.values()) == {1}, headers
    assert "_created" not in exposition.text
    assert "worker_id" not in exposition.text


def test_counter_c1_per_method_rest_and_grpc_together(exposition):
    assert exposition.label_sets("c1") == {custom(method, a="b") for method in CALLS}
    for method, count in CALLS.items():
        assert exposition.value("c1_total", method=method) == count, method


def test_gauge_g1_per_method(exposition):
    assert exposition.label_sets("g1") == {custom(method) for method in CALLS}
    for method in CALLS:
        assert exposition.value("g1", method=method) == 5.0


def test_timer_t1_is_a_histogram_in_seconds_with_the_51_spec_buckets(exposition):
    assert exposition.label_sets("t1") == {custom(method) for method in CALLS}
    sample_names = {sample.name for sample in exposition.families["t1"].samples}
    assert sample_names == {"t1_bucket", "t1_count", "t1_sum"}
    for method, count in CALLS.items():
        assert exposition.value("t1_count", method=method) == count
        assert math.isclose(exposition.value("t1_sum", method=method), 0.02 * count, rel_tol=1e-9)
        assert_timer_buckets(exposition.buckets("t1", method=method), [0.02] * count)


def test_feedback_counters_count_rewarded_feedback_and_sum_rewards(exposition):
    for family in (FEEDBACK_FAMILY, REWARD_FAMILY):
        assert exposition.label_sets(family) == {custom("feedback")}
    assert exposition.value("seldon_api_model_feedback_total") == 2
    assert exposition.value("seldon_api_model_feedback_reward_total") == 2.5


def test_request_counter_label_sets_codes_and_counts(exposition):
    expected = {labelset(**request_series(*key)) for key in REQUESTS}
    assert exposition.label_sets(REQUESTS_FAMILY) == expected
    for key, count in REQUESTS.items():
        value = exposition.value("seldon_api_model_requests_total", **request_series(*key))
        if count is None:
            assert value >= 1, key
        else:
            assert value == count, key


def test_request_duration_histogram_matches_the_counts(exposition):
    assert exposition.label_sets(DURATION_FAMILY) == {
        labelset(**request_series(*key[:3])) for key in REQUESTS
    }
    for key in REQUESTS:
        labels = request_series(*key[:3])
        count = exposition.value("seldon_api_model_requests_total", **labels)
        assert exposition.value(f"{DURATION_FAMILY}_count", **labels) == count, key
        seconds = exposition.value(f"{DURATION_FAMILY}_sum", **labels)
        assert 0 < seconds < 10 * count, key
        buckets = exposition.buckets(DURATION_FAMILY, **labels)
        assert buckets[-1] == ("+Inf", count), key
        counts = [value for _, value in buckets]
        assert counts == sorted(counts), key
        bounds = [float(le) for le, _ in buckets[:-1]]
        assert bounds == sorted(bounds) and len(bounds) >= 5, key


def test_scraping_changes_nothing(sequence):
    first, second = sequence

    def series(scraped):
        return {
            (sample.name, frozenset(sample.labels.items()), sample.value)
            for family in scraped.families.values()
            for sample in family.samples
        }

    assert series(first) == series(second)
