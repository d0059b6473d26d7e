"""Small things on the wire that the original's users' tests and dashboards compare byte for byte:
TIMER bucket labels, a list in ``meta.tags``, feedback bodies that are not objects."""

import json
import pathlib

import pytest
from prometheus_client.parser import text_string_to_metric_families

from seldon_core.metrics import SeldonMetrics, create_timer
from seldon_core.wrapper import get_metrics_microservice, get_rest_microservice
from seldon_wrapper.metrics import PrometheusRecorder
from seldon_wrapper.settings import Settings

ORIGINAL = json.loads((pathlib.Path(__file__).resolve().parent / "original_api.json").read_text())


def _le_labels(text, family):
    (histogram,) = [f for f in text_string_to_metric_families(text) if f.name == family]
    return [s.labels["le"] for s in histogram.samples if s.name.endswith("_bucket")]


def test_timer_bucket_labels_of_seldon_metrics_are_the_originals():
    seldon_metrics = SeldonMetrics()
    seldon_metrics.update([create_timer("mytimer", 20.2)], "predict")
    text = get_metrics_microservice(seldon_metrics).test_client().get("/metrics").data.decode()
    assert _le_labels(text, "mytimer") == ORIGINAL["timer_bucket_le"]
    assert 'le="0.0018797905611233593"' in text  # numpy 2 would print ...359


def test_timer_bucket_labels_of_the_server_recorder_are_the_originals():
    recorder = PrometheusRecorder(Settings())
    recorder.multiprocess = False
    recorder.record([create_timer("mytimer", 20.2)], "predict")
    assert _le_labels(recorder.exposition().decode(), "mytimer") == ORIGINAL["timer_bucket_le"]


class Model:
    def predict(self, X, names):
        return X


class TaggedModel(Model):
    def tags(self):
        return {"model": "tag"}


@pytest.mark.parametrize("tags", [["a", "b"], "text"])
def test_request_tags_that_are_not_an_object_are_echoed(tags):
    client = get_rest_microservice(Model(), SeldonMetrics()).test_client()
    body = json.dumps({"meta": {"tags": tags}, "data": {"ndarray": [1]}})
    rv = client.post("/predict", data=body, content_type="application/json")
    assert rv.status_code == 200
    assert rv.get_json()["meta"]["tags"] == tags


def test_request_tags_list_with_model_tags_gives_the_model_tags():
    """The original failed with a 500 ('list' object has no attribute 'update')."""
    client = get_rest_microservice(TaggedModel(), SeldonMetrics()).test_client()
    body = json.dumps({"meta": {"tags": ["a"]}, "data": {"ndarray": [1]}})
    rv = client.post("/predict", data=body, content_type="application/json")
    assert rv.status_code == 200
    assert rv.get_json()["meta"]["tags"] == {"model": "tag"}


@pytest.mark.parametrize(
    ("body", "info"),
    [
        ("[1, 2]", "Invalid JSON: Failed to parse 1 field: expected string or bytes-like object, got 'int'."),
        ('"str"', 'Invalid JSON: Message type "seldon.protos.Feedback" has no field named "s"'),
        ("5", "'int' object is not iterable"),  # the original answered it with a 500
    ],
)
def test_feedback_body_not_an_object_gets_the_original_message(body, info):
    client = get_rest_microservice(Model(), SeldonMetrics()).test_client()
    rv = client.post("/send-feedback", data=body, content_type="application/json")
    assert rv.status_code == 400
    status = rv.get_json()["status"]
    assert status["info"].startswith(info)
    assert (status["code"], status["reason"], status["status"]) == (-1, "MICROSERVICE_BAD_DATA", 1)


@pytest.mark.parametrize("body", ["[]", '""'])
def test_feedback_bodies_protobuf_accepts_are_an_empty_feedback(body):
    client = get_rest_microservice(Model(), SeldonMetrics()).test_client()
    rv = client.post("/send-feedback", data=body, content_type="application/json")
    assert rv.status_code == 200
    assert rv.get_json() == {"data": {"tensor": {"shape": [0]}}, "meta": {}}
