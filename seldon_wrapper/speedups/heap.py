"""A REST worker's heap: kept between large requests while they come, given back when quiet.

glibc serves allocations above 128 KiB with fresh ``mmap`` pages, so every 1 MB request
page-faulted ~2.5 MB of zeroed memory in again (600 faults, ~1.4 ms of a 6 ms request), and
its ``free`` trimmed the top of the heap after each request. In the worker we raise both
thresholds to 32 / 64 MB: the memory of one request is reused by the next. Then, once no
large request came for ``IDLE_S``, a thread runs a full garbage collection (which also empties
the interpreter's free lists: the tuples, lists, floats and dicts a large request left cached
there pin otherwise empty memory pages; 5 MB of a worker's 11 after 15 labelled 3.9 MB
requests), runs ``on_quiet`` (the parser pool lets go of its buffers) and calls
``malloc_trim``, so an idle worker holds no more than before its first large request.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LARGE_REQUEST_BYTES = 64 * 1024
IDLE_S = 0.5
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own ceiling for its sliding threshold
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
# glibc reads these at start-up; a user who tuned malloc keeps their settings.
_USER_TUNING = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


class WorkerHeap:
    """One per worker process: ``hold`` after fork, ``note`` after each request."""

    def __init__(self, on_quiet: Callable[[], None] = lambda: None) -> None:
        self.on_quiet = on_quiet
        self._libc: Any = None
        self._pending = False
        self._last_large = 0.0
        self._thread: threading.Thread | None = None

    def _glibc(self) -> Any:
        if self._libc is None:
            try:
                self._libc = ctypes.CDLL("libc.so.6")
            except OSError:  # not glibc: its defaults stay, nothing to trim with
                self._libc = False
        return self._libc

    def hold(self) -> bool:
        """Keep freed heap between requests; returns whether glibc took the setting."""
        libc = self._glibc()
        if not libc or any(name in os.environ for name in _USER_TUNING):
            return False
        mmap_set = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        return bool(mmap_set and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))

    def note(self, environ: dict) -> None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if length < LARGE_REQUEST_BYTES:
            return
        self._last_large = time.monotonic()
        self._pending = True
        if self._thread is None and self._glibc():
            self._thread = threading.Thread(target=self._loop, name="heap-trim", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(IDLE_S)
            if self._pending and time.monotonic() - self._last_large >= IDLE_S:
                self._pending = False
                gc.collect()
                self.on_quiet()
                try:
                    self._libc.malloc_trim(0)
                except AttributeError:  # not glibc
                    return
