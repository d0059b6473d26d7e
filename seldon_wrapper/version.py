"""The one place the package version lives (setup.py reads it)."""

__version__ = "0.1.0"
