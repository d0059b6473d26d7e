"""Helpers for the Prometheus metrics e2e tests: scrape the metrics port and look at series.

A scrape is parsed with prometheus-client's own text parser; a *series* is one sample,
identified by its sample name and its labels (for histograms ``le`` is a label too).
"""

from __future__ import annotations

import json
import math
import pathlib
import time
from collections import Counter
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

REQUESTS_FAMILY = "seldon_api_model_requests"  # exposed as seldon_api_model_requests_total
DURATION_FAMILY = "seldon_api_model_request_duration_seconds"
FEEDBACK_FAMILY = "seldon_api_model_feedback"
REWARD_FAMILY = "seldon_api_model_feedback_reward"
REQUEST_FAMILIES = {REQUESTS_FAMILY, DURATION_FAMILY}

# Spec 6.5: 50 bounds log-spaced from 1 ms to 30 s, then +Inf (51 buckets), as the original's
# /metrics prints them (numpy 1.x's values: numpy 2 computes 13 of them 1 ulp apart).
ORIGINAL_TIMER_LE = json.loads(
    (pathlib.Path(__file__).resolve().parents[1] / "legacy" / "original_api.json").read_text()
)["timer_bucket_le"]
TIMER_BOUNDS = [float(le) for le in ORIGINAL_TIMER_LE[:-1]]

# The Seldon environment the operator injects, and the default labels it yields (spec 6.5).
SELDON_ENV = {
    "PREDICTIVE_UNIT_ID": "mymodel",
    "PREDICTIVE_UNIT_IMAGE": "repo/img:0.3",
    "SELDON_DEPLOYMENT_ID": "dep",
    "PREDICTOR_ID": "pred",
    "PREDICTOR_LABELS": '{"version": "v7"}',
}
SELDON_LABELS = {
    "deployment_name": "dep",
    "model_name": "mymodel",
    "model_image": "repo/img",
    "model_version": "0.3",
    "predictor_name": "pred",
    "predictor_version": "v7",
    "seldon_deployment_name": "dep",
    "image_name": "repo/img",
    "image_version": "0.3",
}
UNSET_LABELS = dict.fromkeys(SELDON_LABELS, "NOT_IMPLEMENTED")


def request_labels(defaults: dict) -> dict:
    """The deployment labels the request metrics carry (a subset of the custom-metric defaults)."""
    return {key: defaults[key] for key in ("model_name", "deployment_name", "predictor_name")}


class Scrape:
    """One parsed exposition."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {}
        for family in text_string_to_metric_families(text):
            assert family.name not in self.families, f"family {family.name} parsed twice"
            self.families[family.name] = family

    def names(self) -> set[str]:
        return set(self.families)

    def types(self) -> dict[str, str]:
        return {name: family.type for name, family in self.families.items()}

    def samples(self, sample_name: str, **labels: str) -> list[Any]:
        """Samples called ``sample_name`` whose labels include ``labels``."""
        return [
            sample
            for family in self.families.values()
            for sample in family.samples
            if sample.name == sample_name and labels.items() <= sample.labels.items()
        ]

    def value(self, sample_name: str, **labels: str) -> float:
        """The value of the one sample that matches (an error if none or several match)."""
        found = self.samples(sample_name, **labels)
        assert len(found) == 1, f"{len(found)} samples {sample_name}{labels}:\n{self.text}"
        return found[0].value

    def total(self, sample_name: str, **labels: str) -> float:
        """The sum over every matching sample (0 when none matches)."""
        return sum(sample.value for sample in self.samples(sample_name, **labels))

    def label_sets(self, family_name: str, exclude: tuple[str, ...] = ("le",)) -> set[frozenset]:
        """The distinct label sets of a family's samples, without the ``exclude`` labels."""
        return {
            frozenset((k, v) for k, v in sample.labels.items() if k not in exclude)
            for sample in self.families[family_name].samples
        }

    def buckets(self, family_name: str, **labels: str) -> list[tuple[str, float]]:
        """A histogram's ``(le, cumulative count)`` pairs for one label set, in exposition order."""
        return [(s.labels["le"], s.value) for s in self.samples(f"{family_name}_bucket", **labels)]

    def header_counts(self) -> Counter:
        """How often each ``# TYPE`` name appears in the raw text."""
        return Counter(line.split()[2] for line in self.text.splitlines() if line.startswith("# TYPE "))


def metrics_get(server: Any, path: str) -> requests.Response:
    """GET on the metrics port; it starts beside the REST server, not before it, so connection
    refusals are retried for a few seconds."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return requests.get(f"http://127.0.0.1:{server.metrics_port}{path}", timeout=10)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def scrape(server: Any, path: str = "/metrics") -> Scrape:
    response = metrics_get(server, path)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return Scrape(response.text)


def labelset(**labels: str) -> frozenset:
    return frozenset(labels.items())


def assert_timer_buckets(buckets: list[tuple[str, float]], observations: list[float]) -> None:
    """A TIMER histogram has spec 6.5's 51 buckets and counts the given observations (seconds).

    The ``le`` texts are the original's, digit for digit, so the last finite one is numerically
    30 but renders as ``29.999999999999996`` (spec 6.5 writes it ``30.0``).
    """
    assert len(buckets) == 51, buckets
    les = [le for le, _ in buckets]
    assert les == ORIGINAL_TIMER_LE, les
    assert les[0] == "0.001"
    assert math.isclose(float(les[-2]), 30.0, rel_tol=1e-12)
    expected = [float(sum(1 for o in observations if o <= bound)) for bound in TIMER_BOUNDS]
    expected.append(float(len(observations)))
    assert [count for _, count in buckets] == expected
