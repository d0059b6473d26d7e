"""Re-export of ``seldon_wrapper.proto.tensorflow.core.framework.resource_handle_pb2`` (same classes)."""

from seldon_wrapper.proto.tensorflow.core.framework.resource_handle_pb2 import *  # noqa: F401,F403
