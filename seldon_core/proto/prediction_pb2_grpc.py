"""``seldon.protos`` stubs and servicers: re-exported from ``seldon_wrapper.proto.prediction_pb2_grpc``."""

from seldon_core import imports_helper  # noqa: F401 - imported with it in the original
from seldon_wrapper.proto.prediction_pb2_grpc import *  # noqa: F401,F403
