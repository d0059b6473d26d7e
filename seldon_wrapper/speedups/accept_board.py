"""Connection counts of the REST workers, in memory they share across the fork.

A kept-alive connection stays with the worker that accepted it, so new connections have to be
spread when they arrive (see seldon_wrapper/speedups/keepalive.py).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import weakref

SLOTS = 256


class _Slot(ctypes.Structure):
    _fields_ = [("pid", ctypes.c_int64), ("connections", ctypes.c_int64)]


class _Layout(ctypes.Structure):
    """The shared page: how many slots were ever handed out (workers forked earlier must see
    later ones), then one slot per worker (0 as pid: free or not started)."""

    _fields_ = [("used", ctypes.c_int64), ("slots", _Slot * SLOTS)]


class AcceptBoard:
    """How many connections each worker holds, in memory the workers share across the fork.

    A worker holding more connections than another live worker leaves a new connection to
    it. Without this, whichever worker the scheduler runs first takes a whole burst of new
    connections (a client pool opening), keeps them, and the other workers stay idle.
    Slots are given out in the Gunicorn master (single-threaded, before each fork); a slot
    is free again once the master has dropped that worker.
    """

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, ctypes.sizeof(_Layout))  # anonymous and shared: survives fork
        self._layout = _Layout.from_buffer(self._mem)
        self._owners: list[weakref.ref | None] = [None] * SLOTS

    def reserve(self, worker: object) -> int:
        """Master side: a slot for a worker about to be forked."""
        for slot, owner in enumerate(self._owners):
            if owner is None or owner() is None:
                self._owners[slot] = weakref.ref(worker)
                self._write(slot, 0)
                self._layout.used = max(self._layout.used, slot + 1)
                return slot
        return -1  # more workers than slots: that worker just does not take part

    def claim(self, slot: int) -> None:
        self._write(slot, os.getpid())

    def release(self, slot: int) -> None:
        self._write(slot, 0)

    def set_count(self, slot: int, count: int) -> None:
        if slot >= 0:
            self._layout.slots[slot].connections = count

    def fewest_elsewhere(self, slot: int) -> int | None:
        """Fewest connections held by another live worker (None: no other worker)."""
        fewest = None
        slots = self._layout.slots
        for other in range(self._layout.used):
            pid = slots[other].pid
            if other == slot or pid <= 0:
                continue
            count = slots[other].connections
            if fewest is not None and count >= fewest:
                continue
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            except PermissionError:
                pass
            fewest = count
        return fewest

    def _write(self, slot: int, pid: int) -> None:
        if slot >= 0:
            self._layout.slots[slot].pid = pid
            self._layout.slots[slot].connections = 0
