"""docs/index.md, docs/rest-api.md and docs/grpc-api.md, checked against the real server code.

Every curl command and gRPC client of the three pages runs against the class the page defines
(tests/docs/doc_examples.py); the route table is compared with the REST app's routes, and the
service and message tables with the generated descriptors of proto/prediction.proto.
"""

from __future__ import annotations

import re

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from seldon_wrapper.grpc import server as grpc_server_module
from seldon_wrapper.proto import prediction_pb2
from seldon_wrapper.rest.app import create_app
from tests.docs.doc_examples import (
    DOCS,
    ENTRIES,
    code,
    dataplane_for,
    define,
    grpc_server,
    parse_page,
    rest_client,
    run_example,
    tables,
)

FILES = {"two-bytes.bin": b"\x00\x01"}  # the file rest-api.md's multipart example sends
UNTESTED = {
    "index.md": ("make serve", "make test", "seldon-core-microservice MyModel --service-type MODEL"),
    "rest-api.md": (),
    "grpc-api.md": (),
}
PAGES = {name: parse_page(name, untested) for name, untested in UNTESTED.items()}
EXAMPLES = [example for page in PAGES.values() for example in page.examples]


def test_every_block_of_the_pages_is_a_tested_example():
    assert [problem for page in PAGES.values() for problem in page.problems] == []
    kinds = {name: [example.kind for example in page.examples] for name, page in PAGES.items()}
    assert kinds["index.md"].count("curl") >= 3 and kinds["index.md"].count("grpc") == 1
    assert kinds["rest-api.md"].count("curl") >= 9
    assert kinds["grpc-api.md"].count("grpc") >= 4


@pytest.mark.parametrize(
    "entry, example",
    [
        (entry, example)
        for example in EXAMPLES
        for entry in (ENTRIES if example.kind == "curl" else ENTRIES[:1])
    ],
    ids=lambda value: str(value),
)
def test_examples(entry, example):
    run_example(example, entry, FILES)


# -- rest-api.md: the route table is the app's ---------------------------------------------------


def documented_routes() -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for row in tables("rest-api.md", ["path", "methods", "serves"]):
        path, methods = code(row[0])[0], set(code(row[1]))
        optional = re.search(r"\[([^\]]*)\]", path)
        variants = [path]
        if optional:
            variants = [
                path.replace(optional.group(0), ""),
                path.replace(optional.group(0), optional.group(1)),
            ]
        for variant in variants:
            assert variant not in routes, f"{variant} listed twice"
            routes[variant] = methods
    return routes


def served_routes() -> dict[str, set[str]]:
    app = create_app(dataplane_for(define(PAGES["rest-api.md"].models[0])()))
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(\w+)>", r"{\1}", rule.rule)
        path = path.rstrip("/") or "/"
        routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_route_table_is_every_route_of_the_app():
    assert documented_routes() == served_routes()


def test_trailing_slash_options_and_head():
    client = rest_client(define(PAGES["rest-api.md"].models[0])())
    for path in ("/health/ping/", "/metadata/", "/v2/health/live/"):
        assert client.get(path).status_code == 200, path
    assert client.open("/api/v1.0/predictions", method="OPTIONS").status_code == 200
    assert client.head("/health/ping").status_code == 200


# -- grpc-api.md: services, messages and field numbers ---------------------------------------------


PACKAGE = "seldon.protos."
SCALARS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_DOUBLE: "double",
}


def short(full_name: str) -> str:
    return full_name.removeprefix(PACKAGE)


def is_repeated(field: FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def element_type(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return short(field.message_type.full_name)
    if field.enum_type is not None:
        return short(field.enum_type.full_name)
    return SCALARS[field.type]


def type_name(field: FieldDescriptor) -> str:
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        return f"map<{element_type(key)}, {element_type(value)}>"
    return ("repeated " if is_repeated(field) else "") + element_type(field)


def test_service_table_is_every_rpc_of_prediction_proto():
    documented = {
        tuple(code(cell)[0] for cell in row)
        for row in tables("grpc-api.md", ["service", "RPC", "request", "response"])
    }
    generated = {
        (service.name, method.name, short(method.input_type.full_name), short(method.output_type.full_name))
        for service in prediction_pb2.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert documented == generated


MESSAGE_ROWS = tables("grpc-api.md", ["message", "field", "number", "type"])


@pytest.mark.parametrize("row", MESSAGE_ROWS, ids=lambda row: f"{code(row[0])[0]}.{code(row[1])[0]}")
def test_field_numbers_and_types(row):
    message, name, number, cell = code(row[0])[0], code(row[1])[0], int(row[2]), row[3]
    field = prediction_pb2.DESCRIPTOR.message_types_by_name[message].fields_by_name[name]
    assert field.number == number
    assert type_name(field) == code(cell)[0]
    oneof = field.containing_oneof
    assert (oneof.name if oneof is not None else None) == (code(cell)[1] if "oneof" in cell else None)
    if "(packed)" in cell:
        assert field.GetOptions().packed
    if field.enum_type is not None:
        values = [(value.name, value.number) for value in field.enum_type.values]
        assert [(name, int(number)) for name, number in re.findall(r"`(\w+)` (\d+)", cell)] == values


def test_message_table_has_every_field():
    documented = {(code(row[0])[0], code(row[1])[0]) for row in MESSAGE_ROWS}
    generated = {
        (message.name, field.name)
        for message in prediction_pb2.DESCRIPTOR.message_types_by_name.values()
        for field in message.fields
    }
    assert documented == generated


def test_services_on_the_port_are_the_table_and_reflection_lists_them():
    first, *rest = tables("grpc-api.md", ["service", "what"])
    seldon, *short_names = code(first[0])
    documented = {seldon, *(PACKAGE + name for name in short_names), *(code(row[0])[0] for row in rest)}
    user = define(PAGES["grpc-api.md"].models[0])()
    with grpc_server(user) as address, grpc.insecure_channel(address) as channel:
        listed = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert listed == documented


def test_health_service_names():
    text = " ".join((DOCS / "grpc-api.md").read_text(encoding="utf-8").split())
    assert (
        'It knows the service names `""` (the server), each `seldon.protos` service'
        " (`seldon.protos.Model`, ...),"
        " `inference.GRPCInferenceService` and `io.seldon.api.rpc.Classifier`." in text
    )
    names = grpc_server_module.SERVICE_NAMES
    assert names[0] == ""
    assert {name for name in names if name.startswith(PACKAGE)} == {
        service.full_name for service in prediction_pb2.DESCRIPTOR.services_by_name.values()
    }
    assert {name for name in names[1:] if not name.startswith(PACKAGE)} == {
        "inference.GRPCInferenceService",
        "io.seldon.api.rpc.Classifier",
    }


def test_payload_form_errors():
    text = " ".join((DOCS / "rest-api.md").read_text(encoding="utf-8").split())
    assert (
        "A `json` field or parameter that is not JSON answers 400 `Invalid JSON in json field: ...`; an empty"
        " body or one that is not JSON, 400 `Can't find JSON in data`." in text
    )
    for entry in ENTRIES:
        client = rest_client(define(PAGES["rest-api.md"].models[0])(), entry)
        for response, info in (
            (client.post("/predict", data={"json": "{not json"}), "Invalid JSON in json field: "),
            (client.get("/predict?json=%7Bnot"), "Invalid JSON in json field: "),
            (
                client.post("/api/v1.0/predictions", data=b"", content_type="application/json"),
                "Can't find JSON",
            ),
            (
                client.post("/api/v1.0/predictions", data=b"{not", content_type="application/json"),
                "Can't find JSON",
            ),
        ):
            assert response.status_code == 400
            assert response.json["status"]["info"].startswith(info)
            assert response.json["status"]["reason"] == "MICROSERVICE_BAD_DATA"


def test_cors_on_every_answer():
    text = " ".join((DOCS / "rest-api.md").read_text(encoding="utf-8").split())
    assert "Every answer, errors included, allows any origin" in text
    for entry in ENTRIES:
        client = rest_client(define(PAGES["rest-api.md"].models[0])(), entry)
        missing = client.get("/no-such-path", headers={"Origin": "https://app.example"})
        assert missing.status_code == 404
        assert missing.headers["Access-Control-Allow-Origin"] == "https://app.example"
        assert missing.headers["Vary"] == "Origin"
        ok = client.post("/api/v1.0/predictions", json={"data": {"ndarray": [1]}})
        assert (ok.status_code, ok.headers["Access-Control-Allow-Origin"]) == (200, "*")
