"""Module-level code fails while the model module is imported."""

raise RuntimeError("BrokenImportModel exploded at import time")
