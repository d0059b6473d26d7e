"""Fails while it is imported: the executor must name its node and leave nothing running."""

print("GraphBrokenImport is about to fail", flush=True)
raise RuntimeError("GraphBrokenImport exploded at import time")
