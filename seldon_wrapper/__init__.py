"""seldon-wrapper: a drop-in, faster reimplementation of the Seldon Core v1 Python wrapper."""

from seldon_wrapper.version import __version__

__all__ = ["__version__"]
