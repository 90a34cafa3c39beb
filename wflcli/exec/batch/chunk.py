"""A chunk of configs on its way through the batch engine, and how the rest of a chunk
whose array task stopped in time (drained) goes on as a new chunk.

Three things are called "task" around here; in this package they are named apart:
``Chunk.work`` is the verb's Task (what to compute on each config, ``exec/task.py``), an
*array task* is one element of a scheduler's job array, and ``JobRecord.task`` is the
number of that array task in its job (a store column, counted from 1).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

from wflcli.store.jobs import JobRecord


@dataclass
class Chunk:
    work: object                 # the verb's Task, for failed outcomes and the chunk hash
    items: list                  # (index, atoms, seed) as the core sent them
    future: object               # concurrent.futures.Future of the Outcomes
    text: bytes = b""
    positions: bytes = b""
    hash: str = ""
    record: JobRecord | None = None  # the array task running it, once placed
    attempt: int = 0
    missed: int = 0
    root: object = None          # the future the core waits on (a drained task's rest
                                 # goes on in a new chunk that resolves the same one)

    def __post_init__(self):
        self.root = self.root or self.future


def continuation(chunk: Chunk, outcomes: list, rest: list) -> Chunk:
    """A new chunk of the configs a drained array task did not start; once its outcomes
    are in, ``chunk`` resolves with both, in input order."""
    follow = Chunk(chunk.work, rest, Future(), attempt=chunk.attempt, root=chunk.root)

    def merge(done: Future) -> None:
        if chunk.future.done():  # failed already, with the engine's error
            return
        if done.exception() is not None:
            chunk.future.set_exception(done.exception())
            return
        later = iter(done.result())
        chunk.future.set_result([o if o.started else next(later) for o in outcomes])

    follow.future.add_done_callback(merge)
    return follow
