"""The executor loop: configs in, cache consulted, chunks out to a backend, outcomes back
in input order, fresh results into the cache.

Memory stays flat: at most ``backend.slots`` chunks are in flight and the reorder buffer
holds only those. A chunk leaves when it is full, or early when the input stalls, so a
slow producer upstream still sees its first results downstream at once.
"""

from __future__ import annotations

import itertools
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from wflcli.exec.digest import cache_key, config_digest, config_seed
from wflcli.exec.feed import END, STALLED, Feed
from wflcli.exec.payload import ANNOTATION, decode_annotation, decode_outputs
from wflcli.exec.task import Outcome, Task, apply_annotation, seed_identity, task_identity
from wflcli.io.writer import format_config

STALL_SECONDS = 0.1


@dataclass
class Entry:
    """One input config on its way through the core."""

    index: int
    atoms: object
    seed: int
    key: bytes | None = None
    hit: Outcome | None = None  # the cached outcome, when there is one

    @property
    def work(self) -> tuple:
        return self.index, self.atoms, self.seed


class ChunkResult:
    """A chunk's (entry, outcome) pairs in input order: cache hits merged with the
    backend's results for the misses (``future``, None when all were hits)."""

    def __init__(self, entries: list[Entry], future: Future | None):
        self.entries, self.future = entries, future

    def done(self) -> bool:
        return self.future is None or self.future.done()

    def result(self) -> tuple[list[tuple[Entry, Outcome]], Future | None]:
        computed = iter(self.future.result() if self.future else ())
        return [(e, e.hit or next(computed)) for e in self.entries], self.future


def execute(task: Task, configs: Iterable, backend, chunk_size: int, cache=None,
            refresh: bool = False, positions: Iterable[int] | None = None
            ) -> Iterator[Outcome]:
    """Yield one Outcome per input config, in input order. ``positions`` gives each
    config's index in the original input when this is a batch job's chunk of it."""
    entries = _entries(task, configs, cache, refresh, positions)
    # a task that evaluates a chunk at once (batches) needs chunks even in one process
    run = _inline if backend.slots == 1 and not task.batches else _pipelined
    confirm = getattr(backend, "confirm", None)  # a batch task is done once this is called
    try:
        for pairs, future in run(task, entries, backend, max(1, chunk_size)):
            then = (lambda future=future: confirm(future)) if confirm and future else None
            if cache is not None:
                cache.put([(entry.key, task.verb, outcome.kind, outcome.payload)
                           for entry, outcome in pairs
                           if entry.hit is None and not outcome.failed and outcome.started],
                          then)
            elif then is not None:
                then()
            for _, outcome in pairs:
                yield outcome
    finally:
        if cache is not None:
            cache.flush()  # also on Ctrl-C: finished work is never lost


def _entries(task: Task, configs: Iterable, cache, refresh: bool,
             positions: Iterable[int] | None) -> Iterator[Entry]:
    identity, seeding = task_identity(task), seed_identity(task)
    # the config first: a reader may only know a config's position once it has read it
    for atoms, index in zip(configs, itertools.count() if positions is None else positions):
        if "wfl_error" in atoms.info:  # failed upstream: passed on as failed, never computed
            yield Entry(index, atoms, 0, hit=_failed_upstream(index, atoms))
            continue
        digest = config_digest(atoms, task)
        entry = Entry(index, atoms, config_seed(seeding, digest))
        if cache is not None:
            # a task that records the input position in its outputs must not share results
            # between positions; its random numbers still come from content alone
            where = b"@%d" % index if task.records_index else b""
            entry.key = cache_key(identity, digest + where)
            found = None if refresh else cache.get(entry.key)
            if found is not None:
                entry.hit = _from_cache(index, atoms, *found)
        yield entry


def _failed_upstream(index: int, atoms) -> Outcome:
    return Outcome(index, "", 0, error=atoms.info["wfl_error"], failed_text=format_config(atoms))


def _from_cache(index: int, atoms, kind: str, payload: bytes) -> Outcome | None:
    """The cached outcome, or None (computed again) if the entry cannot be read."""
    try:
        if kind == ANNOTATION:
            annotation = decode_annotation(payload)
        else:
            count, text = decode_outputs(payload)
            return Outcome(index, text, count, kind=kind, payload=payload, cached=True)
    except (ValueError, KeyError, TypeError, zlib.error):  # damaged: not worth failing for
        return None
    apply_annotation(atoms, annotation)
    return Outcome(index, format_config(atoms), 1, kind=kind, payload=payload, cached=True)


def _inline(task: Task, entries: Iterator[Entry], backend, chunk_size: int):
    """One config at a time, as it arrives: nothing to overlap, so no thread either."""
    for entry in entries:
        if entry.hit is not None:
            yield [(entry, entry.hit)], None
        else:
            future = backend.submit(task, [entry.work])
            yield [(entry, future.result()[0])], future


def _pipelined(task: Task, entries: Iterator[Entry], backend, chunk_size: int):
    feed = Feed(entries, ahead=max(64, 2 * chunk_size * backend.slots))
    in_flight: deque[ChunkResult] = deque()
    chunk: list[Entry] = []

    def send() -> None:
        nonlocal chunk
        misses = [e.work for e in chunk if e.hit is None]
        in_flight.append(ChunkResult(chunk, backend.submit(task, misses) if misses else None))
        chunk = []

    ended = False
    while True:
        while in_flight and in_flight[0].done():
            yield in_flight.popleft().result()
        if chunk and (ended or len(chunk) >= chunk_size) and len(in_flight) < backend.slots:
            send()
            continue
        if ended or len(in_flight) >= backend.slots:
            if not in_flight:
                return
            yield in_flight.popleft().result()  # wait for the oldest chunk
            continue
        item = feed.get(STALL_SECONDS if (chunk or in_flight) else None)
        if item is END:
            ended = True
        elif item is STALLED:
            if chunk and backend.early:
                send()
        else:
            chunk.append(item)
