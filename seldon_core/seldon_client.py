"""``SeldonClient``: the reference client for Seldon Core v1 APIs (compatible with seldon-core 1.19.0).

It talks to a single wrapped model ("microservice": the bare ``/predict``, ``/transform-input``, ...
REST paths as urlencoded ``json=`` form posts, or the ``seldon.protos.Model`` / ``Generic`` gRPC
services) and to a whole deployment behind a gateway (``ambassador`` / ``istio`` ingress paths
``/seldon/<namespace>/<deployment>/api/v1.0/...``, or ``seldon``: the executor's own
``/api/v1.0/predictions`` and the ``seldon.protos.Seldon`` gRPC service).

``requests`` and ``grpc`` are imported only on the paths that use them, so importing this module is
cheap; they and ``prediction_pb2_grpc`` remain reachable as attributes of this module (loaded on
first access), so tests that patch through them, e.g.
``mock.patch("seldon_core.seldon_client.prediction_pb2_grpc.SeldonStub")``, keep working.
``tftensor`` payloads are built without TensorFlow (``seldon_wrapper.codecs.tftensor``, the same
encoding as ``tf.make_tensor_proto``: numbers in ``tensor_content``).

Differences from the original, all on paths where it failed or dropped information:

* ``str(SeldonClientException(...))`` is the message (the original's is empty);
* an unknown ``payload_type`` is rejected by the validation (the original silently sent ``ndarray``);
* an unparseable response body leaves its parse error in ``msg``;
* gateway ``meta`` tags are also sent with ``json_data`` payloads (the original dropped them);
* ``ssl=True`` selects https for gateway REST calls even without call credentials;
* gateway REST feedback uses the same scheme, headers, token and TLS settings as predict, and gateway
  gRPC feedback the same channel credentials; the token travels as ``x-auth-token`` metadata on
  insecure gRPC channels too;
* ``explain`` also accepts ``gateway="seldon"`` (its helper already handled it);
* an ``http_path`` without a namespace gives ``/seldon/<deployment><http_path>``;
* ``headers`` also reach the ``seldon`` gateway (REST headers, gRPC metadata).
"""

from __future__ import annotations

import http.client as http_client
import json
import logging
from collections.abc import Iterable
from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401, UP035 - the original's names

import numpy as np
from google.protobuf import any_pb2, json_format, struct_pb2

from seldon_core.proto import prediction_pb2
from seldon_core.utils import (  # noqa: F401 - names the original's module imported
    array_to_grpc_datadef,
    feedback_to_json,
    json_to_feedback,
    json_to_seldon_message,
    seldon_message_to_json,
    seldon_messages_to_json,
)
from seldon_wrapper.codecs import tftensor as _tftensor
from seldon_wrapper.errors import SeldonMicroserviceException

logger = logging.getLogger(__name__)

_LAZY_MODULES = ("grpc", "requests")


def _stubs() -> Any:
    """The gRPC stubs module, looked up as this module's ``prediction_pb2_grpc`` attribute (imported on
    first use, with grpc), so ``mock.patch("seldon_core.seldon_client.prediction_pb2_grpc...")`` works."""
    module = globals().get("prediction_pb2_grpc")
    if module is None:
        from seldon_core.proto import prediction_pb2_grpc as module

        globals()["prediction_pb2_grpc"] = module
    return module


def _requests() -> Any:
    """``requests`` for the REST paths (seldon-wrapper does not install it; the original required it)."""
    try:
        import requests
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SeldonClientException(
            "SeldonClient needs the 'requests' package for REST calls: pip install requests"
        ) from exc
    return requests


def __getattr__(name: str) -> Any:
    # The original imported these at module level; tests written against it patch through them.
    if name == "prediction_pb2_grpc":
        return _stubs()
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_DEFAULT_GRPC_MAX = 4 * 1024 * 1024
GATEWAYS = ("ambassador", "istio", "seldon")
TRANSPORTS = ("rest", "grpc")
METHODS = ("predict", "route", "aggregate", "transform-input", "transform-output", "send-feedback")
PAYLOAD_TYPES = ("tensor", "ndarray", "tftensor")
CLIENT_RETURN_TYPES = ("proto", "dict")
_FEEDBACK_PARTS = ("prediction_request", "prediction_response", "prediction_truth", "reward")
_MESSAGE_RPCS = {
    "predict": "Model/Predict",
    "transform-input": "Generic/TransformInput",
    "transform-output": "Generic/TransformOutput",
    "route": "Generic/Route",
}


class SeldonClientException(Exception):
    """A client-side error (bad arguments); ``message`` holds the text, ``status_code`` is 400."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SeldonChannelCredentials:
    """TLS settings.

    REST: ``verify`` (bool) or ``certificate_chain_file`` (a CA bundle path) decide certificate
    verification; ``private_key_file`` (with ``root_certificates_file`` as the certificate) makes a client
    certificate. gRPC: give ``root_certificates_file`` alone, or all three files; ``verify=False``
    overrides the TLS target name with the endpoint's host.
    """

    def __init__(
        self,
        verify: bool = True,
        root_certificates_file: str | None = None,
        private_key_file: str | None = None,
        certificate_chain_file: str | None = None,
    ) -> None:
        self.verify = verify
        self.root_certificates_file = root_certificates_file
        self.private_key_file = private_key_file
        self.certificate_chain_file = certificate_chain_file


class SeldonCallCredentials:
    """A per-call token: REST header ``X-Auth-Token``, gRPC metadata ``x-auth-token``."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token


class _Result:
    def __init__(self, request: Any, response: Any, success: bool = True, msg: str = "") -> None:
        self.request = request
        self.response = response
        self.success = success
        self.msg = msg

    def __repr__(self) -> str:
        return (
            f"Success:{self.success} message:{self.msg}\nRequest:\n{self.request}\nResponse:\n{self.response}"
        )


class SeldonClientPrediction(_Result):
    """Outcome of a predict / transform / route call: ``request``, ``response``, ``success``, ``msg``."""


class SeldonClientFeedback(_Result):
    """Outcome of a feedback call: ``request`` is the ``Feedback`` sent."""


class SeldonClientCombine(_Result):
    """Outcome of an aggregate call: ``request`` is the ``SeldonMessageList`` sent."""


# ------------------------------------------------------------------------------------------------
# messages
# ------------------------------------------------------------------------------------------------


def _to_dict(message: Any) -> dict:
    return json_format.MessageToDict(message)


def _parse(obj: Any, message: Any) -> Any:
    try:
        return json_format.ParseDict({} if obj is None else obj, message)
    except json_format.ParseError as exc:
        raise SeldonMicroserviceException(f"Invalid JSON: {exc}") from None


def _list_value(array: np.ndarray, target: struct_pb2.ListValue | None = None) -> struct_pb2.ListValue:
    target = struct_pb2.ListValue() if target is None else target
    if array.ndim <= 1:
        target.extend(np.atleast_1d(array).tolist())
    else:
        for row in array:
            _list_value(row, target.add_list())
    return target


def _datadef(payload_type: str, array: Any, names: Iterable[str] | None) -> Any:
    array = np.asarray(array)
    names = list(names) if names is not None else None
    if payload_type == "tensor":
        tensor = prediction_pb2.Tensor(shape=array.shape, values=array.ravel().tolist())
        return prediction_pb2.DefaultData(names=names, tensor=tensor)
    if payload_type == "tftensor":
        return prediction_pb2.DefaultData(names=names, tftensor=_tftensor.from_ndarray(array))
    return prediction_pb2.DefaultData(names=names, ndarray=_list_value(array))


def _meta(meta: dict | None) -> Any:
    return _parse({"tags": meta or {}}, prediction_pb2.Meta())


def _seldon_message(
    payload_type: str = "tensor",
    shape: Any = (1, 1),
    data: Any = None,
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: Any = None,
    custom_data: any_pb2.Any | None = None,
    names: Iterable[str] | None = None,
    meta: dict | None = None,
    gateway: bool = False,
) -> Any:
    """The request message; precedence bin_data > str_data > json_data > custom_data > data.

    Gateway requests carry ``meta.tags`` (always set, possibly empty, as the original does).
    """
    extra: dict = {"meta": _meta(meta)} if gateway else {}
    if bin_data is not None:
        return prediction_pb2.SeldonMessage(binData=bytes(bin_data), **extra)
    if str_data is not None:
        return prediction_pb2.SeldonMessage(strData=str_data, **extra)
    if json_data is not None:
        message = _parse({"jsonData": json_data}, prediction_pb2.SeldonMessage())
        if gateway and meta:
            message.meta.CopyFrom(extra["meta"])
        return message
    if custom_data is not None:
        return prediction_pb2.SeldonMessage(customData=custom_data, **extra)
    if data is None:
        data = np.random.rand(*shape)
    return prediction_pb2.SeldonMessage(data=_datadef(payload_type, data, names), **extra)


def _message_list(
    datas: list | None, ndatas: int | None, shape: Any, payload_type: str, names: Iterable[str] | None
) -> Any:
    if datas is None:
        if ndatas is None:
            raise SeldonClientException("aggregate needs datas or ndatas")
        datas = [np.random.rand(*shape) for _ in range(ndatas)]
    messages = []
    for item in datas:
        if isinstance(item, prediction_pb2.SeldonMessage):
            messages.append(item)
        elif isinstance(item, (bytes, bytearray)):
            messages.append(prediction_pb2.SeldonMessage(binData=bytes(item)))
        elif isinstance(item, str):
            messages.append(prediction_pb2.SeldonMessage(strData=item))
        elif isinstance(item, any_pb2.Any):
            messages.append(prediction_pb2.SeldonMessage(customData=item))
        else:
            messages.append(prediction_pb2.SeldonMessage(data=_datadef(payload_type, item, names)))
    return prediction_pb2.SeldonMessageList(seldonMessages=messages)


def _as_message(value: Any) -> Any:
    """A previous request/response for feedback: a SeldonMessage, its JSON dict, or None."""
    if value is None or isinstance(value, prediction_pb2.SeldonMessage):
        return value
    if isinstance(value, dict):
        return _parse(value, prediction_pb2.SeldonMessage())
    raise SeldonClientException(
        f"Feedback parts must be SeldonMessage protos or dicts, not {type(value).__name__}"
    )


def _feedback(request: Any, response: Any, reward: float, truth: Any = None) -> Any:
    return prediction_pb2.Feedback(
        request=_as_message(request),
        response=_as_message(response),
        reward=reward,
        truth=_as_message(truth),
    )


# ------------------------------------------------------------------------------------------------
# transport helpers
# ------------------------------------------------------------------------------------------------


def _status(response_raw: Any, gateway: bool) -> tuple[bool, str]:
    if response_raw.status_code == 200:
        return True, ""
    if gateway:
        return False, f"{response_raw.status_code}:{response_raw.reason}"
    return False, response_raw.reason


def _form_post(url: str, payload: Any) -> Any:
    """The wrapper's native REST form: urlencoded body with one field ``json``."""
    requests = _requests()

    logger.debug("POST %s", url)
    return requests.post(url, data={"json": json.dumps(payload)})


def _microservice_rest(result_cls: type, url: str, request: Any) -> Any:
    response_raw = _form_post(url, _to_dict(request))
    success, msg = _status(response_raw, gateway=False)
    try:
        response = _parse(response_raw.json(), prediction_pb2.SeldonMessage())
    except SeldonMicroserviceException as exc:
        return result_cls(request, None, success, exc.message)
    except Exception as exc:  # a body that is not JSON
        return result_cls(request, None, success, str(exc) or type(exc).__name__)
    return result_cls(request, response, success, msg)


def _gateway_rest_response(response_raw: Any, client_return_type: str) -> tuple[Any, str]:
    """(response, parse error) of a gateway REST answer: proto, the raw JSON, or None."""
    if not response_raw.text:
        return None, ""
    try:
        body = response_raw.json()
        if client_return_type == "dict":
            return body, ""
        if client_return_type == "proto":
            return _parse(body, prediction_pb2.SeldonMessage()), ""
        raise SeldonClientException("Invalid client_return_type")
    except (SeldonMicroserviceException, SeldonClientException) as exc:
        return None, exc.message
    except Exception as exc:
        return None, str(exc) or type(exc).__name__


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _channel(
    endpoint: str,
    send: int,
    receive: int,
    channel_credentials: SeldonChannelCredentials | None = None,
    call_credentials: SeldonCallCredentials | None = None,
    ssl: bool | None = None,
) -> Any:
    """Insecure without channel credentials, else TLS (plus the token as call credentials)."""
    import grpc

    options = [("grpc.max_send_message_length", send), ("grpc.max_receive_message_length", receive)]
    if channel_credentials is None:
        return grpc.insecure_channel(endpoint, options=options)
    creds = channel_credentials
    if creds.private_key_file and creds.root_certificates_file and creds.certificate_chain_file:
        channel_creds = grpc.ssl_channel_credentials(
            root_certificates=_read(creds.root_certificates_file),
            private_key=_read(creds.private_key_file),
            certificate_chain=_read(creds.certificate_chain_file),
        )
    elif creds.root_certificates_file:
        channel_creds = grpc.ssl_channel_credentials(root_certificates=_read(creds.root_certificates_file))
    elif ssl is False:
        channel_creds = grpc.local_channel_credentials()
    else:
        channel_creds = grpc.ssl_channel_credentials()
    if creds.verify is False:
        options.append(("grpc.ssl_target_name_override", endpoint.split(":")[0]))
    if call_credentials is not None and call_credentials.token is not None:
        token = call_credentials.token

        def _token(context: Any, callback: Any) -> None:
            callback((("x-auth-token", token),), None)

        channel_creds = grpc.composite_channel_credentials(
            channel_creds, grpc.metadata_call_credentials(_token)
        )
    logger.debug("gRPC request to %s over TLS", endpoint)
    return grpc.secure_channel(endpoint, channel_creds, options=options)


def _gateway_metadata(
    deployment_name: str | None,
    namespace: str | None,
    headers: dict | None,
    channel_credentials: SeldonChannelCredentials | None = None,
    call_credentials: SeldonCallCredentials | None = None,
) -> list:
    metadata = [("seldon", deployment_name or "")]
    if namespace is not None:
        metadata.append(("namespace", namespace))
    metadata.extend((headers or {}).items())
    if channel_credentials is None and call_credentials is not None and call_credentials.token is not None:
        metadata.append(("x-auth-token", call_credentials.token))
    return metadata


def _grpc_result(
    result_cls: type,
    channel: Any,
    rpc: str,
    request: Any,
    client_return_type: str | None = None,
    **call_kwargs: Any,
) -> Any:
    """Make the unary call ``rpc`` (``"<Service>/<Method>"``) on the channel, then close it; ``dict``
    converts request and response to proto JSON dicts."""
    service, method = rpc.split("/")
    call = getattr(getattr(_stubs(), f"{service}Stub")(channel), method)
    try:
        response = call(request=request, **call_kwargs)
        if client_return_type == "dict":
            return result_cls(_to_dict(request), _to_dict(response), True, "")
        if client_return_type not in (None, "proto"):
            raise SeldonClientException("Invalid client_return_type")
        return result_cls(request, response, True, "")
    except Exception as exc:
        return result_cls(request, None, False, str(exc))
    finally:
        channel.close()


def _rest_scheme(ssl: bool | None, credentials: Any) -> str:
    if ssl is True:
        return "https"
    if ssl is False or credentials is None:
        return "http"
    return "https"


def _rest_tls(channel_credentials: SeldonChannelCredentials | None) -> tuple[Any, Any]:
    """(verify, cert) for requests."""
    if channel_credentials is None:
        return True, None
    chain, key = channel_credentials.certificate_chain_file, channel_credentials.private_key_file
    verify = chain if chain is not None else channel_credentials.verify
    cert = (channel_credentials.root_certificates_file, key) if key is not None else None
    return verify, cert


def _auth_headers(headers: dict | None, call_credentials: SeldonCallCredentials | None) -> dict:
    out = dict(headers) if headers is not None else {}
    if call_credentials is not None and call_credentials.token is not None:
        out["X-Auth-Token"] = call_credentials.token
    return out


def _gateway_url(
    scheme: str,
    gateway_endpoint: str,
    deployment_name: str | None,
    namespace: str | None,
    gateway_prefix: str | None,
    http_path: str | None,
    api_path: str,
) -> str:
    """``<scheme>://<endpoint>`` + one of ``/seldon/<ns>/<dep><http_path>``, ``<gateway_prefix><api>``,
    ``/seldon/<ns>/<dep><api>`` or ``/seldon/<dep><api>`` (no namespace)."""
    base = f"{scheme}://{gateway_endpoint}"
    if gateway_prefix is not None and http_path is None:
        return base + gateway_prefix + api_path
    if deployment_name is None:
        raise SeldonClientException("deployment_name is required to call a deployment through a gateway")
    path = f"/seldon/{deployment_name}" if namespace is None else f"/seldon/{namespace}/{deployment_name}"
    return base + path + (http_path if http_path is not None else api_path)


# ------------------------------------------------------------------------------------------------
# the client
# ------------------------------------------------------------------------------------------------


class SeldonClient:
    """A client for a Seldon deployment (``predict``, ``feedback``, ``explain``) or a single wrapped
    model (``microservice``, ``microservice_feedback``). Constructor arguments are defaults that any
    non-None keyword of a call overrides."""

    def __init__(
        self,
        gateway: str = "ambassador",
        transport: str = "rest",
        namespace: str | None = None,
        deployment_name: str | None = None,
        payload_type: str = "tensor",
        gateway_endpoint: str = "localhost:8003",
        microservice_endpoint: str = "localhost:5000",
        grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
        grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
        channel_credentials: SeldonChannelCredentials | None = None,
        call_credentials: SeldonCallCredentials | None = None,
        debug: bool = False,
        client_return_type: str = "dict",
        ssl: bool | None = None,
    ) -> None:
        # Every argument, in order (taken before anything else is bound).
        self.config = {key: value for key, value in locals().items() if key != "self"}
        if debug:
            logger.setLevel(logging.DEBUG)
            http_client.HTTPConnection.debuglevel = 1
        logger.debug("Configuration:%s", self.config)

    def _gather_args(self, **kwargs: Any) -> dict:
        merged = dict(self.config)
        merged.update({key: value for key, value in kwargs.items() if value is not None})
        return merged

    def _validate_args(
        self,
        gateway: str | None = None,
        transport: str | None = None,
        method: str | None = None,
        data: Any = None,
        client_return_type: str = "dict",
        payload_type: str = "tensor",
        **kwargs: Any,
    ) -> None:
        if gateway not in GATEWAYS:
            raise SeldonClientException("Valid values for gateway are 'ambassador', 'istio', or 'seldon'")
        if transport not in TRANSPORTS:
            raise SeldonClientException("Valid values for transport are 'rest' or 'grpc'")
        if method is not None and method not in METHODS:
            raise SeldonClientException(
                "Valid values for method are 'predict', 'route', 'transform-input', 'transform-output', "
                "'aggregate' or None"
            )
        if data is not None and not isinstance(data, np.ndarray):
            raise SeldonClientException("Valid values for data are None or numpy array")
        if client_return_type not in CLIENT_RETURN_TYPES:
            raise SeldonClientException("Valid values for client_return_type are proto or dict")
        if payload_type not in PAYLOAD_TYPES:
            raise SeldonClientException("Valid values for payload_type are 'tensor', 'ndarray' or 'tftensor'")

    def _call_args(self, arguments: dict, skip: tuple = ()) -> dict:
        """A public method's arguments (its ``locals()``, taken before it binds anything else) over the
        constructor's defaults, validated. ``skip`` names the feedback parts, passed on positionally."""
        kwargs = {key: value for key, value in arguments.items() if key != "self" and key not in skip}
        merged = self._gather_args(**kwargs)
        self._validate_args(**merged)
        return merged

    def predict(
        self,
        gateway: str | None = None,
        transport: str | None = None,
        deployment_name: str | None = None,
        payload_type: str | None = None,
        gateway_endpoint: str | None = None,
        microservice_endpoint: str | None = None,
        method: str | None = None,
        shape: tuple = (1, 1),
        namespace: str | None = None,
        data: np.ndarray | None = None,
        bin_data: bytes | bytearray | None = None,
        str_data: str | None = None,
        json_data: str | list | dict | None = None,
        custom_data: any_pb2.Any | None = None,
        names: Iterable[str] | None = None,
        gateway_prefix: str | None = None,
        headers: dict | None = None,
        http_path: str | None = None,
        meta: dict | None = None,
        client_return_type: str | None = None,
        raw_data: dict | None = None,
        ssl: bool | None = None,
    ) -> SeldonClientPrediction:
        """Predict through the gateway (``ambassador``/``istio``) or the executor (``seldon``)."""
        k = self._call_args(locals())
        if k["gateway"] == "seldon":
            return rest_predict_seldon(**k) if k["transport"] == "rest" else grpc_predict_seldon(**k)
        return rest_predict_gateway(**k) if k["transport"] == "rest" else grpc_predict_gateway(**k)

    def feedback(
        self,
        prediction_request: Any = None,
        prediction_response: Any = None,
        prediction_truth: Any = None,
        reward: float = 0,
        gateway: str | None = None,
        transport: str | None = None,
        deployment_name: str | None = None,
        payload_type: str | None = None,
        gateway_endpoint: str | None = None,
        microservice_endpoint: str | None = None,
        method: str | None = None,
        shape: tuple = (1, 1),
        namespace: str | None = None,
        gateway_prefix: str | None = None,
        client_return_type: str | None = None,
        raw_request: dict | None = None,
        ssl: bool | None = None,
    ) -> SeldonClientFeedback:
        """Send feedback (previous request/response as protos or dicts, reward, optional truth)."""
        k = self._call_args(locals(), skip=_FEEDBACK_PARTS)
        parts = (prediction_request, prediction_response, prediction_truth, reward)
        if k["gateway"] == "seldon":
            helper = rest_feedback_seldon if k["transport"] == "rest" else grpc_feedback_seldon
        else:
            helper = rest_feedback_gateway if k["transport"] == "rest" else grpc_feedback_gateway
        return helper(*parts, **k)

    def explain(
        self,
        gateway: str | None = None,
        transport: str | None = None,
        deployment_name: str | None = None,
        payload_type: str | None = None,
        gateway_endpoint: str | None = None,
        shape: tuple = (1, 1),
        namespace: str | None = None,
        data: np.ndarray | None = None,
        bin_data: bytes | bytearray | None = None,
        str_data: str | None = None,
        json_data: str | list | dict | None = None,
        names: Iterable[str] | None = None,
        gateway_prefix: str | None = None,
        headers: dict | None = None,
        http_path: str | None = None,
        client_return_type: str | None = None,
        predictor: str | None = None,
        ssl: bool | None = None,
    ) -> SeldonClientPrediction:
        """Ask the deployment's explainer (REST only); the answer is the explainer's JSON."""
        k = self._call_args(locals())
        if k["transport"] == "grpc":
            raise SeldonClientException("gRPC not supported for explain")
        return explain_predict_gateway(**k)

    def microservice(
        self,
        gateway: str | None = None,
        transport: str | None = None,
        deployment_name: str | None = None,
        payload_type: str | None = None,
        gateway_endpoint: str | None = None,
        microservice_endpoint: str | None = None,
        method: str | None = None,
        shape: tuple = (1, 1),
        namespace: str | None = None,
        data: np.ndarray | None = None,
        datas: list | None = None,
        ndatas: int | None = None,
        bin_data: bytes | bytearray | None = None,
        str_data: str | None = None,
        json_data: str | list | dict | None = None,
        custom_data: any_pb2.Any | None = None,
        names: Iterable[str] | None = None,
    ) -> SeldonClientPrediction | SeldonClientCombine:
        """Call one wrapped model directly (``microservice_endpoint``): predict, transform-input,
        transform-output, route (a SeldonMessage) or aggregate (``datas`` or ``ndatas`` random arrays)."""
        k = self._call_args(locals())
        rest = k["transport"] == "rest"
        method = k.get("method")
        if method in _MESSAGE_RPCS:
            helper = microservice_api_rest_seldon_message if rest else microservice_api_grpc_seldon_message
        elif method == "aggregate":
            helper = microservice_api_rest_aggregate if rest else microservice_api_grpc_aggregate
        else:
            raise SeldonClientException(f"Unknown method {method}")
        return helper(**k)

    def microservice_feedback(
        self,
        prediction_request: Any = None,
        prediction_response: Any = None,
        reward: float = 0,
        gateway: str | None = None,
        transport: str | None = None,
        deployment_name: str | None = None,
        payload_type: str | None = None,
        gateway_endpoint: str | None = None,
        microservice_endpoint: str | None = None,
        method: str | None = None,
        shape: tuple = (1, 1),
        namespace: str | None = None,
    ) -> SeldonClientFeedback:
        """Send feedback to one wrapped model (``/send-feedback`` or ``Generic/SendFeedback``)."""
        k = self._call_args(locals(), skip=_FEEDBACK_PARTS)
        if k["transport"] == "rest":
            return microservice_api_rest_feedback(prediction_request, prediction_response, reward, **k)
        return microservice_api_grpc_feedback(prediction_request, prediction_response, reward, **k)


# ------------------------------------------------------------------------------------------------
# microservice (a single wrapped model)
# ------------------------------------------------------------------------------------------------


def microservice_api_rest_seldon_message(
    method: str = "predict",
    microservice_endpoint: str = "localhost:5000",
    shape: tuple = (1, 1),
    data: object = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    names: Iterable[str] | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """POST ``json=<SeldonMessage JSON>`` to ``http://<endpoint>/<method>``; the answer as a proto."""
    request = _seldon_message(payload_type, shape, data, bin_data, str_data, json_data, None, names)
    return _microservice_rest(SeldonClientPrediction, f"http://{microservice_endpoint}/{method}", request)


def microservice_api_rest_aggregate(
    microservice_endpoint: str = "localhost:5000",
    shape: tuple = (1, 1),
    datas: list | None = None,
    ndatas: int | None = None,
    payload_type: str = "tensor",
    names: Iterable[str] | None = None,
    **kwargs: Any,
) -> SeldonClientCombine:
    """POST ``json={"seldonMessages": [...]}`` to ``/aggregate`` (bytes -> binData, str -> strData)."""
    request = _message_list(datas, ndatas, shape, payload_type, names)
    return _microservice_rest(SeldonClientCombine, f"http://{microservice_endpoint}/aggregate", request)


def microservice_api_rest_feedback(
    prediction_request: Any = None,
    prediction_response: Any = None,
    reward: float = 0,
    microservice_endpoint: str | None = None,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """POST ``json=<Feedback JSON>`` to ``/send-feedback``."""
    request = _feedback(prediction_request, prediction_response, reward)
    return _microservice_rest(SeldonClientFeedback, f"http://{microservice_endpoint}/send-feedback", request)


def microservice_api_grpc_seldon_message(
    method: str = "predict",
    microservice_endpoint: str = "localhost:5000",
    shape: tuple = (1, 1),
    data: object = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    custom_data: any_pb2.Any | None = None,
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    names: Iterable[str] | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """``Model/Predict`` or ``Generic/TransformInput|TransformOutput|Route`` on an insecure channel."""
    request = _seldon_message(payload_type, shape, data, bin_data, str_data, json_data, custom_data, names)
    rpc = _MESSAGE_RPCS.get(method)
    if rpc is None:
        return SeldonClientPrediction(request, None, False, f"Unknown method:{method}")
    channel = _channel(microservice_endpoint, grpc_max_send_message_length, grpc_max_receive_message_length)
    return _grpc_result(SeldonClientPrediction, channel, rpc, request)


def microservice_api_grpc_aggregate(
    microservice_endpoint: str = "localhost:5000",
    shape: tuple = (1, 1),
    datas: list | None = None,
    ndatas: int | None = None,
    payload_type: str = "tensor",
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    names: Iterable[str] | None = None,
    **kwargs: Any,
) -> SeldonClientCombine:
    """``Generic/Aggregate`` with a SeldonMessageList (bytes, str, Any or arrays)."""
    request = _message_list(datas, ndatas, shape, payload_type, names)
    channel = _channel(microservice_endpoint, grpc_max_send_message_length, grpc_max_receive_message_length)
    return _grpc_result(SeldonClientCombine, channel, "Generic/Aggregate", request)


def microservice_api_grpc_feedback(
    prediction_request: Any = None,
    prediction_response: Any = None,
    reward: float = 0,
    microservice_endpoint: str | None = None,
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """``Generic/SendFeedback``."""
    request = _feedback(prediction_request, prediction_response, reward)
    channel = _channel(microservice_endpoint, grpc_max_send_message_length, grpc_max_receive_message_length)
    return _grpc_result(SeldonClientFeedback, channel, "Generic/SendFeedback", request)


# ------------------------------------------------------------------------------------------------
# external API: executor ("seldon") and ingress gateways ("ambassador", "istio")
# ------------------------------------------------------------------------------------------------


def _post_json(
    url: str, payload: Any, headers: dict | None = None, verify: Any = True, cert: Any = None
) -> Any:
    requests = _requests()

    logger.debug("URL is %s", url)
    return requests.post(url, json=payload, headers=headers, verify=verify, cert=cert)


def _ingress_post(
    url: str,
    payload: Any,
    headers: dict | None,
    call_credentials: SeldonCallCredentials | None,
    channel_credentials: SeldonChannelCredentials | None,
) -> Any:
    """POST through an ingress: the token as ``X-Auth-Token``, TLS settings from the channel credentials."""
    verify, cert = _rest_tls(channel_credentials)
    return _post_json(url, payload, _auth_headers(headers, call_credentials), verify, cert)


def _rest_result(result_cls: type, request: Any, response_raw: Any, client_return_type: str) -> Any:
    success, msg = _status(response_raw, gateway=True)
    logger.debug("Raw response: %s", response_raw.text)
    response, error = _gateway_rest_response(response_raw, client_return_type)
    return result_cls(request, response, success, msg or error)


def _rest_predict_request(raw_data: Any, message: tuple) -> tuple[Any, Any]:
    """(SeldonMessage, JSON payload): ``raw_data`` sent as given unless it is None, else the message built
    by ``_seldon_message(*message)`` with the gateway's ``meta`` tags."""
    if raw_data is not None:
        return _parse(raw_data, prediction_pb2.SeldonMessage()), raw_data
    request = _seldon_message(*message, gateway=True)
    return request, _to_dict(request)


def _grpc_predict_request(raw_data: Any, message: tuple, gateway: bool) -> Any:
    """``raw_data`` unless it is None (a SeldonMessage as given, its JSON dict parsed), else the message
    built by ``_seldon_message(*message)``."""
    if isinstance(raw_data, prediction_pb2.SeldonMessage):
        return raw_data
    if raw_data is not None:
        return _parse(raw_data, prediction_pb2.SeldonMessage())
    return _seldon_message(*message, gateway=gateway)


def rest_predict_seldon(
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8002",
    shape: tuple = (1, 1),
    data: object = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    names: Iterable[str] | None = None,
    client_return_type: str = "proto",
    raw_data: dict | None = None,
    meta: dict | None = None,
    headers: dict | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """POST JSON to the executor's ``http://<endpoint>/api/v1.0/predictions``."""
    # The executor paths pass ``raw_data or None``: they ignore an empty raw_data (the ingress paths send
    # it), as the original does.
    message = (payload_type, shape, data, bin_data, str_data, json_data, None, names, meta)
    request, payload = _rest_predict_request(raw_data or None, message)
    response_raw = _post_json(f"http://{gateway_endpoint}/api/v1.0/predictions", payload, headers)
    return _rest_result(SeldonClientPrediction, request, response_raw, client_return_type)


def grpc_predict_seldon(
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8004",
    shape: tuple = (1, 1),
    data: np.ndarray | None = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    custom_data: any_pb2.Any | None = None,
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    names: Iterable[str] | None = None,
    client_return_type: str = "proto",
    raw_data: Any = None,
    headers: dict | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """``Seldon/Predict`` on the executor's gRPC endpoint (insecure)."""
    message = (payload_type, shape, data, bin_data, str_data, json_data, custom_data, names)
    request = _grpc_predict_request(raw_data or None, message, gateway=False)  # see rest_predict_seldon
    channel = _channel(gateway_endpoint, grpc_max_send_message_length, grpc_max_receive_message_length)
    metadata = list((headers or {}).items())
    extra = {"metadata": metadata} if metadata else {}
    return _grpc_result(
        SeldonClientPrediction, channel, "Seldon/Predict", request, client_return_type, **extra
    )


def rest_predict_gateway(
    deployment_name: str,
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8003",
    shape: tuple = (1, 1),
    data: np.ndarray | None = None,
    headers: dict | None = None,
    gateway_prefix: str | None = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | dict | list | None = None,
    names: Iterable[str] | None = None,
    call_credentials: SeldonCallCredentials | None = None,
    channel_credentials: SeldonChannelCredentials | None = None,
    http_path: str | None = None,
    meta: dict | None = None,
    client_return_type: str = "proto",
    raw_data: dict | None = None,
    ssl: bool | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """POST JSON to ``<scheme>://<endpoint>/seldon/[<namespace>/]<deployment>/api/v1.0/predictions``
    (or ``<gateway_prefix>/api/v1.0/predictions``, or ``/seldon/<ns>/<dep><http_path>``); https when
    call credentials are given unless ``ssl=False``; token in ``X-Auth-Token``."""
    message = (payload_type, shape, data, bin_data, str_data, json_data, None, names, meta)
    request, payload = _rest_predict_request(raw_data, message)
    scheme = _rest_scheme(ssl, call_credentials)
    url = _gateway_url(
        scheme,
        gateway_endpoint,
        deployment_name,
        namespace,
        gateway_prefix,
        http_path,
        "/api/v1.0/predictions",
    )
    response_raw = _ingress_post(url, payload, headers, call_credentials, channel_credentials)
    return _rest_result(SeldonClientPrediction, request, response_raw, client_return_type)


def explain_predict_gateway(
    deployment_name: str,
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8003",
    gateway: str | None = None,
    transport: str = "rest",
    shape: tuple = (1, 1),
    data: np.ndarray | None = None,
    headers: dict | None = None,
    gateway_prefix: str | None = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    names: Iterable[str] | None = None,
    call_credentials: SeldonCallCredentials | None = None,
    channel_credentials: SeldonChannelCredentials | None = None,
    http_path: str | None = None,
    client_return_type: str = "dict",
    predictor: str | None = None,
    ssl: bool | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """POST JSON to ``/seldon/[<ns>/]<dep>-explainer/<predictor>/api/v1.0/explain`` (``/api/v1.0/explain``
    for ``gateway="seldon"``); on 200 ``request``/``response`` are the JSON sent and received."""
    if transport != "rest":
        raise SeldonClientException("Only supported transport is REST for explanations")
    payload = _to_dict(_seldon_message(payload_type, shape, data, bin_data, str_data, json_data, None, names))
    scheme = _rest_scheme(ssl, channel_credentials)
    # The executor serves the explainer at its root (an empty prefix); a gateway path (no prefix, or an
    # http_path) needs the predictor, and the deployment, to name the explainer.
    prefix = "" if gateway == "seldon" else gateway_prefix
    if not predictor and (prefix is None or http_path is not None):
        raise SeldonClientException(
            "Predictor parameter must be provided to talk through explainer via gateway"
        )
    explainer = None if deployment_name is None else f"{deployment_name}-explainer/{predictor}"
    url = _gateway_url(scheme, gateway_endpoint, explainer, namespace, prefix, http_path, "/api/v1.0/explain")
    response_raw = _ingress_post(url, payload, headers, call_credentials, channel_credentials)
    if response_raw.status_code != 200:
        return SeldonClientPrediction(
            payload, response_raw, False, f"Unsuccessful request with status code: {response_raw.status_code}"
        )
    if client_return_type != "dict":
        raise SeldonClientException("Invalid client_return_type")
    return SeldonClientPrediction(payload, response_raw.json(), True, "")


def grpc_predict_gateway(
    deployment_name: str,
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8003",
    shape: tuple = (1, 1),
    data: np.ndarray | None = None,
    headers: dict | None = None,
    payload_type: str = "tensor",
    bin_data: bytes | bytearray | None = None,
    str_data: str | None = None,
    json_data: str | list | dict | None = None,
    custom_data: any_pb2.Any | None = None,
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    names: Iterable[str] | None = None,
    call_credentials: SeldonCallCredentials | None = None,
    channel_credentials: SeldonChannelCredentials | None = None,
    meta: dict | None = None,
    client_return_type: str = "proto",
    raw_data: Any = None,
    ssl: bool | None = None,
    **kwargs: Any,
) -> SeldonClientPrediction:
    """``Seldon/Predict`` through the ingress, with metadata ``seldon=<deployment>``,
    ``namespace=<namespace>`` and the headers; TLS when channel credentials are given."""
    message = (payload_type, shape, data, bin_data, str_data, json_data, custom_data, names, meta)
    request = _grpc_predict_request(raw_data, message, gateway=True)
    channel = _channel(
        gateway_endpoint,
        grpc_max_send_message_length,
        grpc_max_receive_message_length,
        channel_credentials,
        call_credentials,
        ssl,
    )
    metadata = _gateway_metadata(deployment_name, namespace, headers, channel_credentials, call_credentials)
    return _grpc_result(
        SeldonClientPrediction, channel, "Seldon/Predict", request, client_return_type, metadata=metadata
    )


def _feedback_request(request: Any, response: Any, truth: Any, reward: float, raw_request: Any) -> tuple:
    """(Feedback proto, JSON payload) from the parts or from ``raw_request`` (a dict or a Feedback)."""
    if isinstance(raw_request, prediction_pb2.Feedback):
        return raw_request, _to_dict(raw_request)
    if raw_request:
        return _parse(raw_request, prediction_pb2.Feedback()), raw_request
    feedback = _feedback(request, response, reward, truth)
    return feedback, _to_dict(feedback)


def rest_feedback_seldon(
    prediction_request: Any = None,
    prediction_response: Any = None,
    prediction_truth: Any = None,
    reward: float = 0,
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8002",
    client_return_type: str = "proto",
    raw_request: dict | None = None,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """POST the Feedback JSON to the executor's ``http://<endpoint>/api/v1.0/feedback``."""
    request, payload = _feedback_request(
        prediction_request, prediction_response, prediction_truth, reward, raw_request
    )
    response_raw = _post_json(f"http://{gateway_endpoint}/api/v1.0/feedback", payload)
    return _rest_result(SeldonClientFeedback, request, response_raw, client_return_type)


def grpc_feedback_seldon(
    prediction_request: Any = None,
    prediction_response: Any = None,
    prediction_truth: Any = None,
    reward: float = 0,
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8004",
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    client_return_type: str = "proto",
    raw_request: Any = None,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """``Seldon/SendFeedback`` on the executor's gRPC endpoint."""
    request, _ = _feedback_request(
        prediction_request, prediction_response, prediction_truth, reward, raw_request
    )
    channel = _channel(gateway_endpoint, grpc_max_send_message_length, grpc_max_receive_message_length)
    return _grpc_result(SeldonClientFeedback, channel, "Seldon/SendFeedback", request, client_return_type)


def rest_feedback_gateway(
    prediction_request: Any = None,
    prediction_response: Any = None,
    prediction_truth: Any = None,
    reward: float = 0,
    deployment_name: str = "",
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8003",
    headers: dict | None = None,
    gateway_prefix: str | None = None,
    client_return_type: str = "proto",
    raw_request: dict | None = None,
    call_credentials: SeldonCallCredentials | None = None,
    channel_credentials: SeldonChannelCredentials | None = None,
    ssl: bool | None = None,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """POST the Feedback JSON to ``/seldon/[<namespace>/]<deployment>/api/v1.0/feedback`` (or
    ``<gateway_prefix>/api/v1.0/feedback``)."""
    request, payload = _feedback_request(
        prediction_request, prediction_response, prediction_truth, reward, raw_request
    )
    scheme = _rest_scheme(ssl, call_credentials)
    url = _gateway_url(
        scheme, gateway_endpoint, deployment_name, namespace, gateway_prefix, None, "/api/v1.0/feedback"
    )
    response_raw = _ingress_post(url, payload, headers, call_credentials, channel_credentials)
    return _rest_result(SeldonClientFeedback, request, response_raw, client_return_type)


def grpc_feedback_gateway(
    prediction_request: Any = None,
    prediction_response: Any = None,
    prediction_truth: Any = None,
    reward: float = 0,
    deployment_name: str = "",
    namespace: str | None = None,
    gateway_endpoint: str = "localhost:8003",
    headers: dict | None = None,
    grpc_max_send_message_length: int = _DEFAULT_GRPC_MAX,
    grpc_max_receive_message_length: int = _DEFAULT_GRPC_MAX,
    client_return_type: str = "proto",
    raw_request: Any = None,
    call_credentials: SeldonCallCredentials | None = None,
    channel_credentials: SeldonChannelCredentials | None = None,
    ssl: bool | None = None,
    **kwargs: Any,
) -> SeldonClientFeedback:
    """``Seldon/SendFeedback`` through the ingress with the ``seldon``/``namespace`` metadata."""
    request, _ = _feedback_request(
        prediction_request, prediction_response, prediction_truth, reward, raw_request
    )
    channel = _channel(
        gateway_endpoint,
        grpc_max_send_message_length,
        grpc_max_receive_message_length,
        channel_credentials,
        call_credentials,
        ssl,
    )
    metadata = _gateway_metadata(deployment_name, namespace, headers, channel_credentials, call_credentials)
    return _grpc_result(
        SeldonClientFeedback, channel, "Seldon/SendFeedback", request, client_return_type, metadata=metadata
    )
