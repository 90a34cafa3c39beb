"""The executor loop: configs in, chunks out to a backend, outcomes back in input order.

Memory stays flat: at most ``backend.slots`` chunks are in flight and the reorder buffer
holds only those. A chunk leaves when it is full, or early when the input stalls, so a
slow producer upstream still sees its first results downstream at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from wflcli.exec.feed import END, STALLED, Feed
from wflcli.exec.task import Outcome, Task

STALL_SECONDS = 0.1


def execute(task: Task, configs: Iterable, backend, chunk_size: int) -> Iterator[Outcome]:
    """Yield one Outcome per input config, in input order."""
    if backend.slots == 1:
        yield from _inline(task, configs, backend)
        return
    yield from _pipelined(task, configs, backend, max(1, chunk_size))


def _inline(task: Task, configs: Iterable, backend) -> Iterator[Outcome]:
    """One config at a time, as it arrives: nothing to overlap, so no thread either."""
    for item in enumerate(configs):
        yield from backend.submit(task, [item]).result()


def _pipelined(task: Task, configs: Iterable, backend, chunk_size: int) -> Iterator[Outcome]:
    feed = Feed(configs, ahead=max(64, 2 * chunk_size * backend.slots))
    in_flight: deque = deque()
    chunk: list = []
    ended = False
    while True:
        while in_flight and in_flight[0].done():
            yield from in_flight.popleft().result()
        if chunk and (ended or len(chunk) >= chunk_size) and len(in_flight) < backend.slots:
            in_flight.append(backend.submit(task, chunk))
            chunk = []
            continue
        if ended or len(in_flight) >= backend.slots:
            if not in_flight:
                return
            yield from in_flight.popleft().result()  # wait for the oldest chunk
            continue
        item = feed.get(STALL_SECONDS if (chunk or in_flight) else None)
        if item is END:
            ended = True
        elif item is STALLED:
            if chunk:
                in_flight.append(backend.submit(task, chunk))
                chunk = []
        else:
            chunk.append(item)
