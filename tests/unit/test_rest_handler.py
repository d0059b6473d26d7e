"""The Flask-free v1 REST handler shared by the Flask routes and the WSGI fast entry (rest/handler.py)."""

import pytest

from seldon_wrapper.rest.handler import cors_headers, is_json_mimetype, status_from_response


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/vnd.seldon+json", True),
        ("text/json", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_json_content_types(content_type, expected):
    assert is_json_mimetype(content_type) is expected


def test_cors_echoes_a_named_origin_and_varies_on_it():
    assert cors_headers("https://a.example", "POST", None) == [
        ("Access-Control-Allow-Origin", "https://a.example"),
        ("Vary", "Origin"),
    ]
    assert cors_headers(None, "GET", "X-Ignored") == [("Access-Control-Allow-Origin", "*")]


def test_cors_preflight_lists_methods_and_echoes_requested_headers():
    headers = dict(cors_headers(None, "OPTIONS", "Content-Type, X-Trace"))
    assert headers["Access-Control-Allow-Methods"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type, X-Trace"


@pytest.mark.parametrize(
    ("response", "status"),
    [({"status": {"code": 201}}, 201), ({"status": {"code": 42}}, 200), ({"status": "x"}, 200), ([1], 200)],
)
def test_predict_answer_may_set_its_status(response, status):
    assert status_from_response(response) == status
