"""The per-config result cache: bytes by key, written behind the computation.

Lookups of a chunk are one query (a serial run asks for each config as it arrives). New
results are handed to a writer thread at most every ``HANDOFF_SECONDS`` (at once when
results come slower than that), and it commits each batch in one short transaction. So the
computation never waits for an insert, commits stay few however fast results come, and a
kill loses at most the last two seconds of results. Why two: a commit here takes about
17 ms whatever its size (the journal's and the file's fsync), and this process's lookups
wait for it, so a commit every half second cost a fast run 3% of its time (about 25 us a
config for 2-atom LJ), one every two seconds under 1%, and what a kill can lose is still
only two seconds of computing, done again by the rerun. The writer has a connection of its
own: lookups go on while it inserts (most of a transaction's time: 2,000 rows into a
large table took about 50 ms, the commit a few), and wait, in this process, only for
the commit itself, which takes the file lock that readers need (left to SQLite, a lookup
turned away by that lock slept and retried: measured, several times the commit's
length). Lookups share a read transaction for a moment (``lease.py``), not one file
lock each. A chunk's results are never split between two commits, and a caller that must
know when they are safe (a batch task marked done) is called back then. What a row needs
before it can be inserted (a payload given as a function, such as compressing an output
text, and every entry's checksum) is done when its batch is handed over, on the computing
thread, in one go: done on the writer thread, each of those calls took and gave back the
interpreter lock, and every exchange of it with a busy computing thread cost both a
thread switch (measured: 20,000 switches and about 0.4 s of CPU time in 2,000 EMT configs,
against 4,000 switches this way). So the writer holds the interpreter lock only a few
times a batch: once per statement, each of which inserts as many rows as SQLite takes.

Every entry carries a checksum of its key, kind and payload, checked on every read: a
damaged entry is a miss (computed again and replaced), with one warning per run. The
cache is an optimisation, so a store that cannot be read or written mid-run (a full or
read-only disk, the store removed) never costs the run: it warns once and goes on
uncached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wflcli.errors import WflError
from wflcli.store.db import (
    StoreUnavailable,
    connect,
    connect_again,
    unavailable,
    write_transaction,
)
from wflcli.store.lease import ReadLease

_STOP = None


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
        self._identity = _file_identity(path)  # the file opened, to notice its replacement
        self._writes: sqlite3.Connection | None = None  # the writer's, opened as it starts
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
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._unwritable: str | None = None  # why results are no longer written (the writer)
        self._unreadable = False  # a lookup failed: the rest of the run goes uncached
        self._warn = warn
        self._warned: set[str] = set()

    def get(self, key: bytes) -> tuple[str, bytes] | None:
        """(kind, payload) for the key, or None (also for an entry that fails its check)."""
        return self.get_many([key]).get(key)

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
                                f"{_advice(exc)}); the rest of this run goes without the cache")
                return {}
        found = {}
        for key, kind, payload, checksum in rows:
            if checksum == entry_checksum(key, kind, payload):
                found[key] = kind, payload
            else:
                self._warn_once("damaged", f"the store {self.path} holds damaged results "
                                "(their checksums do not match); computing them again")
        return found

    def put(self, rows: list[tuple], then=None) -> None:
        """Keep one chunk's results, (key, verb, kind, payload) each, a payload as bytes or
        as a function that gives them (called when the batch is handed over): committed together,
        then ``then()`` is called (on the writer's thread); never when they cannot be."""
        if self._unreadable:  # damaged or gone: not written to either
            return
        if self._unwritable is not None:
            return self._report_unwritable()
        now = time.time()
        self._pending.extend((*row, now) for row in rows)
        if then is not None:
            self._callbacks.append(then)
        if (then is not None or time.monotonic() - self._handed >= HANDOFF_SECONDS
                or len(self._pending) >= _MAX_PENDING):
            self._hand_off()

    def _hand_off(self) -> None:
        self._report_unwritable()
        self._handed = time.monotonic()
        if not self._pending and not self._callbacks:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_behind, daemon=True,
                                            name="wfl-cache-writer")
            self._writer.start()
        try:
            rows = [_stored(*row) for row in self._pending]
        except Exception as exc:  # a payload that cannot be made: as if it could not be written
            self._unwritable = f"cannot write to the store {self.path}: {exc}"
            return self._report_unwritable()
        self._queue.put((rows, self._callbacks))
        self._pending, self._callbacks = [], []

    def flush(self) -> None:
        """Wait until every result put so far is committed (or known not to be)."""
        self._hand_off()
        if self._writer is not None:
            self._queue.join()
        self._report_unwritable()

    def close(self) -> None:
        self._hand_off()
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join()
            self._writer = None
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._lease.close()
            self.db.close()
            self.db = None
        if self._writes is not None:
            self._writes.close()
            self._writes = None
        self._report_unwritable()

    def _write_behind(self) -> None:
        while True:
            batches = [self._queue.get()]
            while True:  # everything that has arrived meanwhile goes in the same commit
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batches
            handed = [batch for batch in batches if batch is not _STOP]
            rows = [row for batch, _ in handed for row in batch]
            try:
                if rows and self._unwritable is None:
                    self._commit(rows)
                    if self._identity is None or _file_identity(self.path) != self._identity:
                        self._unwritable = (f"the store {self.path} was removed or "
                                            "replaced during the run")
                if self._unwritable is None:  # committed: now callers may rely on it
                    for _, callbacks in handed:
                        for callback in callbacks:
                            callback()
            except Exception as exc:  # reported to the computing thread
                self._unwritable = (str(exc) if isinstance(exc, WflError) else
                                    f"cannot write to the store {self.path}: {exc}"
                                    f"{_advice(exc)}")
            finally:
                for _ in batches:
                    self._queue.task_done()
            if stop:
                return

    def _commit(self, rows: list[tuple]) -> None:
        """Insert while lookups go on; commit with them held off (the commit takes the
        file lock that their reads need, and SQLite would have them sleep and retry)."""
        if self._writes is None:
            self._writes = connect_again(self.path)
        with write_transaction(self._writes, finish=self._committing()):
            _insert(self._writes, rows)

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
        if self._unwritable is not None:
            self._pending = []
            self._warn_once("store", f"results are not cached from here on "
                            f"({self._unwritable})")

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
_KEYS_PER_QUERY = 500  # well below SQLite's limit on a statement's parameters

_INSERT = ("INSERT OR REPLACE INTO results (key, verb, kind, payload, size, created, checksum) "
           "VALUES ")
_COLUMNS = 7
_MAX_ROWS_PER_INSERT = 4096


def _stored(key: bytes, verb: str, kind: str, payload, created: float) -> tuple:
    """A row as inserted: its payload made (when given as a function), sized, checksummed."""
    if callable(payload):
        payload = payload()
    return key, verb, kind, payload, len(payload), created, entry_checksum(key, kind, payload)


def _insert(db: sqlite3.Connection, rows: list[tuple]) -> None:
    """Many rows a statement, as many as this SQLite takes: the interpreter lock is let go
    once per statement, not once per row."""
    step = _rows_per_insert(db)
    for start in range(0, len(rows), step):
        part = rows[start:start + step]
        db.execute(_INSERT + ",".join(["(?,?,?,?,?,?,?)"] * len(part)),
                   [value for row in part for value in row])


def _rows_per_insert(db: sqlite3.Connection) -> int:
    """Rows whose parameters fit one statement: SQLite's limit is 999 before 3.32 (still
    the system's on older clusters), 32,766 since; Python 3.10 cannot ask."""
    try:
        limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:
        limit = 999
    return max(1, min(_MAX_ROWS_PER_INSERT, limit // _COLUMNS))


def _advice(exc: Exception) -> str:
    """What to do about a store SQLite finds damaged (nothing: one it cannot reach)."""
    if isinstance(exc, sqlite3.DatabaseError) and not unavailable(exc):
        return "; move it away to start a new one"
    return ""


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (None: none)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


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
