"""REST client mistakes end to end (spec 2.2-2.5, DESIGN.md section 3).

The original answered unknown paths, wrong methods, wrong content types and undecodable
payloads with HTTP 500; we answer 4xx with the same Seldon error body
``{"status":{"code":-1,"info":...,"reason":...,"status":1}}``, and the server keeps serving.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import module_server

server = module_server("IdentityModel")

JSON_HEADERS = {"Content-Type": "application/json"}
GOOD_BODY = '{"data":{"ndarray":[[1,2]]}}'
GOOD_ANSWER = '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n'

NOT_FOUND = (
    "404 Not Found: The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again."
)
NOT_ALLOWED = "405 Method Not Allowed: The method is not allowed for the requested URL."
UNSUPPORTED = (
    "415 Unsupported Media Type: Did not attempt to load JSON data because the request Content-Type "
    "was not 'application/json'."
)
NO_JSON = "Can't find JSON in data"


def assert_seldon_error(
    response: requests.Response, status: int, *, info: str | None = None, prefix: str = "", contains=()
) -> str:
    """The v1 error body, byte for byte as jsonify wrote it; returns ``info``."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["status"]
    status_obj = body["status"]
    assert sorted(status_obj) == ["code", "info", "reason", "status"]
    assert status_obj["code"] == -1
    assert status_obj["status"] == 1
    # A client mistake is bad data, never an internal error of the server.
    assert status_obj["reason"] == "MICROSERVICE_BAD_DATA"
    text = status_obj["info"]
    assert isinstance(text, str) and text
    if info is not None:
        assert text == info
    assert text.startswith(prefix)
    for word in contains:
        assert word in text
    assert response.text == json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n"
    return text


def call(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, server.url + path, timeout=10, **kwargs)


# -- unknown paths -> 404 -----------------------------------------------------------------

UNKNOWN_PATHS = [
    ("GET", "/"),
    ("GET", "/nope"),
    ("POST", "/nope"),
    ("DELETE", "/nope"),
    ("GET", "/live"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/prometheus"),
    ("POST", "/combine"),
    ("POST", "/api/v1.0/explain"),
    ("POST", "/v3/models/m/infer"),
    ("POST", "/api/v2.0/predictions"),
]


@pytest.mark.parametrize(("method", "path"), UNKNOWN_PATHS)
def test_unknown_path_is_404(server, method, path):
    response = call(server, method, path, data=GOOD_BODY, headers=JSON_HEADERS)
    assert_seldon_error(response, 404, prefix=NOT_FOUND)


# -- wrong method -> 405 ------------------------------------------------------------------

WRONG_METHODS = [
    ("GET", "/api/v1.0/predictions", "POST"),
    ("GET", "/api/v0.1/predictions", "POST"),
    ("GET", "/api/v1.0/feedback", "POST"),
    ("GET", "/api/v0.1/feedback", "POST"),
    ("PUT", "/predict", "POST"),
    ("DELETE", "/predict", "GET"),
    ("PATCH", "/route", "POST"),
    ("POST", "/health/ping", "GET"),
    ("POST", "/health/status", "GET"),
    ("POST", "/api/v1.0/health/status", "GET"),
    ("POST", "/metadata", "GET"),
    ("POST", "/api/v1.0/metadata", "GET"),
    ("POST", "/seldon.json", "GET"),
]


@pytest.mark.parametrize(("method", "path", "allowed"), WRONG_METHODS)
def test_wrong_method_is_405(server, method, path, allowed):
    response = call(server, method, path, data=GOOD_BODY, headers=JSON_HEADERS)
    assert_seldon_error(response, 405, prefix=NOT_ALLOWED)
    assert allowed in [part.strip() for part in response.headers["Allow"].split(",")]


# -- content type -> 415 --------------------------------------------------------------------

DATA_PATHS = ["/predict", "/transform-input", "/transform-output", "/route", "/aggregate", "/send-feedback"]


@pytest.mark.parametrize("path", DATA_PATHS)
def test_text_plain_body_is_415(server, path):
    response = call(server, "POST", path, data=GOOD_BODY, headers={"Content-Type": "text/plain"})
    assert_seldon_error(response, 415, prefix=UNSUPPORTED)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="empty-post-no-content-type"),
        pytest.param({"data": {"other": GOOD_BODY}}, id="urlencoded-without-json-field"),
        pytest.param({"params": {"json": ""}}, id="empty-json-query"),
        pytest.param(
            {"data": b"\x00\x01", "headers": {"Content-Type": "application/octet-stream"}}, id="bytes"
        ),
        pytest.param({"data": b"<a/>", "headers": {"Content-Type": "application/xml"}}, id="xml"),
    ],
)
def test_post_without_json_is_415(server, kwargs):
    assert_seldon_error(call(server, "POST", "/predict", **kwargs), 415, prefix=UNSUPPORTED)


@pytest.mark.parametrize(
    "path", ["/predict", "/transform-input", "/transform-output", "/route", "/aggregate"]
)
def test_get_without_json_is_415(server, path):
    assert_seldon_error(call(server, "GET", path), 415, prefix=UNSUPPORTED)


# -- JSON content type without usable JSON -> 400 ---------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"null", id="null"),
        pytest.param(b"{not json", id="malformed"),
        pytest.param(b'{"data":', id="truncated"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_json_content_type_without_json_is_400(server, body, method):
    response = call(server, method, "/predict", data=body, headers=JSON_HEADERS)
    assert_seldon_error(response, 400, info=NO_JSON)


DEEP = b'{"data":{"ndarray":' + b"[" * 100_000 + b"1" + b"]" * 100_000 + b"}}"


@pytest.mark.parametrize("body", [DEEP, DEEP.replace(b"1", b"NaN")], ids=["orjson", "stdlib"])
def test_json_nested_too_deeply_is_400_and_the_server_goes_on(server, body):
    response = call(server, "POST", "/api/v1.0/predictions", data=body, headers=JSON_HEADERS)
    assert_seldon_error(response, 400, info=NO_JSON)
    form = call(server, "POST", "/predict", data={"json": body.decode()})
    assert "nested deeper than 1024 levels" in assert_seldon_error(form, 400)
    response = call(server, "POST", "/predict", data=GOOD_BODY, headers=JSON_HEADERS)
    assert response.text == GOOD_ANSWER
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("path", ["/transform-input", "/transform-output", "/api/v1.0/predictions"])
def test_malformed_json_body_on_other_endpoints(server, path):
    response = call(server, "POST", path, data=b"{not json", headers=JSON_HEADERS)
    assert_seldon_error(response, 400, info=NO_JSON)


# -- malformed json= form field / query -> 400 ------------------------------------------------


@pytest.mark.parametrize("value", ["{not json", '{"data":', "[1,2", "undefined"])
def test_malformed_json_form_field_is_400(server, value):
    info = assert_seldon_error(call(server, "POST", "/predict", data={"json": value}), 400)
    assert "json" in info.lower()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_malformed_json_query_is_400(server, method):
    info = assert_seldon_error(call(server, method, "/predict", params={"json": "{not json"}), 400)
    assert "json" in info.lower()


def test_malformed_json_form_field_on_transform_input_is_400(server):
    info = assert_seldon_error(call(server, "POST", "/transform-input", data={"json": "{oops"}), 400)
    assert "json" in info.lower()


# -- multipart mistakes -> 400 ------------------------------------------------------------------


def test_multipart_field_named_json_is_just_a_key(server):
    response = call(server, "POST", "/predict", files={"json": (None, '{"data":{"ndarray":[[1]]}}')})
    assert_seldon_error(
        response, 400, info="Invalid request data type: {'json': {'data': {'ndarray': [[1]]}}}"
    )


def test_multipart_field_with_malformed_json_is_400(server):
    response = call(server, "POST", "/predict", files={"data": (None, "{bad")})
    assert_seldon_error(response, 400, contains=("data",))


def test_multipart_strdata_file_not_utf8_is_400(server):
    response = call(server, "POST", "/predict", files={"strData": ("x.bin", b"\xff\xfe\xfa")})
    assert_seldon_error(response, 400, contains=("strData",))


# -- payloads the model cannot take -> 400 ------------------------------------------------------

BAD_PAYLOADS = [
    pytest.param('{"foo":1}', "Invalid request data type: {'foo': 1}", (), id="unknown-key"),
    pytest.param("[1,2]", "Invalid request data type: [1, 2]", (), id="list"),
    pytest.param('"text"', "Invalid request data type: text", (), id="json-string"),
    pytest.param("3", "Invalid request data type: 3", (), id="json-number"),
    pytest.param(
        '{"meta":{"puid":"p"}}', "Invalid request data type: {'meta': {'puid': 'p'}}", (), id="meta-only"
    ),
    pytest.param('{"data":{"ndarray":[[1,2],[3]]}}', None, ("ndarray",), id="ragged-ndarray"),
    pytest.param('{"data":{"tensor":{"shape":[3],"values":[1,2]}}}', None, ("tensor", "shape"), id="reshape"),
    pytest.param(
        '{"data":{"tensor":{"values":[1,2]}}}', None, ("tensor", "shape"), id="tensor-without-shape"
    ),
    pytest.param('{"binData":"!!notb64"}', None, ("binData",), id="bad-base64"),
]


@pytest.mark.parametrize(("body", "info", "contains"), BAD_PAYLOADS)
@pytest.mark.parametrize(
    "path", ["/predict", "/api/v1.0/predictions", "/transform-input", "/transform-output"]
)
def test_bad_payload_is_400(server, path, body, info, contains):
    response = call(server, "POST", path, data=body, headers=JSON_HEADERS)
    assert_seldon_error(response, 400, info=info, contains=contains)


# -- error responses are ordinary responses ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/nope", {}, 404),
        ("GET", "/api/v1.0/predictions", {}, 405),
        ("POST", "/predict", {"data": "x", "headers": {"Content-Type": "text/plain"}}, 415),
        ("POST", "/predict", {"data": '{"foo":1}', "headers": JSON_HEADERS}, 400),
    ],
)
def test_error_responses_carry_cors_headers(server, method, path, kwargs, status):
    response = call(server, method, path, **kwargs)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    headers = {**kwargs.get("headers", {}), "Origin": "http://a.example"}
    response = call(server, method, path, **{**kwargs, "headers": headers})
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "http://a.example"


MISTAKES = [
    ("GET", "/nope", {}),
    ("POST", "/v3/models/m/infer", {"data": GOOD_BODY, "headers": JSON_HEADERS}),
    ("GET", "/api/v1.0/predictions", {}),
    ("POST", "/health/ping", {}),
    ("PUT", "/predict", {"data": GOOD_BODY, "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": GOOD_BODY, "headers": {"Content-Type": "text/plain"}}),
    ("GET", "/predict", {}),
    ("POST", "/predict", {}),
    ("POST", "/predict", {"data": b"", "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": b"null", "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": b"{not json", "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": {"json": "{not json"}}),
    ("GET", "/predict", {"params": {"json": "{not json"}}),
    ("POST", "/predict", {"files": {"data": (None, "{bad")}}),
    ("POST", "/predict", {"files": {"strData": ("x.bin", b"\xff\xfe")}}),
    ("POST", "/predict", {"data": '{"foo":1}', "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": "[1,2]", "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": '{"data":{"ndarray":[[1,2],[3]]}}', "headers": JSON_HEADERS}),
    (
        "POST",
        "/predict",
        {"data": '{"data":{"tensor":{"shape":[3],"values":[1,2]}}}', "headers": JSON_HEADERS},
    ),
    ("POST", "/predict", {"data": '{"data":{"tensor":{"values":[1,2]}}}', "headers": JSON_HEADERS}),
    ("POST", "/predict", {"data": '{"binData":"!!notb64"}', "headers": JSON_HEADERS}),
    ("POST", "/transform-input", {"data": '{"data":{"ndarray":[[1],[2,3]]}}', "headers": JSON_HEADERS}),
]


def test_server_keeps_serving_after_client_mistakes_without_tracebacks(server):
    for method, path, kwargs in MISTAKES:
        response = call(server, method, path, **kwargs)
        assert 400 <= response.status_code < 500, (method, path, kwargs, response.status_code, response.text)
        assert response.headers["Content-Type"] == "application/json"
        assert list(response.json()) == ["status"]
    response = call(server, "POST", "/predict", data=GOOD_BODY, headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.text == GOOD_ANSWER
    assert requests.get(server.url + "/health/ping", timeout=10).text == "pong"
    assert server.process.poll() is None
    log = server.log()
    assert "Traceback" not in log, log
