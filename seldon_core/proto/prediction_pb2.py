"""``seldon.protos`` messages: the very classes of ``seldon_wrapper.proto.prediction_pb2``."""

from seldon_core import imports_helper  # noqa: F401 - imported with it in the original
from seldon_wrapper.proto.prediction_pb2 import *  # noqa: F401,F403
