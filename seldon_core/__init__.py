"""The original Seldon Core v1 Python wrapper's module names, adapted to seldon-wrapper.

Every module here is a thin adapter over ``seldon_wrapper``: legacy model code, the tests users
wrote against the original, and scripts importing ``seldon_core.*`` keep working unchanged.
"""

from seldon_core.storage import Storage
from seldon_core.version import __version__

__all__ = ["Storage", "__version__"]
