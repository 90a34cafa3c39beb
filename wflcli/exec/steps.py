"""Steps of dynamics and relaxations done so far, summed over the worker processes: what a
progress line can show while configs are still running (one MD run can take minutes before
its config is done). Off unless a progress line asked for it.

Each process adds to a count of its own in shared memory (this one to the first, worker i
to the one after i's, wrapping past ``COUNTS``), and the progress line sums them, so no
lock is taken. A shared lock was: a worker killed while it held it (Ctrl-C kills them) left
it taken for ever, and the progress line, waiting for it, kept the run from ending.
"""

from __future__ import annotations

import multiprocessing

COUNTS = 256  # past 255 workers two share a count, and may lose a step now and then
_counts = None
_own = 0  # this process's count


def share() -> None:
    """Start counting; call before the workers fork, so they add to the same counts."""
    global _counts
    _counts = multiprocessing.RawArray("q", COUNTS)


def count_as_worker(number: int) -> None:
    """In worker ``number`` (0, 1, ...) as it starts: a worker started again in its place
    after it died goes on from its count."""
    global _own
    _own = 1 + number % (COUNTS - 1)


def add(count: int = 1) -> None:
    if _counts is not None:
        _counts[_own] += count


def done() -> int:
    return 0 if _counts is None else sum(_counts)
