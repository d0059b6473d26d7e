"""The user-model contract: which methods a user class provides and how to call them.

Everything is decided once, when the class is loaded: which of ``<m>_rest``, ``<m>_grpc``,
``<m>_raw`` and ``<m>`` exist, and whether the high-level method takes ``meta``. The request
path then calls plain callables, with no reflection and no retry on TypeError (the original
re-ran a method whose own code raised TypeError; we never call a method twice).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seldon_wrapper import tracing
from seldon_wrapper.errors import SeldonMicroserviceException, SeldonNotImplementedError

logger = logging.getLogger(__name__)

__all__ = [
    "Component",
    "SeldonComponent",
    "SeldonResponse",
    "SeldonNotImplementedError",
    "SeldonMicroserviceException",
]


class SeldonResponse:
    """A user result with per-request tags and metrics (thread-safe alternative to tags()/metrics())."""

    def __init__(self, data: Any, tags: dict | None = None, metrics: list | None = None) -> None:
        self.data = data
        self.tags = tags if tags is not None else {}
        self.metrics = metrics if metrics is not None else []

    @classmethod
    def create(cls, obj: Any) -> SeldonResponse:
        return obj if isinstance(obj, SeldonResponse) else cls(data=obj)

    def __repr__(self) -> str:
        return f"SeldonResponse(data={self.data!r}, tags={self.tags!r}, metrics={self.metrics!r})"


class SeldonComponent:
    """Optional base class: every method says "not implemented", so the wrapper falls back."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def tags(self) -> dict:
        raise SeldonNotImplementedError("tags is not implemented")

    def class_names(self) -> list:
        raise SeldonNotImplementedError("class_names is not implemented")

    def load(self) -> None:
        pass

    def predict(self, X: Any, names: Any, meta: dict | None = None) -> Any:
        raise SeldonNotImplementedError("predict is not implemented")

    def predict_raw(self, msg: Any) -> Any:
        raise SeldonNotImplementedError("predict_raw is not implemented")

    def send_feedback_raw(self, feedback: Any) -> Any:
        raise SeldonNotImplementedError("send_feedback_raw is not implemented")

    def transform_input(self, X: Any, names: Any, meta: dict | None = None) -> Any:
        raise SeldonNotImplementedError("transform_input is not implemented")

    def transform_input_raw(self, msg: Any) -> Any:
        raise SeldonNotImplementedError("transform_input_raw is not implemented")

    def transform_output(self, X: Any, names: Any, meta: dict | None = None) -> Any:
        raise SeldonNotImplementedError("transform_output is not implemented")

    def transform_output_raw(self, msg: Any) -> Any:
        raise SeldonNotImplementedError("transform_output_raw is not implemented")

    def metrics(self) -> list:
        raise SeldonNotImplementedError("metrics is not implemented")

    def feature_names(self) -> list:
        raise SeldonNotImplementedError("feature_names is not implemented")

    def send_feedback(
        self, features: Any, feature_names: Any, reward: float, truth: Any, routing: Any = None
    ) -> Any:
        raise SeldonNotImplementedError("send_feedback is not implemented")

    def route(self, features: Any, feature_names: Any) -> int:
        raise SeldonNotImplementedError("route is not implemented")

    def route_raw(self, msg: Any) -> Any:
        raise SeldonNotImplementedError("route_raw is not implemented")

    def aggregate(self, features_list: list, feature_names_list: list) -> Any:
        raise SeldonNotImplementedError("aggregate is not implemented")

    def aggregate_raw(self, msgs: Any) -> Any:
        raise SeldonNotImplementedError("aggregate_raw is not implemented")

    def health_status(self) -> Any:
        raise SeldonNotImplementedError("health_status is not implemented")

    def health_status_raw(self) -> Any:
        raise SeldonNotImplementedError("health_status_raw is not implemented")

    def init_metadata(self) -> dict:
        raise SeldonNotImplementedError("init_metadata is not implemented")

    def metadata(self) -> dict:
        raise SeldonNotImplementedError("metadata is not implemented")


# SeldonComponent methods whose default means "absent": skipping them at load time saves
# raising and catching an exception on every request. route/aggregate are not listed: their
# defaults answer a 400 with their own message, and the health_status default answers
# "not implemented - assuming healthy", as in the original.
_ABSENT_WHEN_DEFAULT = (
    "predict",
    "predict_raw",
    "transform_input",
    "transform_input_raw",
    "transform_output",
    "transform_output_raw",
    "route_raw",
    "aggregate_raw",
    "send_feedback",
    "send_feedback_raw",
    "health_status_raw",
    "metrics",
    "tags",
    "class_names",
    "init_metadata",
)


def _lookup(user: Any, name: str) -> Any:
    """The user's attribute, or None when missing or an un-overridden SeldonComponent default."""
    value = getattr(user, name, None)
    if value is None:
        return None
    if name in _ABSENT_WHEN_DEFAULT and isinstance(user, SeldonComponent):
        own = getattr(user, "__dict__", None)
        if (own is None or name not in own) and getattr(type(user), name, None) is getattr(
            SeldonComponent, name
        ):
            return None  # not set on the instance (``self.predict = ...``), not overridden by the class
    return value


def _call_or(hook: Callable | None, default: Any) -> Any:
    """``hook()``; ``default`` when there is no hook or it raises SeldonNotImplementedError."""
    if hook is None:
        return default
    try:
        return hook()
    except SeldonNotImplementedError:
        return default


def _accepts_keyword(fn: Callable, keyword: str) -> bool | None:
    """True/False from the signature; None when the signature cannot be read."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return True
        if param.name == keyword and param.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            return True
    return False


def _with_meta(fn: Callable) -> Callable[[Any, Any, Any], Any]:
    """Adapt ``fn(X, names[, meta=])`` to a uniform ``call(X, names, meta)``."""
    accepts = _accepts_keyword(fn, "meta")
    if accepts is True:
        return lambda X, names, meta: fn(X, names, meta=meta)
    if accepts is False:
        return lambda X, names, meta: fn(X, names)

    def unknown_signature(X: Any, names: Any, meta: Any) -> Any:  # builtins, C extensions
        try:
            return fn(X, names, meta=meta)
        except TypeError:
            return fn(X, names)

    return unknown_signature


def _with_routing(fn: Callable) -> Callable[[Any, Any, Any, Any, Any], Any]:
    """Adapt ``send_feedback`` so a signature without ``routing`` still works."""
    if _accepts_keyword(fn, "routing") is False:
        return lambda features, names, reward, truth, routing: fn(features, names, reward, truth)
    return lambda features, names, reward, truth, routing: fn(features, names, reward, truth, routing=routing)


@dataclass(frozen=True)
class Operation:
    """The ways one operation can be served, in dispatch order."""

    name: str
    legacy_rest: Callable | None
    legacy_grpc: Callable | None
    raw: Callable | None
    high: Callable | None

    def call(self, *args: Any, default: Any) -> SeldonResponse:
        """The high-level method's result, traced; ``default`` when the class has none or it
        raises SeldonNotImplementedError (the SeldonComponent defaults do)."""
        if self.high is None:
            return SeldonResponse.create(default)
        try:
            with tracing.user_span(self.name):
                return SeldonResponse.create(self.high(*args))
        except SeldonNotImplementedError:
            return SeldonResponse.create(default)

    def legacy(self, own: str) -> tuple[str, Callable] | None:
        """The deprecated method to call, as (suffix, method): ``predict_rest``/``predict_grpc``
        serve only their own transport (``own``); the other operations' serve either, REST first."""
        for suffix, method in (("rest", self.legacy_rest), ("grpc", self.legacy_grpc)):
            if method is not None and (self.name != "predict" or suffix == own):
                return suffix, method
        return None

    @property
    def request_is_private(self) -> bool:
        """No user method sees the request message itself, so its decoding is ours to choose."""
        return self.raw is None and self.legacy_rest is None and self.legacy_grpc is None


class Component:
    """A loaded user object with its methods resolved once."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.ready = False  # True once load() succeeded in this process
        self.draining = False  # True once this process was told to stop: readiness says no
        self.class_name = type(user).__name__
        self.predict = self._operation("predict", _with_meta)
        predict = _lookup(user, "predict")
        #: Whether ``predict`` is given ``meta``: if so, only requests with the same meta
        #: (apart from puid) may share a batched call.
        self.predict_sees_meta = predict is not None and _accepts_keyword(predict, "meta") is not False
        #: The class's own batching settings (docs/batching.md), which win over the flags.
        self.max_batch_size = getattr(user, "max_batch_size", None)
        self.max_batch_time_ms = getattr(user, "max_batch_time_ms", None)
        self.transform_input = self._operation("transform_input", _with_meta)
        self.transform_output = self._operation("transform_output", _with_meta)
        self.route = self._operation("route", _with_meta)
        self.aggregate = self._operation("aggregate")
        self.send_feedback = self._operation("send_feedback", _with_routing)
        self.health_status_raw = _lookup(user, "health_status_raw")
        self.health_status = _lookup(user, "health_status")
        self._metrics = _lookup(user, "metrics")
        self._tags = _lookup(user, "tags")
        self._class_names = _lookup(user, "class_names")
        self._class_names_is_method = inspect.ismethod(self._class_names) or (
            callable(self._class_names) and not isinstance(self._class_names, (list, tuple))
        )
        self.model_error_handler = getattr(user, "model_error_handler", None)
        custom_service = getattr(user, "custom_service", None)
        self.custom_service = custom_service if callable(custom_service) else None

    def _operation(self, name: str, adapt: Callable[[Callable], Callable] | None = None) -> Operation:
        """The ways to serve ``name``; ``adapt`` gives the high-level method its uniform call."""
        high = _lookup(self.user, name)
        if high is not None and adapt is not None:
            high = adapt(high)
        return Operation(
            name,
            _lookup(self.user, name + "_rest"),
            _lookup(self.user, name + "_grpc"),
            _lookup(self.user, name + "_raw"),
            high,
        )

    # -- small user hooks -------------------------------------------------------------

    def load(self) -> None:
        """Call the user's ``load()`` once in this serving process.

        AttributeError and NotImplementedError are ignored, as in the original.
        """
        load = getattr(self.user, "load", None)
        if load is not None:
            with contextlib.suppress(NotImplementedError, AttributeError):
                load()
        self.ready = True

    def custom_tags(self) -> dict:
        return _call_or(self._tags, {}) or {}

    def static_metrics(self) -> list | None:
        """The user's ``metrics()``, or None when it has none."""
        return _call_or(self._metrics, None)

    @property
    def has_class_names(self) -> bool:
        return self._class_names is not None

    def class_names(self, n_columns: int) -> list:
        """Output column names for a result with more than one dimension."""
        if self._class_names is not None:
            if self._class_names_is_method:
                with contextlib.suppress(SeldonNotImplementedError):
                    return list(self._class_names())
            else:
                logger.warning("class_names attribute is deprecated. Please define a class_names method")
                return list(self._class_names)
        return [f"t:{i}" for i in range(n_columns)]

    def init_metadata(self) -> dict:
        meta = _call_or(_lookup(self.user, "init_metadata"), {})
        if not isinstance(meta, dict):
            logger.error("init_metadata must return dict")
            return {}
        return meta
