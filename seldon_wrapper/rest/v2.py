"""V2 REST front door (Open Inference Protocol) on the main HTTP port, beside the v1 routes.

Errors are always ``{"error": "..."}`` with a 4xx for client mistakes: tritonclient reads the
``error`` key. Requests need no Content-Type (tritonclient sends none), may be gzip/deflate
compressed, and may carry a binary tail (``Inference-Header-Content-Length``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import orjson
from flask import Blueprint, Response, request

from seldon_wrapper.codecs import seldon_json, v2
from seldon_wrapper.errors import SeldonMicroserviceException, http_status, log_failure, v2_error_body
from seldon_wrapper.rest import handler
from seldon_wrapper.v2_adapter import V2Adapter

HEADER_LENGTH = "Inference-Header-Content-Length"
# Route rules of inference, also the endpoint label of its request metric (both REST paths).
INFER_RULE = "/v2/models/<name>/infer"
INFER_VERSION_RULE = "/v2/models/<name>/versions/<version>/infer"


_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(obj: object) -> bytes:
    """V2 JSON: strict (NaN and infinities are null), numpy arrays written natively."""
    return orjson.dumps(obj, option=_DUMP_OPTIONS)


def _json(obj: object, status: int = 200) -> Response:
    return Response(dumps(obj), status=status, mimetype="application/json")


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = encoding.lower()
    try:
        if encoding == "gzip":
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(data)
    except zlib.error as exc:
        raise v2.bad_request(f"Cannot decompress the {encoding} body: {exc}") from None
    return data


def parse_infer_request(
    data: bytes, header_length: str | None, encoding: str, parse: Callable[[bytes], Any] | None = None
) -> v2.Request:
    """The request from the raw body, its binary tail and the protocol headers."""
    body = _decompress(data, encoding)
    tail = b""
    if header_length is not None:
        try:
            length = int(header_length)
        except ValueError:
            raise v2.bad_request(f"Bad {HEADER_LENGTH} header: {header_length!r}") from None
        if length <= 0 or length > len(body):
            raise v2.bad_request(f"{HEADER_LENGTH} {length} does not fit a body of {len(body)} bytes")
        body, tail = body[:length], body[length:]
    if not body:
        raise v2.bad_request("Empty inference request")
    parsed = parse(body) if parse is not None else None  # large float data straight to numpy
    if parsed is None:
        try:
            parsed = seldon_json.loads(body)
        except ValueError as exc:
            raise v2.bad_request(f"The inference request is not valid JSON: {exc}") from None
    return v2.decode_json_request(parsed, tail, bools=_may_hold_bools(body))


def _may_hold_bools(body: bytes) -> bool:
    """Whether JSON text may hold ``true`` or ``false``, so the codec must look for a bool among
    numbers. Most requests have neither an "r" nor an "f" (no ``parameters``), which two quick
    byte searches show; only then are the words searched for, at about 1 ms a megabyte."""
    if b"r" not in body and b"f" not in body:
        return False
    return b"true" in body or b"false" in body


def infer_response(
    adapter: V2Adapter,
    name: str,
    version: str | None,
    data: bytes,
    header_length: str | None,
    encoding: str,
    parse: Callable[[bytes], Any] | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One inference: (status, headers, body). Raises SeldonMicroserviceException on errors.
    ``parse`` may read the JSON first, as in ``parse_infer_request``."""
    adapter.check_model(name, version)
    if not adapter.ready:
        raise SeldonMicroserviceException(f"Model {name} is not ready yet.", status_code=503)
    req = parse_infer_request(data, header_length, encoding, parse)
    outputs, parameters = adapter.infer(req)
    head, tail = v2.encode_json_response(
        outputs,
        adapter.model_name,
        adapter.response_version(version),
        req.id,
        parameters,
        _binary_outputs(req, outputs),
    )
    head_bytes = dumps(head)
    if not tail:
        return 200, [("Content-Type", "application/json")], head_bytes
    headers = [("Content-Type", "application/octet-stream"), (HEADER_LENGTH, str(len(head_bytes)))]
    return 200, headers, head_bytes + tail


def failure_answer(where: str, exc: Exception) -> tuple[int, bytes]:
    """(status, V2 error body) of a failure, logged by the error policy."""
    log_failure(where, exc)
    return http_status(exc), dumps(v2_error_body(exc))


def any_failure_answer(method: str, path: str, exc: Exception) -> tuple[int, bytes]:
    """(status, body) of a failure on any REST path: the V2 error body under ``/v2``, else v1's."""
    where = f"{method} {path}"
    if path.startswith("/v2/") or path == "/v2":
        return failure_answer(where, exc)
    return handler.failure_answer(where, exc)


def _binary_outputs(req: v2.Request, outputs: list[v2.Tensor]) -> set[str]:
    default = bool(req.parameters.get("binary_data_output", False))
    flags = {o["name"]: o["parameters"].get("binary_data") for o in req.outputs}
    return {
        tensor.name
        for tensor in outputs
        if (flags.get(tensor.name) if flags.get(tensor.name) is not None else default)
    }


def create_blueprint(adapter: V2Adapter) -> Blueprint:
    """The V2 routes over one adapter."""
    bp = Blueprint("v2", __name__)

    @bp.get("/v2")
    @bp.get("/v2/")
    def server_metadata() -> Response:
        return _json(adapter.server_metadata())

    @bp.get("/v2/health/live")
    def live() -> Response:
        return _json({"live": True})

    @bp.get("/v2/health/ready")
    def ready() -> Response:
        if not adapter.serving:
            return _error(f"Model {adapter.model_name} is not ready", 503)
        return _json({"ready": True})

    @bp.get("/v2/models/<name>")
    @bp.get("/v2/models/<name>/versions/<version>")
    def model_metadata(name: str, version: str | None = None) -> Response:
        adapter.check_model(name, version)
        return _json(adapter.metadata)

    @bp.get("/v2/models/<name>/ready")
    @bp.get("/v2/models/<name>/versions/<version>/ready")
    def model_ready(name: str, version: str | None = None) -> Response:
        adapter.check_model(name, version)
        if not adapter.serving:
            return _error(f"Model {name} is not ready", 503)
        return _json({"name": name, "ready": True})

    @bp.post(INFER_RULE)
    @bp.post(INFER_VERSION_RULE)
    def infer(name: str, version: str | None = None) -> Response:
        status, headers, body = infer_response(
            adapter,
            name,
            version,
            request.get_data(),
            request.headers.get(HEADER_LENGTH),
            request.headers.get("Content-Encoding") or "",
        )
        response = Response(body, status=status)
        for key, value in headers:
            response.headers[key] = value
        return response

    @bp.post("/v2/repository/index")
    def repository_index() -> Response:
        body = request.get_data()
        only_ready = False
        if body:
            try:
                parsed = seldon_json.loads(body)
            except ValueError:
                return _error("The repository index request is not valid JSON", 400)
            only_ready = bool(isinstance(parsed, dict) and parsed.get("ready"))
        index = adapter.repository_index()
        if only_ready:
            index = [entry for entry in index if entry["state"] == "READY"]
        return _json(index)

    return bp
