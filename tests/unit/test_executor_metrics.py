"""executor/metrics.py: timings tallied in memory come out of a scrape exactly as if each had
been observed on its own (cumulative buckets, count, sum), under the original's labels."""

from __future__ import annotations

import re

import pytest
from prometheus_client import Histogram, Summary
from prometheus_client.parser import text_string_to_metric_families

from seldon_wrapper.executor import graph
from seldon_wrapper.executor.metrics import BUCKETS, CLIENT_SECONDS, SERVER_SECONDS, ExecutorMetrics
from seldon_wrapper.metrics import multiprocess_mode

pytestmark = pytest.mark.skipif(multiprocess_mode(), reason="the in-process registry is read here")

TIMINGS = [0.001, 0.005, 0.0051, 0.3, 0.3, 12.0, 0.07]


def samples(text: bytes, name: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name.startswith(name):
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_tallied_timings_scrape_as_one_by_one_observations():
    predictor = graph.predictor_from_spec({"name": "p", "graph": {"name": "m", "endpoint": {"httpPort": 1}}})
    metrics = ExecutorMetrics("dep", predictor)
    for seconds in TIMINGS:
        metrics.server("predictions", "post", "200", seconds)
        metrics.client("m", "/predict", "post", "200", seconds)
    text = metrics.exposition()

    expected_histogram = Histogram("h", "", registry=None, buckets=BUCKETS)
    expected_summary = Summary("s", "", registry=None)
    for seconds in TIMINGS:
        expected_histogram.observe(seconds)
        expected_summary.observe(seconds)
    want = {}
    for family in (*expected_histogram.collect(), *expected_summary.collect()):
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                want[(re.sub(r"^[hs]", "", sample.name), sample.labels.get("le"))] = sample.value

    for name in (SERVER_SECONDS, CLIENT_SECONDS):
        got = {}
        for (sample, labels), value in samples(text, name).items():
            if sample.endswith("_created"):
                continue
            suffix = sample[len(name) :].replace("_summary", "")
            got[(suffix, dict(labels).get("le"))] = value
        assert got == want, name
    server_labels = next(labels for (sample, labels) in samples(text, SERVER_SECONDS))
    assert dict(server_labels)["deployment_name"] == "dep" and dict(server_labels)["service"] == "predictions"


def test_a_timing_is_in_the_next_scrape_and_never_counted_twice():
    predictor = graph.predictor_from_spec({"name": "p", "graph": {"name": "m", "endpoint": {"httpPort": 1}}})
    metrics = ExecutorMetrics("dep", predictor)
    metrics.server("predictions", "post", "200", 0.01)
    metrics.exposition()
    metrics.flush()
    metrics.server("predictions", "post", "200", 0.02)
    counts = samples(metrics.exposition(), SERVER_SECONDS + "_count")
    assert list(counts.values()) == [2.0]
