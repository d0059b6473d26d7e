"""The OpenAPI document served at /seldon.json: valid, complete, and true to what the app answers."""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.rest.app import create_app
from seldon_wrapper.settings import Settings

DOCUMENT_PATH = pathlib.Path(__file__).parents[2] / "seldon_wrapper" / "rest" / "seldon.json"
DOCUMENT_URI = "urn:seldon-wrapper:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}


class Model:
    """A small user model exercising every operation, custom tags and custom metrics."""

    def predict(self, X, names, meta=None):
        return X

    def route(self, X, names):
        return 0

    def aggregate(self, features_list, names_list):
        return features_list[0]

    def send_feedback(self, features, names, reward, truth, routing=None):
        return [[reward]]

    def tags(self):
        return {"mytag": 1}

    def metrics(self):
        return [{"type": "COUNTER", "key": "reqs", "value": 1}]

    def init_metadata(self):
        return {
            "name": "my-model",
            "versions": ["v1"],
            "inputs": [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2]}}],
            "outputs": [{"name": "output", "datatype": "FP64", "shape": [1]}],
        }


class PlainModel:
    def predict(self, X, names):
        return X


def make_app(user: Any):
    return create_app(Dataplane(Component(user), Settings()))


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client():
    return make_app(Model()).test_client()


@pytest.fixture(scope="module")
def registry(document) -> Registry:
    """Resolves the document's ``#/components/...`` refs; OpenAPI 3.0 schemas are close to draft 4."""
    return Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT4)
    )


def resolve(document: dict, obj: dict) -> dict:
    """Follow a local ``$ref`` (response, parameter, request body) to its definition."""
    while "$ref" in obj:
        node: Any = document
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def assert_valid(registry: Registry, schema: dict, instance: Any) -> None:
    """Validate ``instance`` against a schema taken from the document (refs resolved in the document)."""
    validator = jsonschema.Draft4Validator(rebase(schema), registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def rebase(schema: Any) -> Any:
    """Turn the document's local refs ``#/components/...`` into refs to the registered document."""
    if isinstance(schema, dict):
        return {
            key: (DOCUMENT_URI + value if key == "$ref" and value.startswith("#") else rebase(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [rebase(item) for item in schema]
    return schema


def response_schema(document: dict, path: str, method: str, status: int, media: str = "application/json"):
    """The documented schema of one answer of one operation (the ``default`` answer if no exact one)."""
    responses = document["paths"][path][method.lower()]["responses"]
    response = responses.get(str(status)) or responses["default"]
    return resolve(document, response)["content"][media]["schema"]


def operations(document: dict) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


# -- the document itself -----------------------------------------------------------------------


def test_document_is_valid_openapi(document):
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Seldon External API"
    validate_openapi(document)


def test_document_is_tidy_json():
    text = DOCUMENT_PATH.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2) + "\n"


def test_documented_operations_are_exactly_the_app_routes(document):
    """Every v1 route is documented (the V2 routes are the Open Inference Protocol's, see docs/v2.md)."""
    app = make_app(PlainModel())
    registered = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/v2")
        for method in rule.methods - AUTOMATIC_METHODS
    }
    assert operations(document) == registered


def test_operation_ids_are_unique(document):
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(ids) == len(operations(document))
    assert len(set(ids)) == len(ids)


def test_served_document_is_the_file(client, document):
    response = client.get("/seldon.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.data) == document


def _examples(node: Any, where: str = "#"):
    """Every (schema, example, location) pair in the document: schemas and media types with examples."""
    if isinstance(node, dict):
        if "example" in node and "schema" in node:
            yield node["schema"], node["example"], where
        elif "example" in node and ("type" in node or "oneOf" in node or "properties" in node):
            yield {key: value for key, value in node.items() if key != "example"}, node["example"], where
        for key, value in node.items():
            if key != "example":
                yield from _examples(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{where}/{index}")


def test_document_examples_match_their_schemas(document, registry):
    found = list(_examples(document))
    assert len(found) > 10
    for schema, example, where in found:
        if "application/x-www-form-urlencoded" in where:
            # The form's json field holds the message as text: check the text's content too.
            json_schema = resolve(document, {"$ref": where.replace("/application/x-www-form-urlencoded", "")})
            message_schema = json_schema["application/json"]["schema"]
            assert_valid(registry, message_schema, json.loads(example["json"]))
        assert_valid(registry, schema, example)


# -- answers of the app against the document ---------------------------------------------------

FEEDBACK = {
    "request": {"data": {"ndarray": [[1, 2]]}},
    "response": {"meta": {"routing": {"0": 1}}},
    "reward": 1,
}

CASES = [
    # (method, path, request kwargs, expected HTTP status)
    ("POST", "/api/v1.0/predictions", {"json": {"data": {"ndarray": [[1, 2]]}}}, 200),
    ("POST", "/api/v1.0/predictions", {"json": {"strData": "x"}}, 200),
    ("POST", "/api/v1.0/predictions", {"json": {"foo": 1}}, 400),
    ("POST", "/api/v1.0/predictions", {"data": "{not json", "content_type": "application/json"}, 400),
    (
        "POST",
        "/api/v0.1/predictions",
        {"json": {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}},
        200,
    ),
    ("POST", "/predict", {"json": {"binData": "AAFhYmM=", "meta": {"puid": "p1", "tags": {"t": "v"}}}}, 200),
    ("POST", "/predict", {"json": {"jsonData": {"a": [1, 2]}}}, 200),
    ("POST", "/predict", {"data": {"json": json.dumps({"data": {"ndarray": [["a", "b"]]}})}}, 200),
    ("POST", "/predict", {"data": {"binData": (io.BytesIO(b"\0abc"), "x.bin")}}, 200),
    ("POST", "/predict", {"data": "x", "content_type": "text/plain"}, 415),
    ("GET", "/predict?json=" + json.dumps({"data": {"ndarray": [1, 2, 3]}}), {}, 200),
    ("GET", "/predict", {}, 415),
    ("POST", "/send-feedback", {"json": FEEDBACK}, 200),
    ("POST", "/api/v1.0/feedback", {"json": {"requestX": {}}}, 400),
    ("GET", "/send-feedback?json=" + json.dumps({"reward": 0.5}), {}, 200),
    ("POST", "/transform-input", {"json": {"data": {"ndarray": [[1.5, 2]]}}}, 200),
    ("POST", "/transform-output", {"json": {"strData": "s"}}, 200),
    ("POST", "/route", {"json": {"meta": {"puid": "p"}, "data": {"ndarray": [[1]]}}}, 200),
    ("POST", "/aggregate", {"json": [{"data": {"ndarray": [[1]]}}, {"data": {"ndarray": [[2]]}}]}, 200),
    (
        "POST",
        "/aggregate",
        {"json": {"seldonMessages": [{"data": {"tensor": {"shape": [1], "values": [3]}}}]}},
        200,
    ),
    ("POST", "/aggregate", {"json": {"wrong": []}}, 400),
    ("GET", "/health/status", {}, 200),
    ("GET", "/api/v1.0/health/status", {}, 200),
    ("GET", "/metadata", {}, 200),
    ("GET", "/api/v1.0/metadata", {}, 200),
    ("GET", "/api/v1.0/predictions", {}, 405),
    ("POST", "/metadata", {}, 405),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"), CASES, ids=[f"{m} {p.split('?')[0]} {s}" for m, p, _, s in CASES]
)
def test_app_answers_match_documented_schemas(document, registry, client, method, path, kwargs, status):
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    route = path.split("?")[0]
    item = document["paths"][route]
    if method.lower() in item:
        schema = response_schema(document, route, method, status)
    else:  # wrong method: the 405 answer documented on the path's operations
        assert status == 405
        schema = response_schema(document, route, next(m for m in item if m in HTTP_METHODS), 405)
        assert set(response.headers["Allow"].split(", ")) - AUTOMATIC_METHODS == {m.upper() for m in item}
    assert_valid(registry, schema, response.get_json())


def test_error_answer_is_the_documented_error_body(document, registry, client):
    response = client.post("/api/v1.0/predictions", json={"foo": 1})
    assert response.status_code == 400
    body = response.get_json()
    assert body == {
        "status": {
            "code": -1,
            "info": "Invalid request data type: {'foo': 1}",
            "reason": "MICROSERVICE_BAD_DATA",
            "status": 1,
        }
    }
    schema = response_schema(document, "/api/v1.0/predictions", "POST", 400)
    assert_valid(registry, schema, body)
    # The error body is a SeldonMessage too, so clients parsing every answer as one keep working.
    assert_valid(registry, {"$ref": "#/components/schemas/SeldonMessage"}, body)


def test_unknown_path_answers_the_documented_not_found_body(document, registry, client):
    response = client.get("/no-such-path")
    assert response.status_code == 404
    schema = resolve(document, {"$ref": "#/components/responses/NotFound"})["content"]["application/json"]
    assert_valid(registry, schema["schema"], response.get_json())


def test_ping_answers_documented_text(document, client):
    response = client.get("/health/ping")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    schema = response_schema(document, "/health/ping", "GET", 200, media="text/html")
    assert response.get_data(as_text=True) in schema["enum"]


def test_schemas_reject_what_the_protocol_rejects(registry):
    message = {"$ref": "#/components/schemas/SeldonMessage"}
    for bad in (
        {"strData": 1},
        {"data": {"tensor": {"shape": [2], "values": ["a"]}}},
        {"meta": {"metrics": [{"key": "k", "type": "HISTOGRAM", "value": 1}]}},
        {"status": {"status": "BROKEN"}},
        {"unknownField": 1},
    ):
        with pytest.raises(AssertionError):
            assert_valid(registry, message, bad)
    with pytest.raises(AssertionError):
        assert_valid(registry, {"$ref": "#/components/schemas/Feedback"}, {"requestX": {}})
    with pytest.raises(AssertionError):
        assert_valid(registry, {"$ref": "#/components/schemas/SeldonModelMetadata"}, {"versions": "v1"})


class StatusCodeModel:
    def predict_raw(self, request):
        return request["jsonData"]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"jsonData": {"a": 1}, "status": {"code": 201, "status": "SUCCESS"}}, 201),
        ({"status": {"code": 400, "info": "model says no", "status": "FAILURE"}}, 400),
    ],
)
def test_status_code_answers_match_documented_schemas(document, registry, answer, status):
    client = make_app(StatusCodeModel()).test_client()
    response = client.post("/predict", json={"jsonData": answer})
    assert response.status_code == status
    assert response.get_json() == answer
    assert_valid(registry, response_schema(document, "/predict", "POST", status), response.get_json())
