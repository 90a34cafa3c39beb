"""The per-config result cache: bytes by key, written behind the computation.

Lookups of a chunk are one query (a serial run asks for the configs at hand together). New
results are handed to the writer (``writer.py``) at most every ``HANDOFF_SECONDS`` (at once
when a caller must know when they are safe, or when results come slower than that), which
commits each batch in one short transaction. So the computation never waits for an
insert, commits stay few however fast results come, and a kill loses at most the last two
seconds of results. Why two: a commit here takes about 17 ms whatever its size (the
journal's and the file's fsync), and this process's lookups wait for it, so a commit every
half second cost a fast run 3% of its time (about 25 us a config for 2-atom LJ), one every
two seconds under 1%, and what a kill can lose is still only two seconds of computing,
done again by the rerun. The writer has a connection of its own: lookups go on while it
inserts, and wait, in this process, only for the commit itself, which takes the file lock
that readers need (left to SQLite, a lookup turned away by that lock slept and retried:
measured, several times the commit's length).
Lookups share a read transaction for a moment (``lease.py``), not one file lock each. A
chunk's results are never split between two commits.

What a row needs before it can be inserted (a payload given as a function, such as
compressing an output text, and every entry's checksum) is done when its batch is handed
over, on the computing thread, in one go: done on the writer thread, each of those calls
took and gave back the interpreter lock, and every exchange of it with a busy computing
thread cost both a thread switch (measured: 20,000 switches in a run of 2,000 EMT
configs, against 4,000 this way).

Every entry carries a checksum of its key, kind and payload, checked on every read: a
damaged entry is a miss (computed again and replaced), with one warning per run. The
cache is an optimisation, so a store that cannot be read or written mid-run (a full or
read-only disk, the store removed) never costs the run: it warns once and goes on
uncached. Ctrl-C and SIGTERM wait for a call from the main thread to return
(``wflcli/interrupts.py``): raised inside one, they could leave the writer waiting for
ever.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wflcli.interrupts import shielded
from wflcli.store.db import StoreUnavailable, connect, damage_advice, write_transaction
from wflcli.store.lease import ReadLease
from wflcli.store.writer import WriteBehind

HANDOFF_SECONDS = 2.0
_MAX_PENDING = 10000  # bounds memory when results come very fast


class CacheClosed(Exception):
    """A lookup after close: the input thread of a run that is being torn down."""


def warn_on_stderr(message: str) -> None:
    sys.stderr.write(f"wfl: warning: {message}\n")
    sys.stderr.flush()


def entry_checksum(key: bytes, kind: str, payload: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for piece in (key, kind.encode(), payload):
        digest.update(b"%d:" % len(piece))
        digest.update(piece)
    return digest.digest()


class ResultCache:
    def __init__(self, path: Path, warn: Callable[[str], None] = warn_on_stderr):
        self.path = path
        self.db = connect(path)  # lookups and management
        # lookups and closing take turns on self.db (closing it under a running query
        # crashed the process, seen on SIGTERM)
        self._lock = threading.Lock()
        # cleared while the writer commits: lookups wait here, not asleep in SQLite's busy
        # handler; the writer takes self._lock as well, so none is reading as it commits
        # (until then it holds no lock that a read waits for: its cache never spills)
        self._open = threading.Event()
        self._open.set()
        self._lease = ReadLease(self.db, self._lock)  # lookups share a read transaction
        self._pending: list[tuple] = []
        self._callbacks: list = []
        self._handed = 0.0
        self._writer = WriteBehind(path, self._committing)
        self._unreadable = False  # a lookup failed: the rest of the run goes uncached
        self._warn = warn
        self._warned: set[str] = set()

    def get(self, key: bytes) -> tuple[str, bytes] | None:
        """(kind, payload) for the key, or None (also for an entry that fails its check)."""
        return self.get_many([key]).get(key)

    @shielded
    def get_many(self, keys: list[bytes]) -> dict[bytes, tuple[str, bytes]]:
        """{key: (kind, payload)} for the keys found whose entries pass their check."""
        rows = []
        self._open.wait()
        with self._lock:
            if self.db is None:
                raise CacheClosed()
            if self._unreadable:
                return {}
            try:
                self._lease.begin()
                for start in range(0, len(keys), _KEYS_PER_QUERY):
                    part = keys[start:start + _KEYS_PER_QUERY]
                    rows += self.db.execute(_SELECT % ",".join("?" * len(part)),
                                            part).fetchall()
                self._lease.after()
            except sqlite3.Error as exc:
                self._unreadable = True
                with contextlib.suppress(sqlite3.Error):
                    self._lease.end()
                self._warn_once("store", f"cannot read the store {self.path} ({exc}"
                                f"{damage_advice(exc)}); the rest of this run goes without the cache")
                return {}
        found = {}
        for key, kind, payload, checksum in rows:
            if checksum == entry_checksum(key, kind, payload):
                found[key] = kind, payload
            else:
                self._warn_once("damaged", f"the store {self.path} holds damaged results "
                                "(their checksums do not match); computing them again")
        return found

    @shielded
    def put(self, rows: list[tuple], then=None) -> None:
        """Keep one chunk's results, (key, verb, kind, payload) each, a payload as bytes or
        as a function that gives them (called when the batch is handed over): committed
        together, then ``then()`` is called (on the writer's thread); never when they
        cannot be."""
        if self._unreadable:  # damaged or gone: not written to either
            return
        if self._writer.failure is not None:
            return self._report_unwritable()
        now = time.monotonic()
        created = time.time()
        self._pending.extend((*row, created) for row in rows)
        if then is not None:
            self._callbacks.append(then)
        if (then is not None or now - self._handed >= HANDOFF_SECONDS
                or len(self._pending) >= _MAX_PENDING):
            self._hand_off()

    def _hand_off(self) -> None:
        self._report_unwritable()
        self._handed = time.monotonic()
        if not self._pending and not self._callbacks:
            return
        try:
            rows = [_stored(*row) for row in self._pending]
        except Exception as exc:  # a payload that cannot be made: as if it could not be written
            self._writer.failure = f"cannot write to the store {self.path}: {exc}"
            return self._report_unwritable()
        self._writer.hand(rows, self._callbacks)
        self._pending, self._callbacks = [], []

    @shielded
    def flush(self) -> None:
        """Wait until every result put so far is committed (or known not to be)."""
        self._hand_off()
        self._writer.flush()
        self._report_unwritable()

    @shielded
    def close(self) -> None:
        self._hand_off()
        self._writer.close()
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._lease.close()
            self.db.close()
            self.db = None
        self._report_unwritable()

    @contextlib.contextmanager
    def _committing(self):
        """Lookups held off and their read transaction ended, for a commit."""
        self._open.clear()
        try:
            with self._lock:
                self._lease.end()
                yield
        finally:
            self._open.set()

    def _report_unwritable(self) -> None:
        if self._writer.failure is not None:
            self._pending = []
            self._warn_once("store", f"results are not cached from here on "
                            f"({self._writer.failure})")

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            self._warn(message)

    # --- management (wfl cache) ---------------------------------------------------------

    def summary(self) -> list[tuple[str, int, int, float, float]]:
        """(verb, entries, bytes, oldest, newest) per verb."""
        return self.db.execute("SELECT verb, COUNT(*), SUM(size), MIN(created), MAX(created) "
                               "FROM results GROUP BY verb ORDER BY verb").fetchall()

    def select(self, verb: str | None, older_than: float | None) -> tuple[int, int]:
        """(entries, bytes) that a clean with these filters would remove."""
        where, args = _filters(verb, older_than)
        count, size = self.db.execute(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM results"
                                      f"{where}", args).fetchone()
        return count, size

    def remove(self, verb: str | None, older_than: float | None) -> int:
        where, args = _filters(verb, older_than)
        with write_transaction(self.db):
            removed = self.db.execute(f"DELETE FROM results{where}", args).rowcount
        self.db.execute("VACUUM")
        return removed


def _filters(verb: str | None, older_than: float | None) -> tuple[str, list]:
    clauses, args = [], []
    if verb:
        clauses.append("verb = ?")
        args.append(verb)
    if older_than is not None:
        clauses.append("created < ?")
        args.append(time.time() - older_than)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


_SELECT = "SELECT key, kind, payload, checksum FROM results WHERE key IN (%s)"
_KEYS_PER_QUERY = 500  # well below SQLite's limit on a statement's parameters (999 at least)


def _stored(key: bytes, verb: str, kind: str, payload, created: float) -> tuple:
    """A row as inserted: its payload made (when given as a function), sized, checksummed."""
    if callable(payload):
        payload = payload()
    return key, verb, kind, payload, len(payload), created, entry_checksum(key, kind, payload)


def open_result_cache() -> ResultCache:
    """The cache in the user's store (``$WFLCLI_HOME`` or ``~/.wflcli``)."""
    from wflcli.store.home import store_home

    return ResultCache(store_home() / "store.sqlite")


def cache_for_run(warn: Callable[[str], None] = warn_on_stderr) -> ResultCache | None:
    """The cache for a run, or None (with a warning) when the store cannot be opened here:
    the run then goes on without it."""
    from wflcli.store.home import store_home

    try:
        return ResultCache(store_home() / "store.sqlite", warn)
    except StoreUnavailable as exc:
        warn(f"running without the cache: {exc}")
        return None
