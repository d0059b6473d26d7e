"""The prometheus-adapter rule of deploy/autoscaling, read the way the adapter reads it, and
Prometheus' label matching, so tests can check the rule against a real scrape."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from tests.deploy.validation import DEPLOY, load_manifests

RULES_FILE = DEPLOY / "autoscaling" / "prometheus-adapter-rules.yaml"
#: Labels Prometheus' Kubernetes service discovery adds to every scraped series (the scrape
#: job's relabelling); the wrapper does not export them, so a scrape of the pod lacks them.
DISCOVERY_LABELS = frozenset({"namespace", "pod"})
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_TEMPLATE = re.compile(r"<<[^>]*>>")


@dataclass(frozen=True)
class Matcher:
    """One PromQL label matcher, e.g. ``endpoint!~"/health/.*"``."""

    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        """Prometheus semantics: a missing label is "", regular expressions are anchored."""
        actual = labels.get(self.label, "")
        pattern = bytes(self.value, "utf-8").decode("unicode_escape")
        if self.op == "=":
            return actual == pattern
        if self.op == "!=":
            return actual != pattern
        found = re.fullmatch(pattern, actual) is not None
        return found if self.op == "=~" else not found


def load_rules() -> list[dict]:
    """The ``rules`` of the adapter's config.yaml, from the ConfigMap."""
    (config_map,) = [m.doc for m in load_manifests() if m.path == RULES_FILE]
    return yaml.safe_load(config_map["data"]["config.yaml"])["rules"]


def series_name(rule: dict) -> str:
    """The metric the rule's seriesQuery selects."""
    return rule["seriesQuery"].split("{", 1)[0].strip()


def metric_name(rule: dict) -> str:
    """The custom metric's name: ``name.matches`` / ``name.as`` applied to the series name."""
    replacement = re.sub(
        r"\$\{(\d+)\}|\$(\d+)", lambda m: rf"\g<{m.group(1) or m.group(2)}>", rule["name"]["as"]
    )
    return re.sub(rule["name"]["matches"], replacement, series_name(rule))


def matchers(rule: dict) -> list[Matcher]:
    """Every literal label matcher of the seriesQuery and metricsQuery (templates left out)."""
    text = rule["seriesQuery"] + " " + _TEMPLATE.sub("", rule["metricsQuery"])
    return [Matcher(*found) for found in _MATCHER.findall(text)]


def group_by_labels(rule: dict) -> set[str]:
    """Labels named in the metricsQuery's ``by (...)`` clauses (``<<.GroupBy>>`` is the resources)."""
    labels: set[str] = set()
    for clause in re.findall(r"\bby\s*\(([^)]*)\)", rule["metricsQuery"]):
        for part in _TEMPLATE.sub("", clause).split(","):
            if part.strip():
                labels.add(part.strip())
    return labels


def resource_labels(rule: dict) -> set[str]:
    """The labels the rule maps to Kubernetes resources (``resources.overrides``)."""
    return set(rule["resources"]["overrides"])
