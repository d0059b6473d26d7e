"""The private prometheus-client multiprocess directory.

prometheus-client chooses multiprocess mode when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``; so the CLI calls ``prepare()`` before anything imports it.
This module must not import prometheus-client itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> str | None:
    """Create a fresh directory and export it; returns it when we own it (to clean up later).

    A directory the user set is used as it is and left alone.
    """
    if os.environ.get(ENV):
        os.makedirs(os.environ[ENV], exist_ok=True)
        return None
    path = tempfile.mkdtemp(prefix="seldon-wrapper-metrics-")
    os.environ[ENV] = path
    return path


def remove(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)
