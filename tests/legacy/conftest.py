"""Legacy tests: code written against the original ``seldon_core`` API, run against our adapters.

Every test runs in-process (Flask test clients, in-process gRPC servicers). The Seldon environment
variables that change responses are cleared so each test sets exactly what it needs.
"""

import pytest

_SELDON_ENV = (
    "PREDICTIVE_UNIT_ID",
    "PREDICTIVE_UNIT_IMAGE",
    "PREDICTIVE_UNIT_METRICS_ENDPOINT",
    "PREDICTOR_ID",
    "PREDICTOR_LABELS",
    "SELDON_DEPLOYMENT_ID",
    "SELDON_EXECUTOR_ENABLED",
    "PAYLOAD_PASSTHROUGH",
    "MODEL_METADATA",
)


@pytest.fixture(autouse=True)
def _clean_seldon_env(monkeypatch, tmp_path):
    for name in _SELDON_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SELDON_ANNOTATIONS_FILE", str(tmp_path / "no-annotations"))
