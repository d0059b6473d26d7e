"""The original's ``seldon_core.metadata``: model metadata validation.

``MODEL_IMAGE`` is read from ``PREDICTIVE_UNIT_IMAGE`` at import, as in the original, and looked
up through this module when metadata is validated, so patching it changes the default name and
version. The schemas are seldon-wrapper's (``seldon_wrapper.metadata``) under the original's names.
"""

from __future__ import annotations

import json  # noqa: F401 - a name the original's module had
import logging
import os
from typing import Dict  # noqa: F401, UP035 - a name the original's module had

from seldon_core._lazy import lazy_attributes
from seldon_core.metrics import split_image_tag
from seldon_wrapper.metadata import MODEL_METADATA_SCHEMA, V2_DATATYPES, SeldonInvalidMetadataError
from seldon_wrapper.metadata import validate_model_metadata as _validate_model_metadata

__all__ = [
    "INPUTS_OUTPUTS_SCHEMA",
    "JSON_SCHEMA",
    "METADATA_TENSOR_SCHEMA",
    "MODEL_IMAGE",
    "MODEL_METADATA_SCHEMA",
    "SELDON_ARRAY_SCHEMA",
    "SELDON_BIN_SCHEMA",
    "SELDON_CUSTOM_DEFINITION",
    "SELDON_JSON_SCHEMA",
    "SELDON_STR_SCHEMA",
    "TENSOR_DATA_TYPES",
    "SeldonInvalidMetadataError",
    "validate_model_metadata",
]

logger = logging.getLogger(__name__)

MODEL_IMAGE = os.environ.get("PREDICTIVE_UNIT_IMAGE")

JSON_SCHEMA = MODEL_METADATA_SCHEMA  # the whole metadata document
INPUTS_OUTPUTS_SCHEMA = MODEL_METADATA_SCHEMA["properties"]["inputs"]
(
    SELDON_ARRAY_SCHEMA,
    SELDON_JSON_SCHEMA,
    SELDON_STR_SCHEMA,
    SELDON_BIN_SCHEMA,
    SELDON_CUSTOM_DEFINITION,
    METADATA_TENSOR_SCHEMA,
) = INPUTS_OUTPUTS_SCHEMA["items"]["anyOf"]
TENSOR_DATA_TYPES = V2_DATATYPES


# jsonschema's names (the original's module had them), imported on first read: the server's
# processes never need them unless a model has metadata.
__getattr__ = lazy_attributes(
    __name__,
    globals(),
    {"validate": ("jsonschema", "validate"), "ValidationError": ("jsonschema", "ValidationError")},
)


def default_image() -> tuple[str, str]:
    """(name, version) of ``MODEL_IMAGE`` as this module holds it now; ``("", "")`` when unset."""
    return split_image_tag(MODEL_IMAGE) if MODEL_IMAGE is not None else ("", "")


def validate_model_metadata(data: dict) -> dict:
    """``data`` over the defaults (name and version from ``MODEL_IMAGE``), validated.

    Raises SeldonInvalidMetadataError when it does not match JSON_SCHEMA.
    """
    image_name, image_version = default_image()
    return _validate_model_metadata(data, image_name, image_version)
