"""Steps of dynamics and relaxations done so far, summed over the worker processes: what a
progress line can show while configs are still running (one MD run can take minutes before
its config is done). Off unless a progress line asked for it."""

from __future__ import annotations

import multiprocessing

_counter = None


def share() -> None:
    """Start counting; call before the workers fork, so they add to the same counter."""
    global _counter
    _counter = multiprocessing.Value("q", 0)


def add(count: int = 1) -> None:
    if _counter is not None:
        with _counter.get_lock():
            _counter.value += count


def done() -> int:
    return 0 if _counter is None else _counter.value
