"""The cache's writer: a thread that inserts results as they are handed over, in a write
transaction committed once its oldest result is ``COMMIT_SECONDS`` old.

Why both numbers. A commit takes about 17 ms here whatever its size (the journal's and the
file's fsync), and this process's lookups wait for it, so commits stay few: one every two
seconds cost a fast run under 1% (one every half second cost 2-atom LJ 3%), and what a
kill can lose is still only two seconds of computing, done again by the rerun. Inserting is
most of a transaction's time (10 us a row into a large table), and what is left to insert
when a run ends is what it waits for before it can exit; inserted as they come, that is a
moment's results, not two seconds' (0.1 s of a 2 s run of 20,000 configs, before).

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

_STOP, _FLUSH = "stop", "flush"


class WriteBehind:
    """Inserts and commits on a thread of its own, started at the first batch.
    ``hold_lookups`` is entered around each commit (it ends this process's read
    transaction and keeps lookups waiting: the commit takes the file lock they need)."""

    def __init__(self, path: Path, hold_lookups: Callable[[], contextlib.AbstractContextManager]):
        self.path = path
        self.failure: str | None = None  # why results are no longer written
        self._identity = _file_identity(path)  # the file opened, to notice its replacement
        self._hold_lookups = hold_lookups
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        self._open: list = []  # batches inserted and not committed: (rows, callbacks, oldest)

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
            due = None if not self._open else self._open[0][2] + COMMIT_SECONDS
            if due is not None and time.monotonic() >= due:  # even while batches keep coming
                self._finish()
                continue
            try:
                item = self._queue.get(timeout=None if due is None else due - time.monotonic())
            except queue.Empty:  # the oldest result is due
                continue
            if item in (_STOP, _FLUSH):
                self._finish()
                self._queue.task_done()
                if item == _STOP:
                    return
                continue
            self._insert(item)
            if item[1]:  # a caller waits on these
                self._finish()

    def _insert(self, batch: tuple) -> None:
        rows = batch[0]
        if self.failure is None and rows:
            try:
                if self._db is None:
                    self._db = connect_again(self.path)
                if not self._db.in_transaction:
                    self._db.execute("BEGIN IMMEDIATE")  # waits for the lock, never fails on it
                insert_rows(self._db, rows)
            except Exception as exc:
                self._fail(exc)
        self._open.append(batch)
        if self.failure is not None:
            self._finish()

    def _finish(self) -> None:
        """Commit the open transaction, then call back and mark its batches done."""
        batches, self._open = self._open, []
        try:
            if self.failure is None and self._db is not None and self._db.in_transaction:
                with self._hold_lookups():
                    self._db.execute("COMMIT")
                if self._identity is None or _file_identity(self.path) != self._identity:
                    self.failure = f"the store {self.path} was removed or replaced during the run"
            if self.failure is None:  # committed: now callers may rely on it
                for _, callbacks, _ in batches:
                    for callback in callbacks:
                        callback()
        except Exception as exc:
            self._fail(exc)
        finally:
            for _ in batches:
                self._queue.task_done()

    def _fail(self, exc: Exception) -> None:
        """Reported to the computing thread; what was not committed is rolled back."""
        self.failure = (str(exc) if isinstance(exc, WflError) else
                        f"cannot write to the store {self.path}: {exc}{damage_advice(exc)}")
        if self._db is not None and self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error), self._hold_lookups():
                self._db.execute("ROLLBACK")


_INSERT = ("INSERT OR REPLACE INTO results (key, verb, kind, payload, size, created, checksum) "
           "VALUES ")
_COLUMNS = 7
_MAX_ROWS_PER_INSERT = 4096


def insert_rows(db: sqlite3.Connection, rows: list[tuple]) -> None:
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


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (None: none)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
