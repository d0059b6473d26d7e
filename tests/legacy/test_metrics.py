"""Custom metrics as users of the original tested them: SeldonMetrics and the metrics app."""

import os
import subprocess
import sys
from unittest.mock import patch

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

import seldon_core.metrics
from seldon_core.metrics import (
    BINS,
    COUNTER,
    FEEDBACK_KEY,
    FEEDBACK_REWARD_KEY,
    GAUGE,
    TIMER,
    SeldonMetrics,
    create_counter,
    create_gauge,
    create_timer,
    split_image_tag,
    validate_metrics,
)
from seldon_core.user_model import SeldonResponse
from seldon_core.wrapper import get_metrics_microservice, get_rest_microservice

DEFAULT_LABELS = {
    "deployment_name": "NOT_IMPLEMENTED",
    "model_name": "NOT_IMPLEMENTED",
    "model_image": "NOT_IMPLEMENTED",
    "model_version": "NOT_IMPLEMENTED",
    "predictor_name": "NOT_IMPLEMENTED",
    "predictor_version": "NOT_IMPLEMENTED",
    "seldon_deployment_name": "NOT_IMPLEMENTED",
    "image_name": "NOT_IMPLEMENTED",
    "image_version": "NOT_IMPLEMENTED",
}


class UserObject:
    def predict(self, X, features_names):
        return X

    def metrics(self):
        return [
            {"type": "COUNTER", "key": "mycounter", "value": 1, "tags": {"mytag": "mytagvalue"}},
            {"type": "GAUGE", "key": "mygauge", "value": 100},
            {"type": "TIMER", "key": "mytimer", "value": 20.2},
        ]


class UserObjectRuntime:
    def predict(self, X, features_names):
        return SeldonResponse(X, metrics=[{"type": "GAUGE", "key": "runtime_gauge", "value": float(X[0][0])}])


def scrape(seldon_metrics, path="/metrics"):
    client = get_metrics_microservice(seldon_metrics).test_client()
    rv = client.get(path)
    assert rv.status_code == 200
    return {family.name: family for family in text_string_to_metric_families(rv.data.decode())}


def test_seldon_metrics_predict():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObject(), seldon_metrics).test_client()
    for _ in range(2):
        rv = client.get('/predict?json={"data":{"ndarray":[[1]]}}')
        assert rv.status_code == 200
    families = scrape(seldon_metrics)
    counter = families["mycounter"].samples[0]
    assert counter.name == "mycounter_total"
    assert counter.value == 2.0
    assert counter.labels == {
        **DEFAULT_LABELS,
        "mytag": "mytagvalue",
        "method": "predict",
        "worker_id": str(os.getpid()),
    }
    assert families["mygauge"].samples[0].value == 100.0
    timer = {s.name: s for s in families["mytimer"].samples if s.name != "mytimer_bucket"}
    assert timer["mytimer_count"].value == 2.0
    assert timer["mytimer_sum"].value == pytest.approx(0.0404)
    buckets = [s for s in families["mytimer"].samples if s.name == "mytimer_bucket"]
    assert len(buckets) == 51
    assert buckets[0].labels["le"] == "0.001" and buckets[-1].labels["le"] == "+Inf"
    assert buckets[-1].value == 2.0


def test_metrics_endpoint_lines():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObject(), seldon_metrics).test_client()
    client.get('/predict?json={"data":{"ndarray":[[1]]}}')
    rv = get_metrics_microservice(seldon_metrics).test_client().get("/metrics")
    assert rv.headers["Content-Type"] == CONTENT_TYPE_LATEST
    text = rv.data.decode()
    assert "# TYPE mycounter_total counter" in text
    assert "# TYPE mygauge gauge" in text
    assert "# TYPE mytimer histogram" in text
    assert 'method="predict",model_image="NOT_IMPLEMENTED"' in text
    assert f'worker_id="{os.getpid()}"' in text
    # the original exported only custom and feedback metrics, never request counters
    assert "seldon_api_model_requests" not in text


def test_runtime_metrics_gauge_replaced():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObjectRuntime(), seldon_metrics).test_client()
    client.get('/predict?json={"data":{"ndarray":[[3]]}}')
    client.get('/predict?json={"data":{"ndarray":[[5]]}}')
    assert scrape(seldon_metrics)["runtime_gauge"].samples[0].value == 5.0


@patch("seldon_core.user_model.INCLUDE_METRICS_IN_CLIENT_RESPONSE", False)
def test_metrics_exported_but_not_returned():
    seldon_metrics = SeldonMetrics()
    client = get_rest_microservice(UserObjectRuntime(), seldon_metrics).test_client()
    rv = client.get('/predict?json={"data":{"ndarray":[[3]]}}')
    assert "metrics" not in rv.get_json()["meta"]
    assert scrape(seldon_metrics)["runtime_gauge"].samples[0].value == 3.0


def test_metrics_endpoint_from_environment(monkeypatch):
    monkeypatch.setenv("PREDICTIVE_UNIT_METRICS_ENDPOINT", "/prometheus")
    seldon_metrics = SeldonMetrics()
    seldon_metrics.update([create_counter("c", 1)], "predict")
    client = get_metrics_microservice(seldon_metrics).test_client()
    assert client.get("/metrics").status_code == 404
    assert "c_total{" in client.get("/prometheus").data.decode()


LABELS_ENV = {
    "PREDICTIVE_UNIT_ID": "mymodel",
    "PREDICTIVE_UNIT_IMAGE": "localhost:32000/sklearn-iris:0.1",
    "PREDICTOR_ID": "mypredictor",
    "PREDICTOR_LABELS": '{"version": "v2"}',
    "SELDON_DEPLOYMENT_ID": "mydeployment",
}


def test_labels_from_environment_at_import():
    """The operator's variables become labels; read when seldon_core.metrics is imported."""
    code = (
        "import json; from seldon_core.metrics import SeldonMetrics, create_gauge; "
        "m = SeldonMetrics(worker_id_func=lambda: 'w1', extra_default_labels={'team': 'ml'}); "
        "m.update([create_gauge('g', 1)], 'predict'); print(m.generate_metrics()[0])"
    )
    env = {**os.environ, **LABELS_ENV}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    families = {f.name: f for f in text_string_to_metric_families(out.stdout)}
    assert families["g"].samples[0].labels == {
        "deployment_name": "mydeployment",
        "seldon_deployment_name": "mydeployment",
        "model_name": "mymodel",
        "model_image": "localhost:32000/sklearn-iris",
        "image_name": "localhost:32000/sklearn-iris",
        "model_version": "0.1",
        "image_version": "0.1",
        "predictor_name": "mypredictor",
        "predictor_version": "v2",
        "method": "predict",
        "team": "ml",
        "worker_id": "w1",
    }


def test_patched_default_labels_are_exported(monkeypatch):
    monkeypatch.setattr(seldon_core.metrics, "DEFAULT_LABELS", {"model_name": "patched"})
    seldon_metrics = SeldonMetrics(worker_id_func=lambda: 7)
    seldon_metrics.update([create_gauge("g", 1)], "predict")
    labels = scrape(seldon_metrics)["g"].samples[0].labels
    assert labels == {"model_name": "patched", "method": "predict", "worker_id": "7"}


def test_update_adds_method_to_tags_in_place():
    seldon_metrics = SeldonMetrics()
    metrics = [
        {"type": "COUNTER", "key": "c", "value": 2, "tags": {"a": "b"}},
        {"type": "GAUGE", "key": "g", "value": 1},
    ]
    seldon_metrics.update(metrics, "feedback")
    assert metrics[0]["tags"] == {"a": "b", "method": "feedback"}
    assert "tags" not in metrics[1]


def test_update_reward_and_clear():
    seldon_metrics = SeldonMetrics()
    seldon_metrics.update_reward(0)
    assert seldon_metrics.generate_metrics()[0] == ""
    seldon_metrics.update_reward(2.0)
    seldon_metrics.update_reward(-1.0)
    families = scrape(seldon_metrics)
    assert families[FEEDBACK_KEY].samples[0].value == 2.0
    assert families[FEEDBACK_REWARD_KEY].samples[0].value == 1.0
    assert families[FEEDBACK_KEY].samples[0].labels["method"] == "feedback"
    seldon_metrics.clear()
    assert seldon_metrics.generate_metrics() == ("", CONTENT_TYPE_LATEST)
    assert list(seldon_metrics.collect()) == []


def test_legacy_mode_records_no_reward(monkeypatch):
    monkeypatch.setattr(seldon_core.metrics, "legacy_mode", True)
    seldon_metrics = SeldonMetrics()
    seldon_metrics.update_reward(1.0)
    assert seldon_metrics.generate_metrics()[0] == ""


def test_validate_metrics():
    assert validate_metrics(
        [{"type": COUNTER, "key": "a", "value": 1}, {"type": GAUGE, "key": "b", "value": 1.5}]
    )
    assert validate_metrics([{"type": TIMER, "key": "t", "value": 3, "tags": {"x": "y"}}])
    assert validate_metrics([])
    assert not validate_metrics({"type": COUNTER, "key": "a", "value": 1})
    assert not validate_metrics([{"type": "counter", "key": "a", "value": 1}])
    assert not validate_metrics([{"type": COUNTER, "key": "a", "value": "1"}])
    assert not validate_metrics([{"type": COUNTER, "value": 1}])


def test_create_metrics():
    assert create_counter("k", 1) == {"key": "k", "type": "COUNTER", "value": 1}
    assert create_gauge("k", 2.5) == {"key": "k", "type": "GAUGE", "value": 2.5}
    assert create_timer("k", 3) == {"key": "k", "type": "TIMER", "value": 3}
    with pytest.raises(TypeError):
        create_counter("k", "1")


def test_bins_and_image_tag():
    assert len(BINS) == 52
    assert BINS[0] == 0 and BINS[1] == 0.001 and BINS[-1] == float("inf")
    assert BINS[-2] == pytest.approx(30.0)
    assert split_image_tag("localhost:32000/sklearn-iris:0.1") == ("localhost:32000/sklearn-iris", "0.1")
