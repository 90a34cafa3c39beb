"""The executor loop: configs in, cache consulted, chunks out to a backend, outcomes back
in input order, fresh results into the cache.

Memory stays flat: at most ``backend.slots`` chunks are in flight and the reorder buffer
holds only those. A chunk leaves when it is full, or early when the input stalls, so a
slow producer upstream still sees its first results downstream at once.
"""

from __future__ import annotations

import functools
import itertools
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from ase import Atoms

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
    """Yield one Outcome per input config, in input order. ``configs`` are Atoms, or
    frames as read (``io.reader.Frame``: ``atoms`` and the ``text`` format_config gives,
    which the digest then hashes as it is). ``positions`` gives each config's index in the
    original input when this is a batch job's chunk of it."""
    entries = _entries(task, configs, cache, positions)
    # a task that evaluates a chunk at once (batches) needs chunks even in one process
    run = _inline if backend.slots == 1 and not task.batches else _pipelined
    lookup = None if cache is None or refresh else functools.partial(_look_up, cache)
    confirm = getattr(backend, "confirm", None)  # a batch task is done once this is called
    try:
        for pairs, future in run(task, entries, backend, max(1, chunk_size), lookup):
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


def _entries(task: Task, configs: Iterable, cache, positions: Iterable[int] | None
             ) -> Iterator[Entry]:
    identity, seeding = task_identity(task), seed_identity(task)
    # a task that records the input position in its outputs must not share results
    # between positions; its random numbers still come from content alone
    per_position = task.records_index
    # the config first: a reader may only know a config's position once it has read it
    for item, index in zip(configs, itertools.count() if positions is None else positions):
        atoms, text = _atoms_and_text(item)
        if "wfl_error" in atoms.info:  # failed upstream: passed on as failed, never computed
            yield Entry(index, atoms, 0, hit=_failed_upstream(index, atoms, text))
            continue
        digest = config_digest(atoms, task, text)
        entry = Entry(index, atoms, config_seed(seeding, digest))
        if cache is not None:
            entry.key = cache_key(identity, digest + (b"@%d" % index if per_position else b""))
        yield entry


def _atoms_and_text(item) -> tuple:
    """(Atoms, its text as format_config writes it, or None when not known yet)."""
    if isinstance(item, Atoms):
        return item, None
    atoms = item.atoms  # first: a frame with wrong values says so here, before its text
    return atoms, (lambda: item.text)


def _look_up(cache, entries: list[Entry]) -> None:
    """Set ``hit`` on the entries the cache answers, in one query for all of them."""
    wanted = [entry for entry in entries if entry.hit is None]
    if not wanted:
        return
    found = cache.get_many([entry.key for entry in wanted])
    for entry in wanted:
        if entry.key in found:
            entry.hit = _from_cache(entry.index, entry.atoms, *found[entry.key])


def _failed_upstream(index: int, atoms, text) -> Outcome:
    return Outcome(index, "", 0, error=atoms.info["wfl_error"],
                   failed_text=text() if text is not None else format_config(atoms))


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


def _inline(task: Task, entries: Iterator[Entry], backend, chunk_size: int, lookup=None):
    """One config at a time, as it arrives: nothing to overlap, so no thread either (an
    input thread would make this one wait for the interpreter lock at every query)."""
    for entry in entries:
        if lookup is not None:
            lookup([entry])
        if entry.hit is not None:
            yield [(entry, entry.hit)], None
        else:
            future = backend.submit(task, [entry.work])
            yield [(entry, future.result()[0])], future


def _pipelined(task: Task, entries: Iterator[Entry], backend, chunk_size: int, lookup=None):
    """Chunks in flight on the backend while the input is read on a thread; a chunk's
    lookups are one query, made as it is sent."""
    feed = Feed(entries, ahead=max(64, 2 * chunk_size * backend.slots))
    in_flight: deque[ChunkResult] = deque()
    chunk: list[Entry] = []

    def send() -> None:
        nonlocal chunk
        if lookup is not None:
            lookup(chunk)
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
