"""The original's ``seldon_core.imports_helper``: is TensorFlow installed?

seldon-wrapper reads and writes ``tftensor`` payloads without TensorFlow, so nothing depends on
the answer; it is kept for code that checks it. TensorFlow is looked up, not imported.
"""

import importlib.util
import logging
import textwrap  # noqa: F401 - a name the original's module had

logger = logging.getLogger(__name__)

_TF_PRESENT = importlib.util.find_spec("tensorflow") is not None

notice = (
    "Tensorflow is not installed. seldon-wrapper handles `tftensor` payloads without it; "
    "install tensorflow only if your own code needs it."
)
