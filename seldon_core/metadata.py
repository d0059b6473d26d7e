"""The original's ``seldon_core.metadata``: model metadata validation."""

from __future__ import annotations

import os

from seldon_wrapper.metadata import MODEL_METADATA_SCHEMA, SeldonInvalidMetadataError
from seldon_wrapper.metadata import validate_model_metadata as _validate_model_metadata
from seldon_wrapper.settings import split_image

__all__ = ["JSON_SCHEMA", "MODEL_METADATA_SCHEMA", "SeldonInvalidMetadataError", "validate_model_metadata"]

JSON_SCHEMA = MODEL_METADATA_SCHEMA  # the original's name for the same schema


def validate_model_metadata(data: dict) -> dict:
    """``data`` over the defaults (name and version from ``PREDICTIVE_UNIT_IMAGE``), validated.

    Raises SeldonInvalidMetadataError when it does not match MODEL_METADATA_SCHEMA.
    """
    image_name, image_version = split_image(os.environ.get("PREDICTIVE_UNIT_IMAGE"))
    return _validate_model_metadata(data, image_name, image_version)
