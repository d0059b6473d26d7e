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


@pytest.fixture(params=[True, False], ids=["metrics-in-response", "no-metrics-in-response"])
def client_gets_metrics(monkeypatch, request):
    """The original suite's shared fixture: both module flags patched through the package."""
    import seldon_core
    from seldon_core.wrapper import get_rest_microservice  # noqa: F401 - imports the submodules

    monkeypatch.setattr(seldon_core.seldon_methods, "INCLUDE_METRICS_IN_CLIENT_RESPONSE", request.param)
    monkeypatch.setattr(seldon_core.user_model, "INCLUDE_METRICS_IN_CLIENT_RESPONSE", request.param)
    return request.param
