"""The shared connection counts that spread new REST connections over workers."""

import gc
import multiprocessing

from seldon_wrapper.speedups.accept_board import AcceptBoard


class _Worker:
    """Stands for a Gunicorn worker object in the master (only its lifetime matters)."""


def test_counts_written_by_forked_workers_are_seen_by_every_worker():
    board = AcceptBoard()
    workers = [_Worker(), _Worker()]
    first, second = (board.reserve(w) for w in workers)
    assert first != second
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()

    def second_worker():  # forked, as Gunicorn forks its workers
        board.claim(second)
        board.set_count(second, 3)
        ready.set()
        done.wait(10)

    process = ctx.Process(target=second_worker)
    process.start()
    assert ready.wait(10)
    assert board.fewest_elsewhere(first) == 3  # written in the child, read here
    assert board.fewest_elsewhere(second) is None  # its own slot is not "elsewhere"
    done.set()
    process.join(10)
    # The child has exited without releasing its slot (as if killed): it no longer counts.
    assert board.fewest_elsewhere(first) is None


def test_a_worker_forked_earlier_sees_workers_reserved_after_it():
    board = AcceptBoard()
    early, late = _Worker(), _Worker()
    early_slot = board.reserve(early)
    ctx = multiprocessing.get_context("fork")
    seen = ctx.Queue()
    go = ctx.Event()

    def early_worker():
        go.wait(10)
        seen.put(board.fewest_elsewhere(early_slot))

    process = ctx.Process(target=early_worker)
    process.start()  # forked before the later worker had a slot
    late_slot = board.reserve(late)
    board.claim(late_slot)  # this process plays the later worker
    board.set_count(late_slot, 2)
    go.set()
    assert seen.get(timeout=10) == 2
    process.join(10)


def test_fewest_is_the_smallest_count_among_live_workers():
    board = AcceptBoard()
    workers = [_Worker() for _ in range(4)]
    slots = [board.reserve(w) for w in workers]
    for slot, count in zip(slots[1:], (5, 2, 7), strict=True):
        board.claim(slot)  # this (live) process plays each of them
        board.set_count(slot, count)
    assert board.fewest_elsewhere(slots[0]) == 2
    board.release(slots[2])  # that worker left cleanly
    assert board.fewest_elsewhere(slots[0]) == 5


def test_a_slot_is_reused_once_the_master_drops_its_worker():
    board = AcceptBoard()
    kept, dropped = _Worker(), _Worker()
    board.reserve(kept)
    dropped_slot = board.reserve(dropped)
    del dropped
    gc.collect()
    assert board.reserve(_Worker()) == dropped_slot
