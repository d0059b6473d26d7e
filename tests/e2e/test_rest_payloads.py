"""REST payloads end to end: spec 2.8 worked examples, request forms (2.3), response
properties (2.1), requestPath from the environment, and PAYLOAD_PASSTHROUGH (2.3.4).

Every success is compared byte for byte: the original answered with Flask's ``jsonify``
(compact, keys sorted at every level, ``\\uXXXX`` escapes, one trailing newline).
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import requests

from tests.conftest import module_server

server = module_server("IdentityModel")
path_server = module_server(
    "IdentityModel", env={"PREDICTIVE_UNIT_ID": "mymodel", "PREDICTIVE_UNIT_IMAGE": "myrepo/myimage:0.3"}
)
metrics_server = module_server("CounterMetricsModel")
passthrough_server = module_server("PassthroughModel", env={"PAYLOAD_PASSTHROUGH": "true"})
passthrough_plain_server = module_server("IdentityModel", env={"PAYLOAD_PASSTHROUGH": "true"})

JSON_HEADERS = {"Content-Type": "application/json"}
ENV_REQUEST_PATH = {"mymodel": "myrepo/myimage:0.3"}


def post_json(server, body: str | bytes, path: str = "/predict", headers=None) -> requests.Response:
    if isinstance(body, str):
        body = body.encode("utf-8")
    return requests.post(
        server.url + path, data=body, headers={**JSON_HEADERS, **(headers or {})}, timeout=10
    )


def jsonify_text(obj) -> str:
    """What Flask's jsonify writes for ``obj`` (the original's serialiser)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"


def assert_ok(response: requests.Response, expected_text: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == expected_text


def assert_seldon_error(response, status: int, *, info: str | None = None, contains=()) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["status"]
    assert body["status"]["code"] == -1
    assert body["status"]["status"] == 1
    assert body["status"]["reason"] == "MICROSERVICE_BAD_DATA"
    assert isinstance(body["status"]["info"], str)
    if info is not None:
        assert body["status"]["info"] == info
    for word in contains:
        assert word in body["status"]["info"]
    assert response.text == jsonify_text(body)
    return body


# -- spec 2.8: worked examples (default env, identity predict) ---------------------------

OK_EXAMPLES = [
    pytest.param(
        '{"data":{"ndarray":[[1,2],[3,4]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2],[3,4]]},"meta":{}}',
        id="ndarray-ints",
    ),
    pytest.param(
        '{"data":{"names":["a","b"],"ndarray":[[1.0,2.5]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1.0,2.5]]},"meta":{}}',
        id="ndarray-floats-names-replaced",
    ),
    pytest.param(
        '{"data":{"tensor":{"shape":[2,2],"values":[1,2,3,4]}}}',
        '{"data":{"names":["t:0","t:1"],"tensor":{"shape":[2,2],"values":[1,2,3,4]}},"meta":{}}',
        id="tensor",
    ),
    pytest.param(
        '{"data":{"ndarray":[1,2,3]}}',
        '{"data":{"names":[],"ndarray":[1,2,3]},"meta":{}}',
        id="ndarray-1d",
    ),
    pytest.param(
        '{"data":{"ndarray":[[1,"b"]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[["1","b"]]},"meta":{}}',
        id="ndarray-mixed-to-strings",
    ),
    pytest.param('{"strData":"hello"}', '{"meta":{},"strData":"hello"}', id="strData"),
    pytest.param('{"binData":"AAFhYmM="}', '{"binData":"AAFhYmM=","meta":{}}', id="binData"),
    pytest.param('{"jsonData":{"a":[1,2]}}', '{"jsonData":{"a":[1,2]},"meta":{}}', id="jsonData"),
    pytest.param('{"data":{}}', '{"data":{"names":[],"ndarray":[]},"meta":{}}', id="empty-data"),
    pytest.param(
        '{"meta":{"puid":"p1","tags":{"t":"v"},"routing":{"r":1},"requestPath":{"a":"img"},'
        '"metrics":[{"key":"k","type":"GAUGE","value":1}]},"data":{"ndarray":[[1]]}}',
        '{"data":{"names":["t:0"],"ndarray":[[1]]},"meta":{"metrics":[{"key":"k","type":"GAUGE","value":1}],'
        '"puid":"p1","requestPath":{"a":"img"},"tags":{"t":"v"}}}',
        id="meta-echoed-routing-dropped",
    ),
]


def _send(server, transport: str, body: str) -> requests.Response:
    if transport.startswith("json-body:"):
        return post_json(server, body, path=transport.split(":", 1)[1])
    if transport == "form-field":
        return requests.post(server.url + "/predict", data={"json": body}, timeout=10)
    if transport == "get-query":
        return requests.get(server.url + "/predict", params={"json": body}, timeout=10)
    if transport == "post-query":
        return requests.post(server.url + "/predict", params={"json": body}, timeout=10)
    raise AssertionError(transport)


TRANSPORTS = [
    "json-body:/predict",
    "json-body:/api/v1.0/predictions",
    "json-body:/api/v0.1/predictions",
    "form-field",
    "get-query",
    "post-query",
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("request_body", "expected"), OK_EXAMPLES)
def test_worked_example(server, transport, request_body, expected):
    assert_ok(_send(server, transport, request_body), expected + "\n")


ERROR_EXAMPLES = [
    pytest.param('{"foo":1}', "Invalid request data type: {'foo': 1}", (), id="unknown-key"),
    pytest.param("[1,2]", "Invalid request data type: [1, 2]", (), id="list-body"),
    # The original answered these client mistakes with 500; the policy makes them 400.
    pytest.param('{"data":{"ndarray":[[1,2],[3]]}}', None, ("ndarray",), id="ragged-ndarray"),
    pytest.param('{"data":{"tensor":{"shape":[3],"values":[1,2]}}}', None, ("tensor", "shape"), id="reshape"),
    pytest.param('{"data":{"tensor":{"values":[1,2]}}}', None, ("tensor", "shape"), id="tensor-no-shape"),
    pytest.param('{"binData":"!!notb64"}', None, ("binData",), id="bad-base64"),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("request_body", "info", "contains"), ERROR_EXAMPLES)
def test_worked_error_example(server, transport, request_body, info, contains):
    assert_seldon_error(_send(server, transport, request_body), 400, info=info, contains=contains)


TFTENSORS = [
    pytest.param(
        {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "1"}, {"size": "2"}]}, "floatVal": [1, 2]},
        np.float32,
        [[1.0, 2.0]],
        ["t:0", "t:1"],
        id="float-2d",
    ),
    pytest.param(
        {"dtype": "DT_INT32", "tensorShape": {"dim": [{"size": "3"}]}, "intVal": [3, 4, 5]},
        np.int32,
        [3, 4, 5],
        [],
        id="int32-1d",
    ),
    pytest.param(
        {
            "dtype": "DT_DOUBLE",
            "tensorShape": {"dim": [{"size": "2"}, {"size": "1"}]},
            "tensorContent": base64.b64encode(np.array([0.5, -2.25]).tobytes()).decode(),
        },
        np.float64,
        [[0.5], [-2.25]],
        ["t:0"],
        id="double-tensor-content",
    ),
]


def _tftensor_values(tftensor: dict, dtype) -> np.ndarray:
    shape = [int(dim["size"]) for dim in tftensor["tensorShape"]["dim"]]
    if "tensorContent" in tftensor:
        flat = np.frombuffer(base64.b64decode(tftensor["tensorContent"]), dtype=dtype)
    else:
        field = {np.float32: "floatVal", np.float64: "doubleVal", np.int32: "intVal"}[dtype]
        flat = np.array(tftensor[field], dtype=dtype)
    return flat.reshape(shape)


@pytest.mark.parametrize(("tftensor", "dtype", "values", "names"), TFTENSORS)
def test_tftensor_round_trip_without_tensorflow(server, tftensor, dtype, values, names):
    response = post_json(server, json.dumps({"data": {"tftensor": tftensor}}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {}
    assert body["data"]["names"] == names
    answer = body["data"]["tftensor"]
    assert answer["dtype"] == tftensor["dtype"]
    assert answer["tensorShape"] == tftensor["tensorShape"]
    decoded = _tftensor_values(answer, dtype)
    assert decoded.tolist() == values
    assert response.text == jsonify_text(body)


# -- spec 2.8: environment-dependent examples ---------------------------------------------


def _with_request_path(expected: str, request_path: dict) -> str:
    body = json.loads(expected)
    body["meta"]["requestPath"] = {**request_path, **body["meta"].get("requestPath", {})}
    return jsonify_text(body)


@pytest.mark.parametrize(("request_body", "expected"), OK_EXAMPLES)
def test_env_request_path_in_every_predict_response(path_server, request_body, expected):
    response = post_json(path_server, request_body)
    assert_ok(response, _with_request_path(expected, ENV_REQUEST_PATH))
    assert response.json()["meta"]["requestPath"]["mymodel"] == "myrepo/myimage:0.3"


@pytest.mark.parametrize("path", ["/transform-input", "/transform-output"])
def test_env_request_path_on_transforms(path_server, path):
    response = post_json(path_server, '{"data":{"ndarray":[[1,2]]}}', path=path)
    assert_ok(
        response,
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},'
        '"meta":{"requestPath":{"mymodel":"myrepo/myimage:0.3"}}}\n',
    )


@pytest.mark.parametrize("path", ["/health/status", "/api/v1.0/health/status"])
def test_env_request_path_on_health_status(path_server, path):
    response = requests.get(path_server.url + path, timeout=10)
    assert_ok(response, '{"meta":{"requestPath":{"mymodel":"myrepo/myimage:0.3"}},"strData":"healthy"}\n')


def test_request_request_path_overrides_env_entry(path_server):
    response = post_json(
        path_server, '{"meta":{"requestPath":{"mymodel":"other:1","up":"x:2"}},"strData":"s"}'
    )
    assert_ok(response, '{"meta":{"requestPath":{"mymodel":"other:1","up":"x:2"}},"strData":"s"}\n')


def test_no_request_path_without_env(server):
    assert_ok(post_json(server, '{"strData":"s"}'), '{"meta":{},"strData":"s"}\n')
    assert_ok(requests.get(server.url + "/health/status", timeout=10), '{"meta":{},"strData":"healthy"}\n')


def test_static_counter_metric_in_response_meta(metrics_server):
    response = post_json(metrics_server, '{"data":{"ndarray":[[1,2]]}}')
    assert_ok(
        response,
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},'
        '"meta":{"metrics":[{"key":"reqs","type":"COUNTER","value":1}]}}\n',
    )


def test_request_metrics_come_before_static_metrics(metrics_server):
    response = post_json(
        metrics_server, '{"meta":{"metrics":[{"key":"k","type":"GAUGE","value":2}]},"strData":"x"}'
    )
    assert_ok(
        response,
        '{"meta":{"metrics":[{"key":"k","type":"GAUGE","value":2},{"key":"reqs","type":"COUNTER","value":1}]},'
        '"strData":"x"}\n',
    )


# -- spec 3.2 / 3.4 / 3.11: more decoding and encoding cases through the identity model -----

CODEC_CASES = [
    pytest.param(
        '{"strData":"x","data":{"ndarray":[[1]]}}',
        '{"data":{"names":["t:0"],"ndarray":[[1]]},"meta":{}}',
        id="data-wins-over-strData",
    ),
    pytest.param(
        '{"jsonData":{"k":1},"strData":"x"}',
        '{"jsonData":{"k":1},"meta":{}}',
        id="jsonData-wins-over-strData",
    ),
    pytest.param(
        '{"strData":"x","binData":"AAE="}', '{"meta":{},"strData":"x"}', id="strData-wins-over-binData"
    ),
    pytest.param(
        '{"meta":{"puid":123},"strData":"x"}', '{"meta":{"puid":123},"strData":"x"}', id="puid-number"
    ),
    pytest.param('{"meta":{"puid":""},"strData":"x"}', '{"meta":{},"strData":"x"}', id="empty-puid-dropped"),
    pytest.param(
        '{"status":{"code":400,"status":"FAILURE"},"strData":"x"}',
        '{"meta":{},"strData":"x"}',
        id="request-status-not-propagated",
    ),
    pytest.param(
        '{"data":{"ndarray":[["a","b"]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[["a","b"]]},"meta":{}}',
        id="ndarray-strings",
    ),
    pytest.param(
        '{"data":{"ndarray":[[true,false]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[[true,false]]},"meta":{}}',
        id="ndarray-bools",
    ),
    pytest.param(
        '{"data":{"ndarray":[[1,null]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1,null]]},"meta":{}}',
        id="ndarray-null",
    ),
    pytest.param(
        '{"data":{"ndarray":[[1,2.5]]}}',
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1.0,2.5]]},"meta":{}}',
        id="ndarray-int-float-widened",
    ),
    pytest.param(
        '{"data":{"ndarray":[[[1,2,3]]]}}',
        '{"data":{"names":["t:0"],"ndarray":[[[1,2,3]]]},"meta":{}}',
        id="ndarray-3d-names-from-shape1",
    ),
    pytest.param(
        '{"data":{"tensor":{"shape":[1,2],"values":[0.5,1]}}}',
        '{"data":{"names":["t:0","t:1"],"tensor":{"shape":[1,2],"values":[0.5,1.0]}},"meta":{}}',
        id="tensor-floats",
    ),
    pytest.param(
        '{"data":{"tensor":{"shape":[3],"values":[1,2,3]}}}',
        '{"data":{"names":[],"tensor":{"shape":[3],"values":[1,2,3]}},"meta":{}}',
        id="tensor-1d",
    ),
    pytest.param(
        '{"data":{"names":["a"]}}', '{"data":{"names":[],"ndarray":[]},"meta":{}}', id="data-only-names"
    ),
    pytest.param(
        '{"jsonData":[1,2]}',
        '{"data":{"names":[],"tensor":{"shape":[2],"values":[1,2]}},"meta":{}}',
        id="jsonData-list-becomes-tensor",
    ),
    pytest.param(
        '{"jsonData":[["a"]]}',
        '{"data":{"names":["t:0"],"ndarray":[["a"]]},"meta":{}}',
        id="jsonData-string-list-becomes-ndarray",
    ),
    pytest.param('{"jsonData":"s"}', '{"meta":{},"strData":"s"}', id="jsonData-string-becomes-strData"),
    pytest.param(
        '{"meta":{"tags":{"z":1,"a":{"y":true,"x":[2]}}},"strData":"x"}',
        '{"meta":{"tags":{"a":{"x":[2],"y":true},"z":1}},"strData":"x"}',
        id="tags-sorted",
    ),
]


@pytest.mark.parametrize(("request_body", "expected"), CODEC_CASES)
def test_codec_case(server, request_body, expected):
    assert_ok(post_json(server, request_body), expected + "\n")


def test_identity_json_number_is_unknown_payload_type(server):
    assert_seldon_error(
        post_json(server, '{"jsonData":5}'),
        400,
        info="Unknown data type returned as payload (must be list or np array):5",
    )


# -- spec 2.3: request forms --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.seldon+json", "application/json"]
)
def test_json_content_types_accepted(server, content_type):
    response = requests.post(
        server.url + "/predict",
        data=b'{"strData":"hi"}',
        headers={"Content-Type": content_type},
        timeout=10,
    )
    assert_ok(response, '{"meta":{},"strData":"hi"}\n')


def test_get_with_json_content_type_and_body(server):
    response = requests.get(
        server.url + "/predict", data=b'{"strData":"hi"}', headers=JSON_HEADERS, timeout=10
    )
    assert_ok(response, '{"meta":{},"strData":"hi"}\n')


def test_form_field_wins_over_query(server):
    response = requests.post(
        server.url + "/predict",
        params={"json": '{"strData":"from-query"}'},
        data={"json": '{"strData":"from-form"}'},
        timeout=10,
    )
    assert_ok(response, '{"meta":{},"strData":"from-form"}\n')


def test_query_json_wins_over_json_body(server):
    response = requests.post(
        server.url + "/predict",
        params={"json": '{"strData":"from-query"}'},
        data=b'{"strData":"from-body"}',
        headers=JSON_HEADERS,
        timeout=10,
    )
    assert_ok(response, '{"meta":{},"strData":"from-query"}\n')


@pytest.mark.parametrize("path", ["/transform-input", "/transform-output"])
def test_form_field_and_query_on_other_endpoints(server, path):
    expected = '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n'
    body = '{"data":{"ndarray":[[1,2]]}}'
    assert_ok(requests.post(server.url + path, data={"json": body}, timeout=10), expected)
    assert_ok(requests.get(server.url + path, params={"json": body}, timeout=10), expected)


def test_multipart_strdata_file(server):
    response = requests.post(
        server.url + "/predict", files={"strData": ("note.txt", b"hello world\n")}, timeout=10
    )
    assert_ok(response, '{"meta":{},"strData":"hello world\\n"}\n')


def test_multipart_strdata_file_decoded_as_utf8(server):
    response = requests.post(
        server.url + "/predict", files={"strData": ("note.txt", "héllo wörld €".encode())}, timeout=10
    )
    assert response.status_code == 200
    assert response.json() == {"meta": {}, "strData": "héllo wörld €"}


def test_multipart_bindata_file_comes_back_base64(server):
    raw = bytes(range(256)) + b"\x00tail"
    response = requests.post(
        server.url + "/predict",
        files={"binData": ("blob.bin", raw, "application/octet-stream")},
        timeout=10,
    )
    assert_ok(response, jsonify_text({"binData": base64.b64encode(raw).decode("ascii"), "meta": {}}))
    assert base64.b64decode(response.json()["binData"]) == raw


def test_multipart_form_fields_parsed_as_json(server):
    response = requests.post(
        server.url + "/predict",
        files={
            "data": (None, '{"names":["a","b"],"ndarray":[[1,2]]}'),
            "meta": (None, '{"puid":"1234","tags":{"b":2,"a":1}}'),
        },
        timeout=10,
    )
    assert_ok(
        response,
        '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{"puid":"1234","tags":{"a":1,"b":2}}}\n',
    )


def test_multipart_strdata_form_field_is_raw_string(server):
    response = requests.post(server.url + "/predict", files={"strData": (None, "not {json")}, timeout=10)
    assert_ok(response, '{"meta":{},"strData":"not {json"}\n')


def test_multipart_file_overrides_same_named_field(server):
    response = requests.post(
        server.url + "/predict",
        files=[("strData", (None, "from-field")), ("strData", ("f.txt", b"from-file"))],
        timeout=10,
    )
    assert_ok(response, '{"meta":{},"strData":"from-file"}\n')


def test_multipart_on_transform_input(server):
    response = requests.post(
        server.url + "/transform-input",
        files={"data": (None, '{"tensor":{"shape":[1,1],"values":[7]}}')},
        timeout=10,
    )
    assert_ok(response, '{"data":{"names":["t:0"],"tensor":{"shape":[1,1],"values":[7]}},"meta":{}}\n')


# -- spec 2.1: response properties ---------------------------------------------------------


def test_keys_sorted_at_every_level_inside_json_data(server):
    response = post_json(server, '{"jsonData":{"b":1,"a":{"d":1,"c":2}}}')
    assert_ok(response, '{"jsonData":{"a":{"c":2,"d":1},"b":1},"meta":{}}\n')


def test_non_ascii_escaped_as_json_escapes(server):
    response = post_json(server, '{"strData":"héllo €"}')
    assert_ok(response, '{"meta":{},"strData":"h\\u00e9llo \\u20ac"}\n')
    assert response.content.isascii()


def test_non_ascii_escaped_inside_json_data(server):
    response = post_json(server, '{"jsonData":{"ключ":"значение ✓"}}')
    assert_ok(response, jsonify_text({"jsonData": {"ключ": "значение ✓"}, "meta": {}}))
    assert response.content.isascii()


def test_nan_and_infinity_tokens(server):
    response = post_json(server, '{"data":{"ndarray":[[NaN,Infinity,-Infinity,1.5]]}}')
    assert_ok(
        response,
        '{"data":{"names":["t:0","t:1","t:2","t:3"],"ndarray":[[NaN,Infinity,-Infinity,1.5]]},"meta":{}}\n',
    )


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        pytest.param(
            '{"data":{"ndarray":[[1e-7,1e+20,0.1]]}}',
            '{"data":{"names":["t:0","t:1","t:2"],"ndarray":[[1e-07,1e+20,0.1]]},"meta":{}}',
            id="ndarray",
        ),
        pytest.param(
            '{"data":{"tensor":{"shape":[2],"values":[1e-7,2.5e-10]}}}',
            '{"data":{"names":[],"tensor":{"shape":[2],"values":[1e-07,2.5e-10]}},"meta":{}}',
            id="tensor",
        ),
        pytest.param('{"jsonData":{"x":1e-7}}', '{"jsonData":{"x":1e-07},"meta":{}}', id="jsonData"),
    ],
)
def test_float_exponents_keep_their_values(server, request_body, expected):
    """Exponent floats parse to the original's values (``1e-7`` and ``1e-07`` are the same
    number; the byte form is a documented deviation in docs/compatibility.md)."""
    response = post_json(server, request_body)
    assert response.status_code == 200
    assert response.json() == json.loads(expected)


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        pytest.param(
            '{"jsonData":{"big":18446744073709551616,"neg":-9223372036854775809}}',
            '{"jsonData":{"big":18446744073709551616,"neg":-9223372036854775809},"meta":{}}',
            id="jsonData",
        ),
        pytest.param(
            '{"data":{"ndarray":[[18446744073709551616]]}}',
            '{"data":{"names":["t:0"],"ndarray":[[18446744073709551616]]},"meta":{}}',
            id="ndarray",
        ),
        pytest.param(
            '{"data":{"ndarray":[[9223372036854775808]]}}',
            '{"data":{"names":["t:0"],"ndarray":[[9223372036854775808]]},"meta":{}}',
            id="ndarray-uint64",
        ),
    ],
)
def test_integers_beyond_64_bits_stay_exact(server, request_body, expected):
    """Python's json kept big integers exact; they must not turn into floats."""
    assert_ok(post_json(server, request_body), expected + "\n")


def test_cors_wildcard_without_origin(server):
    response = post_json(server, '{"strData":"x"}')
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origin_echoed_with_vary(server):
    response = post_json(server, '{"strData":"x"}', headers={"Origin": "http://a.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://a.example"
    assert "Origin" in [part.strip() for part in response.headers["Vary"].split(",")]


def test_cors_preflight(server):
    response = requests.options(
        server.url + "/api/v1.0/predictions",
        headers={
            "Origin": "http://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "http://a.example"
    methods = [m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")]
    assert "POST" in methods
    assert response.headers["Access-Control-Allow-Headers"].lower() == "content-type"


def test_health_ping(server):
    response = requests.get(server.url + "/health/ping", timeout=10)
    assert response.status_code == 200
    assert response.text == "pong"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


def test_openapi_document(server):
    response = requests.get(server.url + "/seldon.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.0.")
    assert document["info"]["title"] == "Seldon External API"
    assert {
        "/predict",
        "/route",
        "/aggregate",
        "/send-feedback",
        "/transform-input",
        "/transform-output",
    } <= set(document["paths"])


# -- spec 2.3.4: PAYLOAD_PASSTHROUGH --------------------------------------------------------


@pytest.mark.parametrize("path", ["/predict", "/api/v1.0/predictions", "/api/v0.1/predictions"])
def test_passthrough_json_body_returned_verbatim(passthrough_server, path):
    raw = b'{"z": 1,   "a": [1.50, 2],\n "\\u00e9": NaN}'
    response = post_json(passthrough_server, raw, path=path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == raw


def test_passthrough_binary_body_returned_verbatim(passthrough_server):
    raw = bytes(range(256))
    response = requests.post(
        passthrough_server.url + "/predict",
        data=raw,
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == raw


def test_passthrough_text_plain_body_is_not_rejected(passthrough_server):
    response = requests.post(
        passthrough_server.url + "/predict",
        data=b"just text",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.content == b"just text"


def test_passthrough_json_form_field_passed_as_raw_string(passthrough_server):
    raw = '{"b": 2,  "a": 1}'
    response = requests.post(passthrough_server.url + "/predict", data={"json": raw}, timeout=10)
    assert response.status_code == 200
    assert response.text == raw


def test_passthrough_json_query_passed_as_raw_string(passthrough_server):
    raw = '{"b": 2,  "a": 1}'
    response = requests.get(passthrough_server.url + "/predict", params={"json": raw}, timeout=10)
    assert response.status_code == 200
    assert response.text == raw


def test_passthrough_empty_body_cannot_find_data(passthrough_server):
    response = requests.post(passthrough_server.url + "/predict", data=b"", headers=JSON_HEADERS, timeout=10)
    assert_seldon_error(response, 400, info="Can't find data")


def test_passthrough_urlencoded_without_json_field_cannot_find_data(passthrough_server):
    response = requests.post(passthrough_server.url + "/predict", data={"a": "1"}, timeout=10)
    assert_seldon_error(response, 400, info="Can't find data")


def test_passthrough_leaves_other_endpoints_decoded(passthrough_server):
    response = post_json(passthrough_server, '{"data":{"ndarray":[[1,2]]}}', path="/transform-input")
    assert_ok(response, '{"data":{"names":["t:0","t:1"],"ndarray":[[1,2]]},"meta":{}}\n')


def test_passthrough_with_plain_predict_model_rejects_bytes(passthrough_plain_server):
    response = post_json(passthrough_plain_server, '{"data":{"ndarray":[[1,2]]}}')
    assert_seldon_error(response, 400, info='Invalid request data type: b\'{"data":{"ndarray":[[1,2]]}}\'')


def test_passthrough_with_plain_predict_model_rejects_form_string(passthrough_plain_server):
    response = requests.post(
        passthrough_plain_server.url + "/predict", data={"json": '{"data":{"ndarray":[[1]]}}'}, timeout=10
    )
    assert_seldon_error(response, 400, info='Invalid request data type: {"data":{"ndarray":[[1]]}}')


def test_passthrough_with_plain_predict_model_still_serves_transforms(passthrough_plain_server):
    response = post_json(passthrough_plain_server, '{"strData":"x"}', path="/transform-output")
    assert_ok(response, '{"meta":{},"strData":"x"}\n')
