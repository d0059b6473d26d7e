"""The ``seldon_core`` names are adapters over seldon-wrapper: same classes, light imports."""

import json
import pathlib
import subprocess
import sys

import seldon_core
import seldon_core.version
from seldon_core import flask_utils, user_model
from seldon_core.proto import prediction_pb2, prediction_pb2_grpc
from seldon_core.proto.tensorflow.core.framework import tensor_pb2
from seldon_wrapper import component as wrapper_component
from seldon_wrapper import errors, version
from seldon_wrapper.proto import prediction_pb2 as wrapper_pb2
from seldon_wrapper.proto import prediction_pb2_grpc as wrapper_pb2_grpc
from seldon_wrapper.proto.tensorflow.core.framework import tensor_pb2 as wrapper_tensor_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
HEAVY = ("flask", "werkzeug", "grpc", "gunicorn")


def _modules_loaded_by(statement: str) -> list:
    code = (
        f"import json, sys; {statement}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def test_user_model_import_loads_neither_flask_nor_grpc():
    assert _modules_loaded_by("import seldon_core.user_model") == []


def test_the_import_check_sees_flask_and_grpc_when_loaded():
    assert _modules_loaded_by("import seldon_core.wrapper") == ["flask", "grpc", "werkzeug"]


def test_exception_classes_are_the_wrappers_own():
    assert flask_utils.SeldonMicroserviceException is errors.SeldonMicroserviceException
    assert user_model.SeldonNotImplementedError is errors.SeldonNotImplementedError
    assert issubclass(user_model.SeldonNotImplementedError, flask_utils.SeldonMicroserviceException)
    assert user_model.SeldonComponent is wrapper_component.SeldonComponent
    assert user_model.SeldonResponse is wrapper_component.SeldonResponse


def test_proto_modules_reexport_the_same_messages():
    assert prediction_pb2.SeldonMessage is wrapper_pb2.SeldonMessage
    assert prediction_pb2.Feedback is wrapper_pb2.Feedback
    assert prediction_pb2.DESCRIPTOR is wrapper_pb2.DESCRIPTOR
    assert prediction_pb2_grpc.ModelStub is wrapper_pb2_grpc.ModelStub
    assert prediction_pb2_grpc.add_ModelServicer_to_server is wrapper_pb2_grpc.add_ModelServicer_to_server
    assert tensor_pb2.TensorProto is wrapper_tensor_pb2.TensorProto


def test_version_is_ours():
    assert seldon_core.__version__ == seldon_core.version.__version__ == version.__version__
    assert seldon_core.__version__ != "1.19.0"
