"""The version of the ``seldon_core`` compatibility package: seldon-wrapper's own version."""

from seldon_wrapper.version import __version__

__all__ = ["__version__"]
