"""Model metadata: ``init_metadata()`` merged with ``MODEL_METADATA``, validated with jsonschema.

The schema accepts the v1 message types and V2 tensor descriptions, as the original did.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

logger = logging.getLogger(__name__)

V2_DATATYPES = [
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BYTES",
]
_V1_ARRAY_TYPES = ["tensor", "ndarray", "tftensor"]
_V1_TYPES = _V1_ARRAY_TYPES + ["jsonData", "strData", "binData"]


def _message_type(messagetype: dict, **properties: dict) -> dict:
    """A v1 message description: a required ``messagetype`` matching ``messagetype``, and nothing but
    ``properties`` beside it."""
    return {
        "type": "object",
        "properties": {"messagetype": messagetype, **properties},
        "required": ["messagetype"],
        "additionalProperties": False,
    }


_ARRAY_SCHEMA = {
    "type": "object",
    "properties": {
        "names": {"type": "array", "items": {"type": "string"}},
        "shape": {"type": "array", "items": {"type": "integer"}},
    },
    "additionalProperties": False,
}
_MESSAGE_SCHEMA = {
    "anyOf": [
        _message_type({"enum": _V1_ARRAY_TYPES}, schema=_ARRAY_SCHEMA),
        _message_type({"const": "jsonData"}, schema={"type": "object"}),
        _message_type({"const": "strData"}),
        _message_type({"const": "binData"}),
        _message_type({"type": "string", "not": {"enum": _V1_TYPES}}, schema={"type": "object"}),
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "datatype": {"enum": V2_DATATYPES},
                "shape": {"type": "array", "items": {"type": "integer"}},
            },
            "additionalProperties": False,
        },
    ]
}

MODEL_METADATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "versions": {"type": "array", "items": {"type": "string"}},
        "platform": {"type": "string"},
        "inputs": {"type": "array", "items": _MESSAGE_SCHEMA},
        "outputs": {"type": "array", "items": _MESSAGE_SCHEMA},
        "custom": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


# jsonschema and yaml are imported when first needed: a model without metadata never needs
# them, and they would add ~4.4 MB to the server's master (and so to every process tree).
@functools.cache
def _validator(schema_id: str) -> Any:
    import jsonschema

    schema = MODEL_METADATA_SCHEMA if schema_id == "v1" else V2_MODEL_METADATA_SCHEMA
    return jsonschema.Draft7Validator(schema)


class SeldonInvalidMetadataError(Exception):
    """Metadata that does not match the schema."""


def _with_defaults(data: dict, image_name: str, image_version: str) -> dict:
    defaults = {"name": image_name, "versions": [image_version], "platform": ""}
    return {**defaults, "inputs": [], "outputs": [], "custom": {}, **data}


def validate_model_metadata(data: dict, image_name: str = "", image_version: str = "") -> dict:
    """Merge the defaults under ``data`` and validate; raise SeldonInvalidMetadataError."""
    import jsonschema

    meta = _with_defaults(data, image_name, image_version)
    error = jsonschema.exceptions.best_match(_validator("v1").iter_errors(meta))
    if error is not None:
        raise SeldonInvalidMetadataError(f"Model metadata validation error: {error.message}")
    return meta


def env_metadata(text: str | None) -> dict:
    """``MODEL_METADATA`` (YAML or JSON); a parse error is logged and ignored."""
    if not text:
        return {}
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        logger.error("Failed to parse MODEL_METADATA: %s", str(exc).replace("\n", " "))
        return {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        logger.error("MODEL_METADATA must be a mapping, got %s", type(value).__name__)
        return {}
    return value


def compute_metadata(
    user_metadata: dict, env_text: str | None, image_name: str, image_version: str
) -> dict[str, Any] | None:
    """The served metadata, or None when it is invalid (then /metadata answers 500)."""
    merged = {**user_metadata, **env_metadata(env_text)}
    if not merged:  # the defaults alone are valid by construction: no validator to import
        return _with_defaults({}, image_name, image_version)
    try:
        return validate_model_metadata(merged, image_name, image_version)
    except SeldonInvalidMetadataError as exc:
        logger.error("%s", exc)
        return None


# -- V2 model metadata ------------------------------------------------------------------------

V2_MODEL_METADATA_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["name", "platform"],
    "properties": {
        "name": {"type": "string"},
        "versions": {"type": "array", "items": {"type": "string"}},
        "platform": {"type": "string"},
        "inputs": {"type": "array", "items": {"$ref": "#/definitions/tensor"}},
        "outputs": {"type": "array", "items": {"$ref": "#/definitions/tensor"}},
        "properties": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "definitions": {
        "tensor": {
            "type": "object",
            "required": ["name", "datatype", "shape"],
            "properties": {
                "name": {"type": "string"},
                "datatype": {"enum": V2_DATATYPES},
                "shape": {"type": "array", "items": {"type": "integer"}},
            },
        }
    },
}


def v2_validator() -> Any:
    """A jsonschema validator of V2 model metadata (tests check what we serve with it)."""
    return _validator("v2")


def _v2_tensors(entries: list, prefix: str) -> list[dict]:
    """V2 tensor entries kept (gaps filled), v1 array entries with a shape as FP64, others dropped."""
    tensors = []
    for index, entry in enumerate(entries):
        if "datatype" in entry:
            tensors.append(
                {
                    "name": entry.get("name") or f"{prefix}-{index}",
                    "datatype": entry["datatype"],
                    "shape": list(entry.get("shape", [-1])),
                }
            )
        elif entry.get("messagetype") in ("tensor", "ndarray", "tftensor"):
            shape = (entry.get("schema") or {}).get("shape")
            if shape:
                tensors.append({"name": f"{prefix}-{index}", "datatype": "FP64", "shape": list(shape)})
    return tensors


def to_v2_metadata(metadata: dict | None, model_name: str) -> dict:
    """The V2 view of the v1 metadata: tensors translated, ``custom`` moved to ``properties``."""
    metadata = metadata or {}
    v2 = {
        "name": model_name,
        "versions": [version for version in metadata.get("versions", []) if version],
        "platform": metadata.get("platform", ""),
        "inputs": _v2_tensors(metadata.get("inputs", []), "input"),
        "outputs": _v2_tensors(metadata.get("outputs", []), "output"),
    }
    if metadata.get("custom"):
        v2["properties"] = dict(metadata["custom"])
    return v2
