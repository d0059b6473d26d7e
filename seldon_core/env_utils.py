"""The original's ``seldon_core.env_utils``: the Seldon environment variables the operator sets."""

from __future__ import annotations

import json
import os

from seldon_wrapper.settings import NOT_IMPLEMENTED

ENV_MODEL_NAME = "PREDICTIVE_UNIT_ID"
ENV_MODEL_IMAGE = "PREDICTIVE_UNIT_IMAGE"
ENV_SELDON_DEPLOYMENT_NAME = "SELDON_DEPLOYMENT_ID"
ENV_PREDICTOR_NAME = "PREDICTOR_ID"
ENV_PREDICTOR_LABELS = "PREDICTOR_LABELS"

NONIMPLEMENTED_MSG = NOT_IMPLEMENTED
NONIMPLEMENTED_IMAGE_MSG = f"{NOT_IMPLEMENTED}:{NOT_IMPLEMENTED}"


def get_model_name(default_val: str = NONIMPLEMENTED_MSG) -> str:
    """``PREDICTIVE_UNIT_ID`` (the graph node / container name)."""
    return os.environ.get(ENV_MODEL_NAME, default_val)


def get_image_name(default_val: str = NONIMPLEMENTED_IMAGE_MSG) -> str:
    """``PREDICTIVE_UNIT_IMAGE`` (``repo/name:tag``)."""
    return os.environ.get(ENV_MODEL_IMAGE, default_val)


def get_deployment_name(default_val: str = NONIMPLEMENTED_MSG) -> str:
    """``SELDON_DEPLOYMENT_ID``."""
    return os.environ.get(ENV_SELDON_DEPLOYMENT_NAME, default_val)


def get_predictor_name(default_val: str = NONIMPLEMENTED_MSG) -> str:
    """``PREDICTOR_ID``."""
    return os.environ.get(ENV_PREDICTOR_NAME, default_val)


def get_predictor_version(default_val: str = NONIMPLEMENTED_MSG) -> str:
    """The ``version`` of the ``PREDICTOR_LABELS`` JSON; ``default_val`` when absent or unreadable."""
    try:
        labels = json.loads(os.environ.get(ENV_PREDICTOR_LABELS, "{}"))
    except ValueError:
        return default_val
    if not isinstance(labels, dict):
        return default_val
    return labels.get("version", default_val)


# The names seldon-wrapper's documentation uses for the same two variables.
get_predictive_unit_id = get_model_name
get_predictive_unit_image = get_image_name
