"""The one error policy every front door reports failures with (seldon_wrapper/errors.py)."""

import logging

import pytest

from seldon_wrapper.errors import (
    BAD_METRIC,
    INTERNAL_ERROR,
    SeldonMicroserviceException,
    grpc_status,
    http_status,
    log_failure,
    v1_error_body,
    v2_error_body,
)


def seldon(status, reason="MICROSERVICE_BAD_DATA", message="bad input"):
    return SeldonMicroserviceException(message, status_code=status, reason=reason)


@pytest.mark.parametrize(
    ("exc", "v1", "v2"),
    [
        (seldon(400), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
        (seldon(404), "INVALID_ARGUMENT", "NOT_FOUND"),
        (seldon(415), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
        (seldon(503), "INTERNAL", "UNAVAILABLE"),
        (seldon(500), "INTERNAL", "INTERNAL"),
        (seldon(500, reason=BAD_METRIC), "INVALID_ARGUMENT", "INTERNAL"),
    ],
)
def test_grpc_status_per_protocol(exc, v1, v2):
    assert grpc_status(exc) == (v1, "bad input")
    assert grpc_status(exc, v2=True) == (v2, "bad input")


def test_unexpected_exception_statuses_and_bodies():
    exc = KeyError("x")
    assert grpc_status(exc) == ("UNKNOWN", "Exception calling application: 'x'")
    assert grpc_status(exc, v2=True) == ("INTERNAL", "KeyError: 'x'")
    assert http_status(exc) == 500
    body = v1_error_body(exc)
    assert body == {"status": {"status": 1, "info": "'x'", "code": -1, "reason": INTERNAL_ERROR}}
    assert v2_error_body(exc) == {"error": "KeyError: 'x'"}


def test_seldon_error_bodies_keep_status_and_reason():
    exc = seldon(403, reason="X", message="nope")
    assert http_status(exc) == 403
    assert v1_error_body(exc) == {"status": {"status": 1, "info": "nope", "code": -1, "reason": "X"}}
    assert v2_error_body(exc) == {"error": "nope"}


def test_client_mistake_is_one_info_line_without_traceback(caplog):
    long_message = "first line " + "x" * 500 + "\nsecond line"
    with caplog.at_level(logging.DEBUG, logger="seldon_wrapper.errors"):
        log_failure("POST /predict", seldon(400, message=long_message))
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    text = caplog.records[0].getMessage()
    assert text.startswith("POST /predict rejected: first line ")
    assert "second line" not in text and len(text) < 250
    assert caplog.records[0].exc_info is None


def test_server_failure_is_an_error_line_with_traceback_at_debug_only(caplog):
    with caplog.at_level(logging.INFO, logger="seldon_wrapper.errors"):
        log_failure("gRPC Predict", ValueError("boom"))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "gRPC Predict failed: ValueError: boom")
    ]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="seldon_wrapper.errors"):
        log_failure("gRPC Predict", ValueError("boom"))
    assert caplog.records[-1].levelno == logging.DEBUG and caplog.records[-1].exc_info


def test_seldon_server_error_names_its_reason(caplog):
    with caplog.at_level(logging.INFO, logger="seldon_wrapper.errors"):
        log_failure("V2 gRPC ModelInfer", seldon(500, reason="MICROSERVICE_BAD_METRIC", message="m"))
    assert caplog.records[0].levelno == logging.ERROR
    assert caplog.records[0].getMessage() == "V2 gRPC ModelInfer failed: m (MICROSERVICE_BAD_METRIC)"
