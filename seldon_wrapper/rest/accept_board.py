"""Connection counts of the REST workers, in memory they share across the fork.

A kept-alive connection stays with the worker that accepted it, so new connections have to be
spread when they arrive (see seldon_wrapper/rest/worker.py).
"""

from __future__ import annotations

import mmap
import os
import weakref


class AcceptBoard:
    """How many connections each worker holds, in memory the workers share across the fork.

    A worker holding more connections than another live worker leaves a new connection to
    it. Without this, whichever worker the scheduler runs first takes a whole burst of new
    connections (a client pool opening), keeps them, and the other workers stay idle.
    Slots are given out in the Gunicorn master (single-threaded, before each fork); a slot
    is free again once the master has dropped that worker.
    """

    SLOTS = 256

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, (self.SLOTS + 1) * 16)  # anonymous and shared: survives fork
        # cell 0: slots in use so far (workers forked earlier must see later ones);
        # then pid and connection count per slot, from cell 2.
        self._cells = memoryview(self._mem).cast("q")
        self._owners: list[weakref.ref | None] = [None] * self.SLOTS

    def reserve(self, worker: object) -> int:
        """Master side: a slot for a worker about to be forked."""
        for slot, owner in enumerate(self._owners):
            if owner is None or owner() is None:
                self._owners[slot] = weakref.ref(worker)
                self._write(slot, 0, 0)
                self._cells[0] = max(self._cells[0], slot + 1)
                return slot
        return -1  # more workers than slots: that worker just does not take part

    def claim(self, slot: int) -> None:
        self._write(slot, os.getpid(), 0)

    def release(self, slot: int) -> None:
        self._write(slot, 0, 0)

    def set_count(self, slot: int, count: int) -> None:
        if slot >= 0:
            self._cells[2 * slot + 3] = count

    def fewest_elsewhere(self, slot: int) -> int | None:
        """Fewest connections held by another live worker (None: no other worker)."""
        fewest = None
        cells = self._cells
        for other in range(cells[0]):
            pid = cells[2 * other + 2]
            if other == slot or pid <= 0:
                continue
            count = cells[2 * other + 3]
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

    def _write(self, slot: int, pid: int, count: int) -> None:
        if slot >= 0:
            self._cells[2 * slot + 2] = pid
            self._cells[2 * slot + 3] = count


_board: AcceptBoard | None = None


def shared_board() -> AcceptBoard:
    """The board of this master's workers, made before the first fork and inherited."""
    global _board
    if _board is None:
        _board = AcceptBoard()
    return _board
