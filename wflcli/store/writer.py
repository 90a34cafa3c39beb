"""The cache's writer: a thread that inserts and commits the results handed over to it.

Each batch (every result of ``HANDOFF_SECONDS``, see ``cache.py``, or one chunk a caller
waits on) is one short transaction: inserted and committed at once, so the file's write
lock is held only for that moment and the other wfl processes that share the store (the
stages of a pipeline) write in between. Holding it open to insert results as they came
and commit every two seconds took 0.1 s off a 20,000-config run's end, and made a
four-stage pipeline 1.3x slower (16.0 s to 20.4 s: its stages waited for each other's
lock).

Rows arrive made (payload, size, checksum: see ``cache.py``), so this thread holds the
interpreter lock only to bind a statement's values: a statement inserts as many rows as
SQLite takes. Callbacks are called once their batch is committed; never when it cannot be.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from wflcli.errors import WflError
from wflcli.store.db import connect_again, damage_advice

_STOP, _FLUSH = "stop", "flush"


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

    def hand(self, rows: list[tuple], callbacks: list) -> None:
        """Rows ready to insert, committed together, then ``callbacks`` are called."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="wfl-cache-writer")
            self._thread.start()
        self._queue.put((rows, callbacks))

    def flush(self) -> None:
        """Wait until what was handed over is committed (or known not to be)."""
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
            items = [self._queue.get()]
            while True:  # everything that has arrived meanwhile goes in the same commit
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batches = [item for item in items if item not in (_STOP, _FLUSH)]
            try:
                self._commit(batches)
            except Exception as exc:  # never dies: what is handed over later is refused
                self._fail(exc)
            finally:
                for _ in items:
                    self._queue.task_done()
            if _STOP in items:
                return

    def _commit(self, batches: list[tuple]) -> None:
        rows = [row for batch, _ in batches for row in batch]
        if self.failure is not None:
            return
        if rows:
            if self._db is None:
                self._db = connect_again(self.path)
            self._db.execute("BEGIN IMMEDIATE")  # waits for the lock, up to the busy timeout
            insert_rows(self._db, rows)
            with self._hold_lookups():
                self._db.execute("COMMIT")
            if self._identity is None or _file_identity(self.path) != self._identity:
                self.failure = f"the store {self.path} was removed or replaced during the run"
                return
        for _, callbacks in batches:  # committed: now callers may rely on it
            for callback in callbacks:
                callback()

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
