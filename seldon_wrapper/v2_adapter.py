"""The V2 face of a v1 user class: V2 inputs -> ``(X, names, meta)``, results -> V2 outputs.

Protocol-neutral like the dataplane (the V2 REST and gRPC front doors both use it): decoded
tensors in, output tensors and response parameters out. Tags, custom metrics and method
resolution are shared with the v1 dataplane.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import numpy as np

from seldon_wrapper import dataplane as v1
from seldon_wrapper.codecs import v2
from seldon_wrapper.component import Operation
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.metadata import to_v2_metadata
from seldon_wrapper.version import __version__

logger = logging.getLogger(__name__)

SERVER_NAME = "seldon-wrapper"
EXTENSIONS = ["binary_tensor_data"]
DEFAULT_OUTPUT = "output-0"


class ModelNotFound(SeldonMicroserviceException):
    def __init__(self, name: str, version: str | None = None) -> None:
        text = f"Model {name} not found" if not version else f"Model {name} with version {version} not found"
        super().__init__(text, status_code=404)


class V2Adapter:
    """Serves one v1 component as one V2 model."""

    def __init__(self, dataplane: Dataplane) -> None:
        self.dataplane = dataplane
        self.component = dataplane.component
        settings = dataplane.settings
        metadata = dataplane.model_metadata or {}
        self.model_name = (
            settings.v2_model_name
            or settings.predictive_unit_id
            or metadata.get("name")
            or self.component.class_name
        )
        self.metadata = to_v2_metadata(dataplane.model_metadata, self.model_name)
        self.versions = self.metadata["versions"]
        self.method, self.operation = self._resolve_method(settings.v2_method)
        outputs = self.metadata["outputs"]
        self.default_output = outputs[0]["name"] if len(outputs) == 1 else DEFAULT_OUTPUT

    def _resolve_method(self, name: str) -> tuple[str, Operation]:
        component = self.component
        choices = {
            "predict": (v1.PREDICT, component.predict),
            "transform-input": (v1.INPUT_TRANSFORM, component.transform_input),
            "transform-output": (v1.OUTPUT_TRANSFORM, component.transform_output),
            "route": (v1.ROUTER, component.route),
        }
        if name == "auto":  # the first the class has, in this order
            name = next(
                (key for key, (_, operation) in choices.items() if operation.high is not None), "predict"
            )
        return choices[name]

    # -- model identity and state -----------------------------------------------------------

    def check_model(self, name: str, version: str | None = None) -> None:
        """404 unless ``name`` (and ``version``, when the model advertises versions) is ours."""
        if name != self.model_name:
            raise ModelNotFound(name, version)
        if version and self.versions and version not in self.versions:
            raise ModelNotFound(name, version)

    def response_version(self, version: str | None) -> str | None:
        return version or (self.versions[0] if self.versions else None)

    @property
    def ready(self) -> bool:
        return self.component.ready

    @property
    def serving(self) -> bool:
        """What readiness reports: loaded, and not shutting down (requests still finish)."""
        return self.component.ready and not self.component.draining

    def server_metadata(self) -> dict:
        return {"name": SERVER_NAME, "version": __version__, "extensions": list(EXTENSIONS)}

    def repository_index(self) -> list[dict]:
        entry: dict[str, Any] = {"name": self.model_name, "state": "READY" if self.ready else "UNAVAILABLE"}
        if self.versions:
            entry["version"] = self.versions[0]
        entry["reason"] = "" if self.ready else "model not loaded"
        return [entry]

    # -- inference ---------------------------------------------------------------------------

    def user_input(self, request: v2.Request) -> tuple[Any, list, dict]:
        """``(X, names, meta)`` for the v1 method, per the mapping in docs/v2.md."""
        inputs = request.inputs
        names: list = []
        if len(inputs) == 1:
            tensor = inputs[0]
            features: Any = tensor.array
            if tensor.datatype == "BYTES":
                content_type = tensor.parameters.get("content_type") or request.parameters.get("content_type")
                if content_type == "str":
                    features = _as_text(features)
                if features.size == 1 and len(tensor.shape) <= 1:
                    features = features.ravel()[0]  # one string/blob: like v1 strData/binData
            requested_names = request.parameters.get("names")
            if isinstance(requested_names, list):
                names = requested_names
        else:
            names = [tensor.name for tensor in inputs]
            rows = {_columnar_rows(tensor) for tensor in inputs}
            if len(rows) == 1 and None not in rows:
                features = _column_stack([tensor.array for tensor in inputs], rows.pop())
            else:
                features = {tensor.name: tensor.array for tensor in inputs}
        tags = {k: v for k, v in request.parameters.items() if k not in v2.RESERVED_PARAMETERS}
        meta: dict[str, Any] = {"puid": request.id or uuid.uuid4().hex}
        if tags:
            meta["tags"] = tags
        return features, names, meta

    def infer(self, request: v2.Request) -> tuple[list[v2.Tensor], dict]:
        """Call the user's method; returns the output tensors and the response parameters."""
        features, names, meta = self.user_input(request)
        operation = self.operation
        if operation.high is None and (operation.raw is not None or operation.legacy_rest is not None):
            raise SeldonMicroserviceException(
                f"{self.component.class_name} has only raw/legacy methods, which take v1 "
                "messages; V2 needs the high-level method",
                status_code=501,
            )
        if self.method == v1.PREDICT and self.dataplane.batcher is not None:
            response, class_tags, metrics = self.dataplane.batched_predict(features, names, meta, "V2")
            tags = self.dataplane.merged_tags(meta.get("tags"), response, class_tags)
            return self.outputs_for(response.data, request), tags
        default = features if self.method in (v1.INPUT_TRANSFORM, v1.OUTPUT_TRANSFORM) else []
        response = operation.call(features, names, meta, default=default)
        if self.method == v1.ROUTER:
            response.data = v1.routing_array(response.data, np.int64)
        self.dataplane.custom_metrics(self.method, response.metrics)
        tags = self.dataplane.merged_tags(meta.get("tags"), response)
        outputs = self.outputs_for(response.data, request)
        return outputs, tags

    def outputs_for(self, result: Any, request: v2.Request) -> list[v2.Tensor]:
        requested = [output["name"] for output in request.outputs]
        if (
            isinstance(result, dict)
            and result
            and all(isinstance(value, (np.ndarray, list)) for value in result.values())
        ):
            tensors = [_tensor(str(key), value) for key, value in result.items()]
        else:
            name = requested[0] if len(requested) == 1 else self.default_output
            tensors = [_tensor(name, result)]
            array = tensors[0].array
            if self.component.has_class_names and array.ndim > 1:
                tensors[0].parameters["class_names"] = self.component.class_names(array.shape[1])
        if requested:
            by_name = {tensor.name: tensor for tensor in tensors}
            missing = [name for name in requested if name not in by_name]
            if missing:
                raise v2.bad_request(
                    f"Requested output(s) {missing} not produced; the model returns {sorted(by_name)}"
                )
            tensors = [by_name[name] for name in requested]
        return tensors


def _as_text(array: np.ndarray) -> np.ndarray:
    out = np.empty(array.size, dtype=object)
    for i, item in enumerate(array.ravel()):
        try:
            out[i] = item.decode("utf-8") if isinstance(item, bytes) else item
        except UnicodeDecodeError:
            raise v2.bad_request(f"Element {i} is not UTF-8 text (content_type str)") from None
    return out.reshape(array.shape)


def _columnar_rows(tensor: v2.Tensor) -> int | None:
    shape = tensor.shape
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        return shape[0]
    return None


def _column_stack(arrays: list[np.ndarray], rows: int) -> np.ndarray:
    columns = [array.reshape(rows) for array in arrays]
    if len({column.dtype for column in columns}) == 1:
        return np.column_stack(columns)
    stacked = np.empty((rows, len(columns)), dtype=object)
    for index, column in enumerate(columns):
        stacked[:, index] = column
    return stacked


def _tensor(name: str, value: Any) -> v2.Tensor:
    """One output tensor for a user value (array, list, str, bytes, dict, number)."""
    if isinstance(value, str):
        return v2.Tensor(name, "BYTES", [1], np.array([value], dtype=object), {"content_type": "str"})
    if isinstance(value, (bytes, bytearray)):
        return v2.Tensor(name, "BYTES", [1], np.array([bytes(value)], dtype=object), {})
    if isinstance(value, dict):
        from seldon_wrapper.codecs.seldon_json import dumps

        text = dumps(value).decode("utf-8").rstrip("\n")
        return v2.Tensor(name, "BYTES", [1], np.array([text], dtype=object), {"content_type": "str"})
    if value is None:
        raise SeldonMicroserviceException("Model returned None; V2 needs an array, str, bytes or dict", 500)
    try:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    except ValueError as exc:
        raise SeldonMicroserviceException(
            f"Model returned an array numpy cannot represent: {exc}", 500
        ) from None
    if array.dtype.kind in ("U", "S"):
        array = array.astype(object)
    datatype = v2.datatype_of(array)
    return v2.Tensor(name, datatype, list(array.shape), array, {})
