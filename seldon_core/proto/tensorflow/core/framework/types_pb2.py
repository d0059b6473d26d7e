"""Re-export of ``seldon_wrapper.proto.tensorflow.core.framework.types_pb2`` (same message classes)."""

from seldon_wrapper.proto.tensorflow.core.framework.types_pb2 import *  # noqa: F401,F403
