"""The pre-Core ``seldon.microservice.Microservices`` entry points, for code written against them.

``from seldon_wrapper.v0_microservices import Microservices`` replaces
``from seldon.microservice import Microservices`` (we do not take the top-level name ``seldon``:
the PyPI package of that name, the old Seldon server's Python library, owns it). What a ``folder``
may hold, tried in this order:

1. a Python file defining the model class: ``<model_name>.py`` with class ``<model_name>``, or
   else the only ``.py`` file, with the one class in it that has ``predict`` / ``recommend``;
2. a pickled model (``*.pkl``, ``*.pickle``; ``*.joblib`` when joblib is installed): an object
   with ``recommend(...)``, or with ``predict_proba(X)`` / ``predict(X)`` (scikit-learn style:
   the class probabilities become the scores, ``classes_`` the class ids).

Unpickling runs code from the file: only serve folders you trust.

The returned objects are what our server runs: the Flask app of ``seldon_wrapper.rest.app``
(``app.run(host=..., port=...)`` as in the old examples, or any WSGI server) and the gRPC server
of ``seldon_wrapper.grpc.server``. For production, serve the class with
``seldon-core-microservice`` instead (Gunicorn, metrics, graceful shutdown).
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import pathlib
import pickle
import sys
import threading
from typing import Any

import numpy as np

from seldon_wrapper.component import Component
from seldon_wrapper.dataplane import Dataplane
from seldon_wrapper.errors import StartupError
from seldon_wrapper.metrics import NullRecorder
from seldon_wrapper.settings import Settings

logger = logging.getLogger(__name__)

_PICKLES = ("*.pkl", "*.pickle", "*.joblib")


class PickledClassifier:
    """A scikit-learn style model as a v1 class: ``predict`` answers the class probabilities."""

    def __init__(self, model: Any) -> None:
        self.model = model
        classes = getattr(model, "classes_", None)
        self._class_names = [str(c) for c in classes] if classes is not None else None

    def predict(self, X: np.ndarray, feature_names: list) -> Any:
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(X)
        return self.model.predict(X)

    def class_names(self) -> list:
        from seldon_wrapper.errors import SeldonNotImplementedError

        if self._class_names is None:
            raise SeldonNotImplementedError("no classes_")
        return self._class_names


def _class_in(path: pathlib.Path, wanted: str | None, method: str) -> type:
    module_name = path.stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StartupError(f"Cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.parent))  # sibling modules of the class file import as they did
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise StartupError(f"Importing {path} failed: {exc!r}") from exc
    if wanted and isinstance(getattr(module, wanted, None), type):
        return getattr(module, wanted)
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and value.__module__ == module_name
        and callable(getattr(value, method, None))
    ]
    if len(classes) != 1:
        raise StartupError(f"{path} must define one class with {method}(), found {len(classes)}")
    return classes[0]


def _unpickle(path: pathlib.Path) -> Any:
    if path.suffix == ".joblib":
        try:
            import joblib
        except ImportError:
            raise StartupError(f"{path} needs joblib: pip install joblib") from None
        return joblib.load(path)
    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - the operator trusts the folder (module docstring)


def load_model(folder: str | os.PathLike, model_name: str | None = None, method: str = "predict") -> Any:
    """The user object a folder holds (see the module docstring); raises StartupError."""
    root = pathlib.Path(folder)
    if not root.is_dir():
        raise StartupError(f"Model folder {root} does not exist")
    class_file = root / f"{model_name}.py" if model_name else None
    sources = [class_file] if class_file and class_file.is_file() else sorted(root.glob("*.py"))
    if len(sources) == 1:
        return _class_in(sources[0], model_name, method)()
    pickles = sorted(p for pattern in _PICKLES for p in root.glob(pattern))
    if len(pickles) == 1:
        obj = _unpickle(pickles[0])
        if method == "recommend" or callable(getattr(obj, "recommend", None)):
            return obj
        if not (hasattr(obj, "predict_proba") or hasattr(obj, "predict")):
            raise StartupError(f"{pickles[0]} holds a {type(obj).__name__} without predict/predict_proba")
        return PickledClassifier(obj)
    raise StartupError(
        f"{root} must hold one model: a class file ({model_name or '<name>'}.py) or one pickle "
        f"(found {len(sources)} .py and {len(pickles)} pickle files)"
    )


def _dataplane(user: Any, model_name: str | None) -> Dataplane:
    settings = Settings.from_env()
    if model_name:
        settings = settings.with_(predictive_unit_id=model_name)
    component = Component(user)
    component.load()
    return Dataplane(component, settings, NullRecorder())


class Microservices:
    """``Microservices().create_*_microservice(...)``; the old constructor's AWS keys (for
    pipelines stored in S3) are accepted and ignored: download the folder first."""

    def __init__(self, aws_key: str | None = None, aws_secret: str | None = None) -> None:
        if aws_key or aws_secret:
            logger.warning("aws_key/aws_secret are ignored: pass a local folder")

    def create_prediction_microservice(self, folder: str | os.PathLike, model_name: str) -> Any:
        """The Flask app answering ``/predict?client=&json=`` (and the v1 and V2 APIs) for the
        model in ``folder``."""
        from seldon_wrapper.rest.app import create_app

        return create_app(_dataplane(load_model(folder, model_name), model_name))

    def create_recommendation_microservice(self, folder: str | os.PathLike) -> Any:
        """The Flask app answering ``/recommend`` for the recommender in ``folder``."""
        from seldon_wrapper.rest.app import create_app

        return create_app(_dataplane(load_model(folder, None, method="recommend"), None))

    def create_prediction_rpc_microservice(
        self,
        folder: str | os.PathLike,
        model_name: str,
        data_handler: Any,
        port: int | None = None,
        block: bool = True,
    ) -> Any:
        """Serve the ``io.seldon.api.rpc.Classifier`` service (and the v1 and V2 services) for the
        model in ``folder``, with ``data_handler.getData(request)`` unpacking each request.

        Binds PREDICTIVE_UNIT_GRPC_SERVICE_PORT (default 5000) unless ``port`` is given; blocks
        until interrupted, as the old entry point did, unless ``block=False`` (then the started
        server is returned; call ``.stop(None)``)."""
        from seldon_wrapper.grpc.server import build_server, mark_serving

        user = load_model(folder, model_name)
        user.data_handler = data_handler
        dataplane = _dataplane(user, model_name)
        settings = dataplane.settings
        server, health, _, _ = build_server(dataplane, settings)
        bound = server.add_insecure_port(
            f"{settings.host}:{port if port is not None else settings.grpc_port}"
        )
        server.start()
        mark_serving(health)
        server.bound_port = bound
        if not block:
            return server
        stop = threading.Event()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        server.stop(None)
        return server
