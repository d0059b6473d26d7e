"""Flask app factory for the v1 REST API: parse the request, call the dataplane, encode JSON.
The V2 routes (rest/v2.py) and the pre-Core ones (rest/v0.py) are registered beside them.

Client mistakes (unknown path, wrong method, wrong content type, malformed JSON, bad
payloads) answer 4xx with the v1 error body; only failures of the server or of user code
answer 500. No business logic lives here.
"""

from __future__ import annotations

import base64
import importlib.resources
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from seldon_wrapper import tracing
from seldon_wrapper.codecs import seldon_json
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import BAD_DATA, INTERNAL_ERROR, SeldonMicroserviceException
from seldon_wrapper.rest import v0 as rest_v0
from seldon_wrapper.rest.handler import (
    JSON_MIMETYPE,
    cors_headers,
    is_json_mimetype,
    predict_answer,
    read_json,
    record_request,
)
from seldon_wrapper.rest.v2 import any_failure_answer, create_blueprint
from seldon_wrapper.v0_adapter import V0Adapter
from seldon_wrapper.v2_adapter import V2Adapter


def _json_response(obj: Any) -> Response:
    return Response(seldon_json.dumps(obj), mimetype=JSON_MIMETYPE)


def multipart_message() -> dict:
    """multipart/form-data -> message dict: strData raw, other fields JSON, binData base64."""
    message: dict[str, Any] = {}
    for key, value in request.form.items():
        if key == "strData":
            message[key] = value
        else:
            try:
                message[key] = seldon_json.loads(value)
            except ValueError as exc:
                raise SeldonMicroserviceException(f"Invalid JSON in form field {key}: {exc}") from None
    for key, upload in request.files.items():
        content = upload.read()
        if key == "binData":
            message[key] = base64.b64encode(content)
        else:
            try:
                message[key] = content.decode("utf-8")
            except UnicodeDecodeError:
                raise SeldonMicroserviceException(f"File field {key} is not UTF-8 text") from None
    return message


def get_request(passthrough: bool = False) -> Any:
    """The request payload, from the forms the original accepted (spec 2.3), in its order."""
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        return multipart_message()
    text = None
    if mimetype == "application/x-www-form-urlencoded":
        text = request.form.get("json")
    if not text and request.query_string:
        text = request.args.get("json")
    if text:
        if passthrough:
            return text
        try:
            return seldon_json.loads(text)
        except ValueError as exc:
            raise SeldonMicroserviceException(f"Invalid JSON in json field: {exc}") from None
    if passthrough:
        body = request.get_data()
        if not body:
            raise SeldonMicroserviceException("Can't find data")
        return body
    if not is_json_mimetype(mimetype):
        raise _UnsupportedMediaType()
    return read_json(request.get_data())


class _UnsupportedMediaType(SeldonMicroserviceException):
    def __init__(self) -> None:
        super().__init__(
            "415 Unsupported Media Type: Did not attempt to load JSON data because the request "
            "Content-Type was not 'application/json'. Send JSON with that Content-Type, or a "
            "form field named 'json'.",
            status_code=415,
        )


def _add_cors(response: Response) -> Response:
    headers = request.headers
    for key, value in cors_headers(
        headers.get("Origin"), request.method, headers.get("Access-Control-Request-Headers")
    ):
        if key == "Vary":
            response.vary.add(value)
        else:
            response.headers[key] = value
    return response


def openapi_document() -> bytes:
    return importlib.resources.files("seldon_wrapper.rest").joinpath("seldon.json").read_bytes()


def create_app(dataplane: Dataplane) -> Flask:
    """The v1 REST app over one dataplane."""
    settings = dataplane.settings
    passthrough = settings.payload_passthrough
    app = Flask(__name__, static_folder=None)
    app.url_map.strict_slashes = False
    for key, value in settings.flask_config.items():
        app.config[key] = value

    adapter = app.extensions["v2_adapter"] = V2Adapter(dataplane)
    app.register_blueprint(create_blueprint(adapter))
    v0_adapter = app.extensions["v0_adapter"] = V0Adapter(dataplane)
    app.register_blueprint(rest_v0.create_blueprint(v0_adapter))

    handler = dataplane.component.model_error_handler
    if isinstance(handler, Blueprint):
        app.register_blueprint(handler)

    def predict() -> Response:
        payload = get_request(passthrough)
        v0_answer = rest_v0.predict_response(v0_adapter, payload, passthrough)  # /predict?client=
        if v0_answer is not None:
            return v0_answer
        status, body = predict_answer(dataplane, payload, passthrough)
        return Response(body, status=status, mimetype=JSON_MIMETYPE)

    def data_route(operation: Callable[[Any, Any], Any]) -> Callable[[], Response]:
        def view() -> Response:
            return _json_response(operation(get_request(), seldon_json))

        return view

    def feedback() -> Response:
        return _json_response(dataplane.send_feedback(get_request(), seldon_json))

    def health_status() -> Response:
        return _json_response(dataplane.health_status(seldon_json))

    def ping() -> Response:
        return Response("pong", mimetype="text/html")

    def metadata() -> Response:
        return _json_response(dataplane.metadata())

    def openapi() -> Response:
        return Response(openapi_document(), mimetype=JSON_MIMETYPE)

    both = ["GET", "POST"]
    routes: list[tuple[str, str, Callable[[], Response], list[str]]] = [
        ("/predict", "predict", predict, both),
        ("/api/v1.0/predictions", "predictions_v1", predict, ["POST"]),
        ("/api/v0.1/predictions", "predictions_v0", predict, ["POST"]),
        ("/send-feedback", "send_feedback", feedback, both),
        ("/api/v1.0/feedback", "feedback_v1", feedback, ["POST"]),
        ("/api/v0.1/feedback", "feedback_v0", feedback, ["POST"]),
        ("/transform-input", "transform_input", data_route(dataplane.transform_input), both),
        ("/transform-output", "transform_output", data_route(dataplane.transform_output), both),
        ("/route", "route", data_route(dataplane.route), both),
        ("/aggregate", "aggregate", data_route(dataplane.aggregate), both),
        ("/health/ping", "ping", ping, ["GET"]),
        ("/health/status", "health_status", health_status, ["GET"]),
        ("/api/v1.0/health/status", "health_status_v1", health_status, ["GET"]),
        ("/metadata", "metadata", metadata, ["GET"]),
        ("/api/v1.0/metadata", "metadata_v1", metadata, ["GET"]),
        ("/seldon.json", "openapi", openapi, ["GET"]),
    ]
    for path, endpoint, view, methods in routes:
        app.add_url_rule(path, endpoint, view, methods=methods)

    @app.errorhandler(Exception)
    def failure(exc: Exception) -> Response:
        """Every failure, in the error policy's words; the body shape follows the URL."""
        allow = None
        if isinstance(exc, HTTPException):
            status = exc.code or 500
            allow = getattr(exc, "valid_methods", None) if status == 405 else None
            exc = SeldonMicroserviceException(
                f"{status} {exc.name}: {exc.description}",
                status_code=status,
                reason=BAD_DATA if status < 500 else INTERNAL_ERROR,
            )
        status, body = any_failure_answer(request.method, request.path, exc)
        response = Response(body, status=status, mimetype=JSON_MIMETYPE)
        if allow:
            response.headers["Allow"] = ", ".join(allow)
        return response

    recorder = dataplane.recorder
    extra_tags = settings.jaeger_extra_tags

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        if tracing.enabled():
            rule = request.url_rule
            attributes = {"http.request.method": request.method, "url.path": request.path}
            for name in extra_tags:
                value = getattr(request, name, None)
                if value is not None:
                    attributes[name] = str(value)
            g.span = tracing.server_span(
                f"{request.method} {rule.rule if rule is not None else 'unmatched'}",
                request.headers,
                attributes,
            )

    @app.after_request
    def finish_request(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            rule = request.url_rule
            rule_name = rule.rule if rule is not None else "unmatched"
            record_request(recorder, rule_name, request.method, response.status_code, started)
        span = g.pop("span", None)
        if span is not None:
            tracing.end_server_span(
                *span, status_code=response.status_code, error=response.status_code >= 500
            )
        return _add_cors(response)

    @app.teardown_request
    def close_span(exc: BaseException | None) -> None:
        span = g.pop("span", None)  # only left when no response was produced
        if span is not None:
            tracing.end_server_span(*span, error=True)

    return app
