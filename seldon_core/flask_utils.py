"""The original's ``seldon_core.flask_utils``: request parsing, JSON responses, the Seldon exception."""

from __future__ import annotations

from typing import Any

from flask import Response

from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.rest import app as _rest
from seldon_wrapper.settings import (
    ANNOTATION_GRPC_MAX_MSG_SIZE,
    ANNOTATION_REST_TIMEOUT,
)
from seldon_wrapper.settings import DEFAULT_ANNOTATIONS_FILE as ANNOTATIONS_FILE
from seldon_wrapper.settings import DEFAULT_REST_TIMEOUT_S as DEFAULT_ANNOTATION_REST_TIMEOUT

__all__ = [
    "ANNOTATIONS_FILE",
    "ANNOTATION_GRPC_MAX_MSG_SIZE",
    "ANNOTATION_REST_TIMEOUT",
    "DEFAULT_ANNOTATION_REST_TIMEOUT",
    "SeldonMicroserviceException",
    "get_multi_form_data_request",
    "get_request",
    "jsonify",
]


def get_request(skip_decoding: bool = False) -> Any:
    """The payload of the current Flask request: multipart form, ``json`` field or query, JSON body.

    With ``skip_decoding`` the ``json`` text or the raw body is returned undecoded (PAYLOAD_PASSTHROUGH).
    """
    return _rest.get_request(passthrough=skip_decoding)


def get_multi_form_data_request() -> dict:
    """A multipart/form-data request as a message dict (``strData`` raw, ``binData`` base64, others JSON)."""
    return _rest.multipart_message()


def jsonify(response: Any, skip_encoding: bool = False) -> Response:
    """A JSON response with sorted keys (``skip_encoding``: the body is sent as given)."""
    body = response if skip_encoding else seldon_json.dumps(response)
    return Response(body, mimetype=_rest.JSON_MIMETYPE)
