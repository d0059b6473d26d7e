"""The original's ``seldon_core.utils``: SeldonMessage conversions, over seldon-wrapper's codecs.

JSON helpers return plain Python values (lists, not numpy arrays), as the original did.
"""

from __future__ import annotations

# base64, json, sys, any_pb2, MessageToDict, ParseDict and the typing names: names the original's
# module had.
import base64  # noqa: F401
import json  # noqa: F401
import logging
import os
import sys  # noqa: F401
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union  # noqa: F401, UP035

import numpy as np
from google.protobuf import any_pb2, json_format  # noqa: F401
from google.protobuf.json_format import MessageToDict, ParseDict  # noqa: F401
from google.protobuf.struct_pb2 import ListValue

from seldon_core import _adapter
from seldon_core.env_utils import (
    ENV_MODEL_IMAGE,
    ENV_MODEL_NAME,
    NONIMPLEMENTED_IMAGE_MSG,
    NONIMPLEMENTED_MSG,
    get_image_name,
    get_model_name,
)
from seldon_core.flask_utils import SeldonMicroserviceException
from seldon_core.imports_helper import _TF_PRESENT
from seldon_core.proto import prediction_pb2
from seldon_core.user_model import (
    SeldonComponent,  # noqa: F401
    client_class_names,
    client_custom_tags,
    client_feature_names,
)
from seldon_wrapper.codecs import seldon_json, seldon_proto
from seldon_wrapper.codecs.message import DATA, NDARRAY, TENSOR, TFTENSOR
from seldon_wrapper.component import Component, SeldonResponse
from seldon_wrapper.settings import env_bool

logger = logging.getLogger(__name__)

__all__ = [
    "ENV_MODEL_IMAGE",
    "ENV_MODEL_NAME",
    "NONIMPLEMENTED_IMAGE_MSG",
    "NONIMPLEMENTED_MSG",
    "_TF_PRESENT",
    "array_to_grpc_datadef",
    "array_to_list_value",
    "array_to_rest_datadef",
    "client_class_names",
    "client_custom_tags",
    "client_feature_names",
    "construct_response",
    "construct_response_json",
    "extract_feedback_request_parts",
    "extract_request_parts",
    "extract_request_parts_json",
    "feedback_to_json",
    "get_data_from_proto",
    "get_image_name",
    "get_meta_from_proto",
    "get_model_name",
    "get_request_path",
    "getenv",
    "getenv_as_bool",
    "grpc_datadef_to_array",
    "json_to_feedback",
    "json_to_seldon_message",
    "json_to_seldon_messages",
    "json_to_seldon_model_metadata",
    "rest_datadef_to_array",
    "seldon_message_to_json",
    "seldon_messages_to_json",
]

_JSON_PAYLOADS = ("data", "jsonData", "strData", "binData")  # the REST decoding priority
_INNER_KINDS = {"tensor": TENSOR, "ndarray": NDARRAY, "tftensor": TFTENSOR}


# -- environment -------------------------------------------------------------------------------


def getenv(*env_vars: str, default: Any = None) -> Any:
    """The value of the first of ``env_vars`` that is set (even to ""), else ``default``."""
    for name in env_vars:
        if name in os.environ:
            return os.environ[name]
    return default


def getenv_as_bool(*env_vars: str, default: bool = False) -> bool:
    """``1``, ``true``, ``t`` (any case) are True, any other value False; unset -> ``default``."""
    value = getenv(*env_vars)
    if value is None:
        return default
    return env_bool({"value": value}, "value", default)


def get_request_path() -> dict:
    """``{PREDICTIVE_UNIT_ID: PREDICTIVE_UNIT_IMAGE}`` when PREDICTIVE_UNIT_ID is set, else ``{}``.

    ``get_model_name`` and ``get_image_name`` are this module's, looked up when called: patching
    them changes every ``meta.requestPath`` of the in-process apps and functions.
    """
    model_name = get_model_name()
    if model_name == NONIMPLEMENTED_MSG:
        return {}
    return {model_name: get_image_name()}


def setup_tracing(interface_name: str) -> Any:
    """An OpenTelemetry tracer named ``interface_name`` (the original returned a Jaeger tracer).

    Tracing is set up as ``--tracing`` does (``seldon_wrapper.tracing``); None when the
    ``tracing`` extra is not installed.
    """
    from seldon_wrapper import tracing

    if not tracing.setup(1, interface_name):
        return None
    from opentelemetry import trace

    return trace.get_tracer(interface_name)


# -- JSON <-> proto ----------------------------------------------------------------------------


def json_to_seldon_message(message_json: Any) -> Any:
    """A SeldonMessage from its JSON dict (None -> empty); a 400 SeldonMicroserviceException if invalid."""
    return seldon_proto.json_to_seldon_message(message_json)


def json_to_feedback(message_json: Any) -> Any:
    if not isinstance(message_json, dict):
        raise SeldonMicroserviceException(f"Invalid request data type: {message_json}")
    return seldon_proto.parse_json(message_json, seldon_proto.Feedback())


def json_to_seldon_messages(message_json: Any) -> Any:
    """A SeldonMessageList from ``{"seldonMessages": [...]}`` (or a JSON list of messages)."""
    if isinstance(message_json, list):
        message_json = {"seldonMessages": message_json}
    return seldon_proto.parse_json(message_json, prediction_pb2.SeldonMessageList())


def json_to_seldon_model_metadata(metadata_json: dict) -> Any:
    """A SeldonModelMetadata; keys it has no field for are ignored."""
    try:
        return json_format.ParseDict(
            metadata_json, prediction_pb2.SeldonModelMetadata(), ignore_unknown_fields=True
        )
    except json_format.ParseError as exc:
        raise SeldonMicroserviceException(f"Invalid JSON: {exc}") from None


def seldon_message_to_json(message_proto: Any) -> dict:
    return seldon_proto.message_to_dict(message_proto)


def seldon_messages_to_json(message_protos: Any) -> dict:
    return seldon_proto.message_to_dict(message_protos)


def feedback_to_json(message_proto: Any) -> dict:
    return seldon_proto.message_to_dict(message_proto)


# -- proto parts -------------------------------------------------------------------------------


def get_data_from_proto(request: Any) -> Any:
    """The payload of a SeldonMessage as the user method receives it over gRPC."""
    return seldon_proto.decode_message(request).features


def get_meta_from_proto(request: Any) -> dict:
    return seldon_proto.message_to_dict(request.meta)


def grpc_datadef_to_array(datadef: Any) -> np.ndarray:
    return seldon_proto.datadef_to_array(datadef)


def rest_datadef_to_array(datadef: dict) -> np.ndarray:
    """A REST ``data`` object -> numpy (``tensor``, ``ndarray`` or ``tftensor``; else an empty array)."""
    return seldon_json.decode_message({"data": datadef}).features


# -- arrays -> payloads ------------------------------------------------------------------------


def array_to_rest_datadef(data_type: str, array: Any, names: list | None = None) -> dict:
    """A REST ``data`` object of ``data_type`` (tensor, ndarray, tftensor) holding ``array``."""
    names = list(names) if names is not None else []
    datadef = seldon_json.encode_data(np.asarray(array), data_type, lambda _: names)
    datadef["names"] = names
    return _tensor_shape_tuple(_adapter.plain_json(datadef))


def _tensor_shape_tuple(datadef: Any) -> Any:
    """A built ``tensor``'s shape as a tuple (``array.shape``), as the original's helpers returned it;
    JSON encodes it as the same list."""
    tensor = datadef.get("tensor") if isinstance(datadef, dict) else None
    if isinstance(tensor, dict) and isinstance(tensor.get("shape"), list):
        tensor["shape"] = tuple(tensor["shape"])
    return datadef


def array_to_grpc_datadef(data_type: str, array: Any, names: Any = None) -> Any:
    """A ``DefaultData`` of ``data_type`` (tensor, ndarray, tftensor) holding ``array``."""
    names = list(names) if names is not None else []
    datadef = seldon_proto.encode_response(np.asarray(array), data_type, {}, lambda _: names).data
    del datadef.names[:]
    datadef.names.extend(names)
    return datadef


def array_to_list_value(array: Any, lv: ListValue | None = None) -> ListValue:
    """A protobuf ListValue (nested for 2-D and up) with the values of ``array``; fills ``lv`` if given."""
    if lv is None:
        lv = ListValue()
    values = np.asarray(array).tolist()
    lv.extend(values if isinstance(values, list) else [values])
    return lv


# -- requests -> parts -------------------------------------------------------------------------


def extract_request_parts_json(request: Any) -> tuple[Any, dict | None, dict | None, str]:
    """A REST message -> (features, meta, ``data`` object or None, payload key)."""
    decoded = seldon_json.decode_message(request)
    data_type = next(key for key in _JSON_PAYLOADS if key in request)
    return decoded.features, decoded.meta, request.get("data"), data_type


def extract_request_parts(request: Any) -> tuple[Any, dict, Any, str]:
    """A SeldonMessage -> (features, meta dict, its DefaultData, payload field name)."""
    decoded = seldon_proto.decode_message(request)
    return decoded.features, decoded.meta, request.data, request.WhichOneof("data_oneof")


def extract_feedback_request_parts(request: Any) -> tuple[Any, np.ndarray, np.ndarray, float]:
    """A Feedback -> (request DefaultData, request features, truth, reward)."""
    datadef = request.request.data
    return (
        datadef,
        seldon_proto.datadef_to_array(datadef),
        seldon_proto.datadef_to_array(request.truth.data),
        request.reward,
    )


# -- responses ---------------------------------------------------------------------------------


def _names_for(user_model: Any, is_request: bool, request_names: Any) -> Any:
    """Output names: the user's feature names (or the request's) for requests, class names otherwise."""
    if is_request:
        return lambda _: list(client_feature_names(user_model, list(request_names)))
    return Component(user_model).class_names


def _response_meta(
    user_model: Any, meta: dict | None, puid: Any, custom_metrics: Any, runtime_tags: Any
) -> dict:
    dataplane = _adapter.make_dataplane(user_model, with_metadata=False)
    response = SeldonResponse(None, tags=runtime_tags or {})
    return dataplane.response_meta(meta, puid, response, list(custom_metrics or []))


def _json_data_kind(message: Any) -> str | None:
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        return None
    return next((kind for key, kind in _INNER_KINDS.items() if key in data), DATA)


def construct_response_json(
    user_model: Any,
    is_request: bool,
    client_request_raw: Any,
    client_raw_response: Any,
    meta: dict | None = None,
    custom_metrics: list | None = None,
    runtime_tags: dict | None = None,
) -> dict:
    """The REST SeldonMessage for a user result, answering in the request's payload kind.

    ``meta`` is the request meta whose tags, metrics and requestPath are carried over; puid comes
    from ``client_request_raw``.
    """
    request = client_request_raw
    if isinstance(request, dict) and isinstance(request.get("seldonMessages"), list):
        request = request["seldonMessages"]
    if isinstance(request, list):
        request = request[0] if request else {}
    request_meta = request.get("meta") if isinstance(request, dict) else None
    puid = request_meta.get("puid") if isinstance(request_meta, dict) else None
    data = request.get("data") if isinstance(request, dict) else None
    request_names = data.get("names", []) if isinstance(data, dict) else []
    response_meta = _response_meta(user_model, meta, puid, custom_metrics, runtime_tags)
    names = _names_for(user_model, is_request, request_names)
    response = _adapter.plain_json(
        seldon_json.encode_response(client_raw_response, _json_data_kind(request), response_meta, names)
    )
    _tensor_shape_tuple(response.get("data"))
    return response


def construct_response(
    user_model: Any,
    is_request: bool,
    client_request: Any,
    client_raw_response: Any,
    meta: dict | None = None,
    custom_metrics: list | None = None,
    runtime_tags: dict | None = None,
) -> Any:
    """The gRPC SeldonMessage for a user result, answering in the request's payload kind."""
    if client_request.WhichOneof("data_oneof") == "data":
        inner = client_request.data.WhichOneof("data_oneof")
        data_kind: str | None = _INNER_KINDS.get(inner, DATA)
    else:
        data_kind = None
    response_meta = _response_meta(user_model, meta, client_request.meta.puid, custom_metrics, runtime_tags)
    names = _names_for(user_model, is_request, client_request.data.names)
    return seldon_proto.encode_response(client_raw_response, data_kind, response_meta, names)
