"""The original's ``seldon_core.flask_utils``: request parsing, JSON responses, the Seldon exception.

Flask is imported on first use (or when one of its names is read from this module), so code that
imports this module only for ``SeldonMicroserviceException`` or the constants stays light.
"""

from __future__ import annotations

# base64, json, HTTPStatus, Dict and Union: names the original's module had.
import base64  # noqa: F401
import json  # noqa: F401
from http import HTTPStatus  # noqa: F401
from typing import Any, Dict, Union  # noqa: F401, UP035

from seldon_core._lazy import lazy_attributes
from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.errors import SeldonMicroserviceException
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

# Flask's names, imported on first read.
__getattr__ = lazy_attributes(
    __name__,
    globals(),
    {
        "current_app": ("flask", "current_app"),
        "request": ("flask", "request"),
        "flask_jsonify": ("flask", "jsonify"),
        "BadRequest": ("werkzeug.exceptions", "BadRequest"),
    },
)


def _rest() -> Any:
    from seldon_wrapper.rest import app

    return app


def get_request(skip_decoding: bool = False) -> Any:
    """The payload of the current Flask request: multipart form, ``json`` field or query, JSON body.

    With ``skip_decoding`` the ``json`` text or the raw body is returned undecoded (PAYLOAD_PASSTHROUGH).
    """
    return _rest().get_request(passthrough=skip_decoding)


def get_multi_form_data_request() -> dict:
    """A multipart/form-data request as a message dict (``strData`` raw, ``binData`` base64, others JSON)."""
    return _rest().multipart_message()


def jsonify(response: Any, skip_encoding: bool = False) -> Any:
    """A JSON response with sorted keys (``skip_encoding``: the body is sent as given)."""
    from flask import Response

    body = response if skip_encoding else seldon_json.dumps(response)
    return Response(body, mimetype=_rest().JSON_MIMETYPE)
