"""Protocol-neutral operations: decode with the front door's codec, call the user, merge meta.

A front door passes the request as it arrived (dict, bytes or proto) and the codec module
for its format; it gets back the response in the same format. No Flask and no grpc here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from seldon_wrapper import tracing
from seldon_wrapper.batching import ALONE, BatchContractError, Batcher, batch_policy, split, stack, stack_key
from seldon_wrapper.codecs import seldon_proto
from seldon_wrapper.codecs.message import Decoded, MessageCodec
from seldon_wrapper.component import Component, Operation, SeldonResponse
from seldon_wrapper.errors import (
    BAD_METADATA,
    INTERNAL_ERROR,
    SeldonMicroserviceException,
    SeldonNotImplementedError,
)
from seldon_wrapper.metadata import compute_metadata
from seldon_wrapper.metrics import (
    MetricsRecorder,
    NullRecorder,
    bad_metric_error,
    tag_method,
    validate_metrics,
)
from seldon_wrapper.settings import Settings

logger = logging.getLogger(__name__)

# Method labels recorded with custom metrics (the original's names).
PREDICT = "predict"
FEEDBACK = "feedback"
INPUT_TRANSFORM = "inputtransform"
OUTPUT_TRANSFORM = "outputtransform"
ROUTER = "router"
AGGREGATE = "aggregate"
HEALTH = "health"


class Dataplane:
    """The v1 operations over one loaded user component."""

    def __init__(
        self, component: Component, settings: Settings, recorder: MetricsRecorder | None = None
    ) -> None:
        self.component = component
        self.settings = settings
        self.recorder = recorder or NullRecorder()
        self._request_path = settings.request_path
        self._model_metadata = compute_metadata(
            component.init_metadata(),
            settings.model_metadata,
            settings.image_name,
            settings.image_version,
        )
        self.batcher = self._make_batcher()

    # -- shared steps --------------------------------------------------------------------

    @property
    def include_metrics(self) -> bool:
        return self.settings.include_metrics_in_client_response

    def _record(self, metrics: list, method: str) -> None:
        tag_method(metrics, method)
        self.recorder.record(metrics, method)

    def custom_metrics(self, method: str, runtime_metrics: list) -> list:
        """Validate and record runtime then static metrics; return what the response shows."""
        if runtime_metrics:
            if not validate_metrics(runtime_metrics):
                raise bad_metric_error(runtime_metrics)
            self._record(runtime_metrics, method)
        static = self.component.static_metrics()
        if static is not None:
            if not validate_metrics(static):
                raise bad_metric_error(static)
            self._record(static, method)
        else:
            static = []
        if not self.include_metrics:
            return []
        return static + runtime_metrics if runtime_metrics else static

    def response_meta(
        self,
        request_meta: dict | None,
        puid: Any,
        response: SeldonResponse,
        metrics: list,
        class_tags: dict | None = None,
    ) -> dict:
        """Response meta: tags request -> static -> runtime, metrics request + custom, puid, path."""
        out: dict[str, Any] = {}
        request_tags = None
        request_metrics: list = []
        request_path = dict(self._request_path)
        if request_meta:
            request_tags = request_meta.get("tags")
            request_metrics = request_meta.get("metrics") or []
            path = request_meta.get("requestPath")
            if isinstance(path, dict):
                request_path.update(path)
        tags = self.merged_tags(request_tags, response, class_tags)
        if tags:
            out["tags"] = tags
        elif request_tags and not isinstance(request_tags, dict):
            out["tags"] = request_tags  # a list or string: echoed as it came, as the original did
        all_metrics = list(request_metrics) + metrics if request_metrics else metrics
        if all_metrics:
            out["metrics"] = all_metrics
        if puid:
            out["puid"] = puid
        if request_path:
            out["requestPath"] = request_path
        return out

    def merged_tags(
        self, request_tags: Any, response: SeldonResponse, class_tags: dict | None = None
    ) -> dict:
        """Tags of an answer: the request's, then the class's ``tags()`` (``class_tags`` when a
        batched call already asked), then the result's."""
        tags = dict(request_tags) if isinstance(request_tags, dict) else {}
        tags.update(self.component.custom_tags() if class_tags is None else class_tags)
        if response.tags:
            tags.update(response.tags)
        return tags

    def _raw(self, operation: Operation, request: Any, codec: MessageCodec, method: str) -> Any:
        """Call ``<m>_raw``; returns the response, or ``_FALL_THROUGH`` when not implemented."""
        try:
            with tracing.user_span(operation.name + "_raw"):
                response = operation.raw(request)
        except SeldonNotImplementedError:
            return _FALL_THROUGH
        metrics = codec.raw_metrics(response, keep=self.include_metrics)
        if metrics:
            self.recorder.record(metrics, method)
        return response

    def _legacy(self, operation: Operation, request: Any, codec: MessageCodec) -> Any:
        """The deprecated ``_rest``/``_grpc`` methods, or ``_FALL_THROUGH``."""
        legacy = operation.legacy(codec.LEGACY)
        if legacy is None:
            return _FALL_THROUGH
        name = operation.name
        logger.warning("%s_%s is deprecated. Please use %s_raw", name, legacy[0], name)
        return legacy[1](request)

    def _encode(
        self,
        codec: MessageCodec,
        response: SeldonResponse,
        decoded: Decoded,
        request_meta: dict | None,
        method: str,
    ) -> Any:
        metrics = self.custom_metrics(method, response.metrics)
        meta = self.response_meta(request_meta, decoded.puid, response, metrics)
        return codec.encode_response(response.data, decoded.data_kind, meta, self.component.class_names)

    # -- operations ----------------------------------------------------------------------

    def _bypass(self, operation: Operation, request: Any, codec: MessageCodec, method: str) -> Any:
        """The legacy then raw methods, which answer as-is; ``_FALL_THROUGH`` if neither did."""
        answer = self._legacy(operation, request, codec)
        if answer is _FALL_THROUGH and operation.raw is not None:
            answer = self._raw(operation, request, codec, method)
        return answer

    def _array_operation(
        self, operation: Operation, request: Any, codec: MessageCodec, method: str, default_identity: bool
    ) -> Any:
        answer = self._bypass(operation, request, codec, method)
        if answer is not _FALL_THROUGH:
            return answer
        decoded = codec.decode_message(request)
        default = decoded.features if default_identity else []
        response = operation.call(decoded.features, decoded.names, decoded.meta, default=default)
        return self._encode(codec, response, decoded, decoded.meta, method)

    def predict(self, request: Any, codec: MessageCodec) -> Any:
        if self.batcher is None:
            return self._array_operation(self.component.predict, request, codec, PREDICT, False)
        answer = self._bypass(self.component.predict, request, codec, PREDICT)
        if answer is not _FALL_THROUGH:
            return answer  # raw and legacy methods see one message each: never batched
        decoded = codec.decode_message(request)
        response, class_tags, metrics = self.batched_predict(
            decoded.features, decoded.names, decoded.meta, decoded.data_kind
        )
        meta = self.response_meta(decoded.meta, decoded.puid, response, metrics, class_tags)
        return codec.encode_response(response.data, decoded.data_kind, meta, self.component.class_names)

    # -- batching (docs/batching.md) -----------------------------------------------------

    def _make_batcher(self) -> Batcher | None:
        size, wait_s = batch_policy(self.component, self.settings)
        predict = self.component.predict
        if size <= 1 or predict.high is None or not predict.request_is_private:
            return None  # raw and legacy predict methods take one message each
        return Batcher(self._run_batch, size, wait_s, observe=self.recorder.record_batch)

    def _meta_key(self, meta: dict | None) -> Any:
        """What of ``meta`` must match for two requests to share a call: nothing when predict
        does not see it, else all of it but the puid."""
        if not self.component.predict_sees_meta or not meta:
            return ""
        rest = {key: value for key, value in meta.items() if key != "puid"}
        if not rest:
            return ""
        try:
            return json.dumps(rest, sort_keys=True)
        except (TypeError, ValueError):
            return ALONE

    def batched_predict(
        self, features: Any, names: Any, meta: dict | None, kind: str | None
    ) -> tuple[SeldonResponse, dict, list]:
        """This request's share of a batched ``predict``: (its rows as a SeldonResponse with the
        call's tags and metrics, the class's tags, the metrics to show)."""
        member = (features, names, meta)
        try:
            names_key = tuple(names) if names else ()
            hash(names_key)
        except TypeError:
            return self.batcher.submit(member, ALONE)
        meta_key = self._meta_key(meta)
        if meta_key is ALONE:
            return self.batcher.submit(member, ALONE)
        key = stack_key(features, kind, names_key, meta_key)
        return self.batcher.submit(member, key)

    def _run_batch(self, members: list[tuple]) -> list[tuple]:
        """One ``predict`` call for every member; tags() and metrics() asked once for the call."""
        features = stack([member[0] for member in members])
        _, names, meta = members[0]
        response = self.component.predict.call(features, names, meta, default=[])
        try:
            sizes = [1] if len(members) == 1 else [member[0].shape[0] for member in members]
            parts = split(response.data, sizes)
        except BatchContractError as exc:
            raise SeldonMicroserviceException(str(exc), status_code=500, reason=INTERNAL_ERROR) from None
        metrics = self.custom_metrics(PREDICT, response.metrics)
        class_tags = self.component.custom_tags()
        shares = [SeldonResponse(part, response.tags, response.metrics) for part in parts]
        return [(share, class_tags, metrics) for share in shares]

    def transform_input(self, request: Any, codec: MessageCodec) -> Any:
        return self._array_operation(self.component.transform_input, request, codec, INPUT_TRANSFORM, True)

    def transform_output(self, request: Any, codec: MessageCodec) -> Any:
        return self._array_operation(self.component.transform_output, request, codec, OUTPUT_TRANSFORM, True)

    def route(self, request: Any, codec: MessageCodec) -> Any:
        operation = self.component.route
        answer = self._bypass(operation, request, codec, ROUTER)
        if answer is not _FALL_THROUGH:
            return answer
        decoded = codec.decode_message(request)
        if operation.high is None:
            raise SeldonMicroserviceException("Route not defined")
        with tracing.user_span(operation.name):
            response = SeldonResponse.create(operation.high(decoded.features, decoded.names, decoded.meta))
        response.data = routing_array(response.data)
        # Routers answer with the node's meta only: request tags and metrics are not carried.
        return self._encode(codec, response, decoded, None, ROUTER)

    def aggregate(self, request: Any, codec: MessageCodec) -> Any:
        operation = self.component.aggregate
        answer = self._bypass(operation, request, codec, AGGREGATE)
        if answer is not _FALL_THROUGH:
            return answer
        decoded_list = [codec.decode_message(msg) for msg in codec.message_list(request)]
        if operation.high is None:
            raise SeldonMicroserviceException("Aggregate not defined")
        features = [d.features for d in decoded_list]
        names = [d.names for d in decoded_list]
        with tracing.user_span(operation.name):
            response = SeldonResponse.create(operation.high(features, names))
        merged: dict[str, Any] = {"tags": {}, "metrics": [], "requestPath": {}}
        for decoded in decoded_list:
            meta = decoded.meta or {}
            merged["tags"].update(meta.get("tags") or {})
            merged["metrics"].extend(meta.get("metrics") or [])
            merged["requestPath"].update(meta.get("requestPath") or {})
        return self._encode(codec, response, decoded_list[0], merged, AGGREGATE)

    def send_feedback(self, request: Any, codec: MessageCodec) -> Any:
        """The raw and legacy hooks take the ``Feedback`` protobuf on both transports, as the
        original's did; ``send_feedback`` takes arrays decoded as its did (numbers doubles)."""
        feedback = codec.decode_feedback(request)
        if feedback.reward and self.settings.executor_enabled:
            self.recorder.record_feedback(feedback.reward)
        operation = self.component.send_feedback
        answer = _FALL_THROUGH
        legacy = operation.legacy(codec.LEGACY)
        if legacy is not None:
            logger.warning("send_feedback_%s is deprecated. Please use send_feedback_raw", legacy[0])
            message = feedback.message()
            if legacy[1] is operation.legacy_rest:  # it takes the message's JSON text
                message = seldon_proto.feedback_to_json(message)
            answer = seldon_proto.json_to_seldon_message(legacy[1](message))
        elif operation.raw is not None:
            answer = self._raw(operation, feedback.message(), seldon_proto, FEEDBACK)
            if answer is not _FALL_THROUGH and not isinstance(answer, seldon_proto.SeldonMessage):
                raise SeldonMicroserviceException(
                    f"send_feedback_raw must return a SeldonMessage, got {type(answer).__name__}",
                    status_code=500,
                )
        if answer is not _FALL_THROUGH:
            return codec.encode_feedback(answer, None, {}, self.component.class_names)
        routing = feedback.routing.get(self.settings.feedback_routing_key)
        response = operation.call(
            feedback.features(), feedback.names, feedback.reward, feedback.truth(), routing, default=None
        )
        if response.data is None:
            response.data = np.array([])
        metrics = self.custom_metrics(FEEDBACK, response.metrics)
        meta = self.response_meta(None, feedback.puid, response, metrics)
        return codec.encode_feedback(response.data, feedback.data_kind, meta, self.component.class_names)

    def health_status(self, codec: MessageCodec) -> Any:
        component = self.component
        if component.draining:  # readiness: send no new traffic to a server that is stopping
            raise SeldonMicroserviceException("Model server is shutting down", status_code=503)
        if component.health_status_raw is not None:
            try:
                return component.health_status_raw()
            except SeldonNotImplementedError:
                pass
        if component.health_status is None:
            status: Any = "healthy"
        else:
            try:
                status = component.health_status()
            except SeldonNotImplementedError:
                status = "not implemented - assuming healthy"
        response = SeldonResponse.create(status)
        empty = Decoded(None, [], None, None)
        return self._encode(codec, response, empty, None, HEALTH)

    def metadata(self) -> dict:
        """The validated model metadata; a 500 BAD_METADATA error when it was invalid."""
        if self._model_metadata is None:
            raise SeldonMicroserviceException(
                "Model metadata unavailable", status_code=500, reason=BAD_METADATA
            )
        return self._model_metadata

    @property
    def model_metadata(self) -> dict | None:
        return self._model_metadata


def routing_array(result: Any, dtype: Any = None) -> np.ndarray:
    """A router's answer as the ``[[branch]]`` array; anything but an int is an error."""
    if not isinstance(result, int):
        raise SeldonMicroserviceException(f"Routing response must be int but got {result}")
    return np.array([[result]], dtype=dtype)


class _FallThrough:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<fall through>"


_FALL_THROUGH: Any = _FallThrough()
