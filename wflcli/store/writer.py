"""The cache's writer: a thread that inserts results as they are handed over, in a write
transaction committed once its oldest result is ``COMMIT_SECONDS`` old.

Why both numbers. A commit takes about 17 ms here whatever its size (the journal's and the
file's fsync), and this process's lookups wait for it, so commits stay few: one every two
seconds cost a fast run under 1% (one every half second cost 2-atom LJ 3%), and what a
kill can lose is still only two seconds of computing, done again by the rerun. Inserting is
most of a transaction's time (10 us a row into a large table), and what is left to insert
when a run ends is what it waits for before it can exit; inserted as they come, that is a
moment's results, not two seconds' (0.1 s of a 2 s run of 20,000 configs, before).

Holding the file's write lock between commits would shut other wfl processes out of the
store, so after each commit it is left free for ``FREE_SECONDS`` (batches wait meanwhile),
and a writer that found the lock taken commits every batch at once from then on.

Rows arrive made (payload, size, checksum: see ``cache.py``), so this thread holds the
interpreter lock only to bind a statement's values: a statement inserts as many rows as
SQLite takes. A batch whose caller must know when it is safe (a batch task marked done)
is committed at once, and its callbacks called then; never when it cannot be.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wflcli.errors import WflError
from wflcli.store.db import connect_again, damage_advice

COMMIT_SECONDS = 2.0
# after each commit the file's write lock is left free this long, so that another process's
# writer, whose SQLite retries every 0.1 s at most, gets its turn; one that had to wait for
# the lock commits each batch at once from then on (short transactions while others write)
FREE_SECONDS = 0.15
CONTENDED_SECONDS = 0.02

_STOP, _FLUSH, _DUE = "stop", "flush", "due"


class WriteBehind:
    """Inserts and commits on a thread of its own, started at the first batch.
    ``hold_lookups`` is entered around each commit (it ends this process's read
    transaction and keeps lookups waiting: the commit takes the file lock they need)."""

    def __init__(self, path: Path, hold_lookups: Callable[[], contextlib.AbstractContextManager]):
        self.path = path
        self.failure: str | None = None  # why results are no longer written (set by either thread)
        self._identity = _file_identity(path)  # the file opened, to notice its replacement
        self._hold_lookups = hold_lookups
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        # batches as (rows, callbacks, oldest): received, waiting for the lock to be taken
        # again; and inserted, waiting for the commit
        self._held: list = []
        self._open: list = []
        self._free_until = 0.0
        self._short = False  # another process writes too: one batch a transaction

    def hand(self, rows: list[tuple], callbacks: list, oldest: float) -> None:
        """Rows ready to insert, the oldest put at ``oldest`` (time.monotonic)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="wfl-cache-writer")
            self._thread.start()
        self._queue.put((rows, callbacks, oldest))

    def flush(self) -> None:
        """Commit what was handed over, and wait for it."""
        if self._thread is not None:
            self._queue.put(_FLUSH)
            self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._db is not None:
            self._db.close()
            self._db = None

    def _run(self) -> None:
        while True:
            item = self._next()
            try:
                if item in (_STOP, _FLUSH):
                    self._insert_held()
                    self._finish()
                else:
                    if item is not _DUE:
                        self._held.append(item)
                    self._act()
            except Exception as exc:  # never dies: what is handed over later is refused
                self._fail(exc)
            if item in (_STOP, _FLUSH):
                self._queue.task_done()
                if item == _STOP:
                    return

    def _next(self):
        """The next item handed over, or ``_DUE`` when the open transaction's oldest result
        is due, or held batches may be inserted."""
        now = time.monotonic()
        times = [self._open[0][2] + COMMIT_SECONDS] if self._open else []
        if self._held:
            times.append(self._free_until)
        try:
            return self._queue.get(timeout=max(0.0, min(times) - now) if times else None)
        except queue.Empty:
            return _DUE

    def _act(self) -> None:
        """Insert what is held once the lock may be taken; commit what is due."""
        now = time.monotonic()
        in_transaction = self._db is not None and self._db.in_transaction
        waited_on = any(callbacks for _, callbacks, _ in self._held)  # a caller waits
        if self._held and (in_transaction or now >= self._free_until or waited_on):
            self._insert_held()
        if self._open and (self._short or waited_on or self.failure is not None
                           or now >= self._open[0][2] + COMMIT_SECONDS):
            self._finish()

    def _insert_held(self) -> None:
        batches, self._held = self._held, []
        self._open.extend(batches)
        if self.failure is not None or not any(rows for rows, _, _ in batches):
            return
        if self._db is None:
            self._db = connect_again(self.path)
        if not self._db.in_transaction:
            began = time.monotonic()
            self._db.execute("BEGIN IMMEDIATE")  # waits for the lock, up to the busy timeout
            if time.monotonic() - began > CONTENDED_SECONDS:
                self._short = True
        for rows, _, _ in batches:
            insert_rows(self._db, rows)

    def _finish(self) -> None:
        """Commit the open transaction (roll it back after a failure), then call back and
        mark its batches done."""
        batches, self._open = self._open, []
        try:
            if self._db is not None and self._db.in_transaction:
                if self.failure is not None:
                    self._roll_back()
                else:
                    with self._hold_lookups():
                        self._db.execute("COMMIT")
                    self._free_until = time.monotonic() + FREE_SECONDS
                    if self._identity is None or _file_identity(self.path) != self._identity:
                        self.failure = (f"the store {self.path} was removed or replaced "
                                        "during the run")
            if self.failure is None:  # committed: now callers may rely on it
                for _, callbacks, _ in batches:
                    for callback in callbacks:
                        callback()
        finally:
            for _ in batches:
                self._queue.task_done()

    def _fail(self, exc: Exception) -> None:
        """Reported to the computing thread; what was not committed is rolled back, and
        every batch held or open is done (never committed)."""
        self.failure = (str(exc) if isinstance(exc, WflError) else
                        f"cannot write to the store {self.path}: {exc}{damage_advice(exc)}")
        self._open.extend(self._held)
        self._held = []
        try:
            self._finish()
        except Exception:  # noqa: BLE001 - already failed; the batches are done regardless
            pass

    def _roll_back(self) -> None:
        with contextlib.suppress(sqlite3.Error), self._hold_lookups():
            self._db.execute("ROLLBACK")


_INSERT = ("INSERT OR REPLACE INTO results (key, verb, kind, payload, size, created, checksum) "
           "VALUES ")
_COLUMNS = 7
_MAX_ROWS_PER_INSERT = 4096


def insert_rows(db: sqlite3.Connection, rows: list[tuple]) -> None:
    """Many rows a statement, as many as this SQLite takes: the interpreter lock is let go
    once per statement, not once per row; in key order, which takes a third less time
    than random order (nearby keys fall in the same pages of the table)."""
    rows = sorted(rows, key=_key)
    step = _rows_per_insert(db)
    for start in range(0, len(rows), step):
        part = rows[start:start + step]
        db.execute(_INSERT + ",".join(["(?,?,?,?,?,?,?)"] * len(part)),
                   [value for row in part for value in row])


def _key(row: tuple) -> bytes:
    return row[0]


def _rows_per_insert(db: sqlite3.Connection) -> int:
    """Rows whose parameters fit one statement: SQLite's limit is 999 before 3.32 (still
    the system's on older clusters), 32,766 since; Python 3.10 cannot ask."""
    try:
        limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:
        limit = 999
    return max(1, min(_MAX_ROWS_PER_INSERT, limit // _COLUMNS))


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (None: none)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
