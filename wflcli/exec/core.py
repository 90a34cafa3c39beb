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

from wflcli.exec.digest import cache_keys, config_digest, config_seed
from wflcli.exec.feed import END, STALLED, Feed
from wflcli.exec.payload import (ANNOTATION, OUTPUTS, decode_annotation, decode_outputs,
                                 encode_outputs, stored_outputs)
from wflcli.exec.task import Outcome, Task, apply_annotation, seed_identity, task_identity
from wflcli.io.writer import format_config

STALL_SECONDS = 0.1
# a serial run's lookups of the configs at hand are made together: at most this many, and
# configs of at most this many atoms between them (what is read ahead for it)
LOOKUP_GROUP = 64
LOOKUP_GROUP_ATOMS = 20000


@dataclass
class Entry:
    """One input config on its way through the core. A frame read from text waits unread
    (``frame``) until its text key has been asked for: a hit needs no Atoms."""

    index: int
    atoms: object = None
    seed: int = 0
    key: bytes | None = None       # from the config's values (digest.py)
    text_key: bytes | None = None  # from the frame's text as read, when it has one
    frame: object = None           # not read into Atoms yet
    hit: Outcome | None = None     # the cached outcome, when there is one
    by_text: bool = False          # the hit came by text key: nothing to store

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
    which the digest then hashes as it is, and the digest of the raw text, which keys the
    output written for it). ``positions`` gives each config's index in the original input
    when this is a batch job's chunk of it."""
    keys = _Keys(task, cache is not None)
    # the config first: a reader may only know a config's position once it has read it
    entries = (keys.entry(item, index) for item, index in
               zip(configs, itertools.count() if positions is None else positions))
    # a task that evaluates a chunk at once (batches) needs chunks even in one process
    run = _inline if backend.slots == 1 and not task.batches else _pipelined
    if run is _inline and (cache is None or refresh):
        run = functools.partial(_inline, group=1)  # nothing to look up: nothing read ahead
    ready = functools.partial(_ready, keys, None if cache is None or refresh else cache,
                              _TextProbe())
    confirm = getattr(backend, "confirm", None)  # a batch task is done once this is called
    try:
        for pairs, future in run(task, entries, backend, max(1, chunk_size), ready):
            then = (lambda future=future: confirm(future)) if confirm and future else None
            if cache is not None:
                cache.put(_rows(task.verb, pairs), then)
            elif then is not None:
                then()
            for _, outcome in pairs:
                yield outcome
    finally:
        if cache is not None:
            cache.flush()  # also on Ctrl-C: finished work is never lost


class _Keys:
    """How a task's configs are keyed (when cached) and seeded."""

    def __init__(self, task: Task, cached: bool):
        self.task, self.seeding = task, seed_identity(task)
        self.key = cache_keys(task_identity(task)) if cached else None
        # a task that records the input position in its outputs must not share results
        # between positions; its random numbers still come from content alone
        self.per_position = task.records_index

    def entry(self, item, index: int) -> Entry:
        """The config's entry: a frame with raw text keyed by it and left unread."""
        raw = getattr(item, "raw_digest", None) if self.key is not None else None
        digest = raw() if raw is not None else None
        if digest is not None:
            return Entry(index, frame=item, text_key=self.key(digest + self._at(index)))
        entry = Entry(index, frame=item)
        self.read(entry)
        return entry

    def read(self, entry: Entry) -> None:
        """Read the entry's config, key it by value and seed it, or mark it failed upstream."""
        atoms, text = _atoms_and_text(entry.frame)
        if "wfl_error" in atoms.info:  # failed upstream: passed on as failed, never computed
            entry.hit = _failed_upstream(entry.index, atoms, text)
        else:
            digest = config_digest(atoms, self.task, text)
            entry.seed = config_seed(self.seeding, digest)
            if self.key is not None:
                entry.key = self.key(digest + self._at(entry.index))
        # only now: a frame that failed on the way is read again, and fails the same way
        entry.atoms, entry.frame = atoms, None

    def _at(self, index: int) -> bytes:
        return b"@%d" % index if self.per_position else b""


def _atoms_and_text(item) -> tuple:
    """(Atoms, its text as format_config writes it, or None when not known yet)."""
    if isinstance(item, Atoms):
        return item, None
    atoms = item.atoms  # first: a frame with wrong values says so here, before its text
    return atoms, (lambda: item.text)


def _ready(keys: _Keys, cache, probe: _TextProbe, entries: list[Entry]) -> None:
    """Make entries ready to run: answered by text key, else read and answered by value
    key, else left to compute. ``cache`` None: nothing is looked up (``--refresh``, none).
    One query per kind of key for all of them."""
    unread = [entry for entry in entries if entry.frame is not None]
    asked = cache is not None and bool(unread) and probe.ask()
    if asked:
        found = cache.get_many([entry.text_key for entry in unread])
        for entry in unread:
            if entry.text_key in found:
                entry.hit = _from_text(entry.index, *found[entry.text_key])
                entry.by_text = entry.hit is not None
        probe.answered(any(entry.by_text for entry in unread))
    for entry in unread:
        if entry.hit is None:
            keys.read(entry)
    # a key already asked for as text (a whole-config digest of text that is canonical)
    wanted = [entry for entry in entries
              if entry.hit is None and not (asked and entry.key == entry.text_key)]
    if cache is None or not wanted:
        return
    found = cache.get_many([entry.key for entry in wanted])
    for entry in wanted:
        if entry.key in found:
            entry.hit = _from_cache(entry.index, entry.atoms, keys.task.annotates,
                                    *found[entry.key])


class _TextProbe:
    """Whether to ask the store by text key: always while it answers; after ``PAUSE_AFTER``
    unanswered questions in a row (a first run) only every ``PAUSE_AFTER``-th time, so a run
    that finds nothing does not pay a query a chunk (or group of configs at hand) for it (a
    config not asked by text is still found by value, and its text key then stored)."""

    PAUSE_AFTER = 16

    def __init__(self):
        self._unanswered = 0

    def ask(self) -> bool:
        self._unanswered += 1
        return self._unanswered <= self.PAUSE_AFTER or self._unanswered % self.PAUSE_AFTER == 0

    def answered(self, found: bool) -> None:
        if found:
            self._unanswered = 0


def _rows(verb: str, pairs: list[tuple[Entry, Outcome]]) -> list[tuple]:
    """What to store of a chunk: each outcome computed under its value key, and each not
    found by text also under its text key (the output text, which a rerun then returns
    without reading the frame); one row where the two keys are one."""
    rows = []
    for entry, outcome in pairs:
        if outcome.failed or not outcome.started or entry.by_text:
            continue
        # output texts are compressed when the cache hands a batch to its writer, not here
        text = functools.partial(_text_payload, outcome)
        if entry.hit is None:
            rows.append((entry.key, verb, outcome.kind,
                         text if outcome.kind == OUTPUTS else outcome.payload))
        if entry.text_key is not None and entry.text_key != entry.key:
            rows.append((entry.text_key, verb, OUTPUTS, text))
    return rows


def _text_payload(outcome: Outcome) -> bytes:
    """The outputs as kept in the store (decode_outputs reads either form)."""
    plain = outcome.payload if outcome.kind == OUTPUTS else \
        encode_outputs(outcome.text, outcome.count)
    return stored_outputs(plain)


def _failed_upstream(index: int, atoms, text) -> Outcome:
    return Outcome(index, "", 0, error=atoms.info["wfl_error"],
                   failed_text=text() if text is not None else format_config(atoms))


_DAMAGED = (ValueError, KeyError, TypeError, zlib.error)  # a payload that cannot be read


def _from_text(index: int, kind: str, payload: bytes) -> Outcome | None:
    """The output text stored for a frame's text, or None (read and looked up by value)."""
    if kind != OUTPUTS:
        return None
    try:
        count, text = decode_outputs(payload)
    except _DAMAGED:
        return None
    return Outcome(index, text, count, kind=kind, payload=payload, cached=True)


def _from_cache(index: int, atoms, annotates: bool, kind: str, payload: bytes
                ) -> Outcome | None:
    """The cached outcome, or None (computed again) if the entry cannot be read or is not
    of the kind the task stores."""
    if kind != (ANNOTATION if annotates else OUTPUTS):
        return None
    if kind == OUTPUTS:
        return _from_text(index, kind, payload)
    try:
        annotation = decode_annotation(payload)
    except _DAMAGED:  # damaged: not worth failing for
        return None
    apply_annotation(atoms, annotation)
    return Outcome(index, format_config(atoms), 1, kind=kind, payload=payload, cached=True)


def _inline(task: Task, entries: Iterator[Entry], backend, chunk_size: int, ready,
            group: int = LOOKUP_GROUP):
    """One config at a time, as it arrives: nothing to overlap, so no thread either (an
    input thread would make this one wait for the interpreter lock at every query). The
    configs at hand (a file's next frames, never a pipe's: reading them cannot wait) are
    looked up together, one query a kind of key for up to ``group`` of them, not one a
    config: 20,000 lookups of one key took 0.5 s in a run, a fifth of all it did."""
    for ready_now in _at_hand(entries, group):
        try:
            ready(ready_now)
            each = False
        except Exception:  # one cannot be read: the configs before it still come out first
            each = True
        for entry in ready_now:
            if each:
                ready([entry])
            if entry.hit is not None:
                yield [(entry, entry.hit)], None
            else:
                future = backend.submit(task, [entry.work])
                yield [(entry, future.result()[0])], future


def _at_hand(entries: Iterator[Entry], most: int) -> Iterator[list[Entry]]:
    """The entries in groups: each ends where the next config is not at hand (a pipe's
    next frame, another source's), or at ``most`` entries or ``LOOKUP_GROUP_ATOMS`` atoms.
    An input that fails mid-group fails once the entries before it are handed on."""
    group: list[Entry] = []
    atoms = 0
    while True:
        try:
            entry = next(entries)
        except StopIteration:
            break
        except Exception:
            if group:
                yield group
            raise
        group.append(entry)
        frame = entry.frame
        atoms += getattr(frame, "natoms", 0)
        if (len(group) >= most or atoms >= LOOKUP_GROUP_ATOMS
                or not getattr(frame, "next_at_hand", False)):
            yield group
            group, atoms = [], 0
    if group:
        yield group


def _pipelined(task: Task, entries: Iterator[Entry], backend, chunk_size: int, ready):
    """Chunks in flight on the backend while the input is read on a thread; a chunk's
    lookups are one query a kind of key, made as it is sent (frames its text keys do not
    answer are read into Atoms then)."""
    feed = Feed(entries, ahead=max(64, 2 * chunk_size * backend.slots))
    in_flight: deque[ChunkResult] = deque()
    chunk: list[Entry] = []

    def send() -> None:
        nonlocal chunk
        ready(chunk)
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
