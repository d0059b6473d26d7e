"""Model metadata: ``init_metadata()`` merged with ``MODEL_METADATA``, validated with jsonschema.

The schema accepts the v1 message types and V2 tensor descriptions, as the original did.
"""

from __future__ import annotations

import logging
from typing import Any

import jsonschema
import yaml

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

_MESSAGE_SCHEMA = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "messagetype": {"enum": _V1_ARRAY_TYPES},
                "schema": {
                    "type": "object",
                    "properties": {
                        "names": {"type": "array", "items": {"type": "string"}},
                        "shape": {"type": "array", "items": {"type": "integer"}},
                    },
                    "additionalProperties": False,
                },
            },
            "required": ["messagetype"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"messagetype": {"const": "jsonData"}, "schema": {"type": "object"}},
            "required": ["messagetype"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"messagetype": {"const": "strData"}},
            "required": ["messagetype"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"messagetype": {"const": "binData"}},
            "required": ["messagetype"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "messagetype": {"type": "string", "not": {"enum": _V1_TYPES}},
                "schema": {"type": "object"},
            },
            "required": ["messagetype"],
            "additionalProperties": False,
        },
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

_VALIDATOR = jsonschema.Draft7Validator(MODEL_METADATA_SCHEMA)


class SeldonInvalidMetadataError(Exception):
    """Metadata that does not match the schema."""


def validate_model_metadata(data: dict, image_name: str = "", image_version: str = "") -> dict:
    """Merge the defaults under ``data`` and validate; raise SeldonInvalidMetadataError."""
    meta = {
        "name": image_name,
        "versions": [image_version],
        "platform": "",
        "inputs": [],
        "outputs": [],
        "custom": {},
        **data,
    }
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(meta))
    if error is not None:
        raise SeldonInvalidMetadataError(f"Model metadata validation error: {error.message}")
    return meta


def env_metadata(text: str | None) -> dict:
    """``MODEL_METADATA`` (YAML or JSON); a parse error is logged and ignored."""
    if not text:
        return {}
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
    try:
        return validate_model_metadata(merged, image_name, image_version)
    except SeldonInvalidMetadataError as exc:
        logger.error("%s", exc)
        return None
