"""The per-config result cache: bytes by key, written behind the computation.

Lookups are single indexed reads. New results are handed to a writer thread with its own
connection at most every half second (at once when results come slower than that), and it
commits each batch in one short transaction. So the computation never waits for a commit
and its fsync, commits stay few however fast results come, and a kill loses at most the
last half second of results. A chunk's results are never split between two commits, and a
caller that must know when they are safe (a batch task marked done) is called back then.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from wflcli.errors import WflError
from wflcli.store.db import connect, write_transaction

_STOP = None


HANDOFF_SECONDS = 0.5
_MAX_PENDING = 10000  # bounds memory when results come very fast


class CacheClosed(Exception):
    """A lookup after close: the input thread of a run that is being torn down."""


class ResultCache:
    def __init__(self, path: Path):
        self.path = path
        self.db = connect(path)
        # lookups come from the input thread; closing the connection under a running query
        # crashes the process (seen on SIGTERM), so the two never overlap
        self._lookup_lock = threading.Lock()
        self._pending: list[tuple] = []
        self._callbacks: list = []
        self._handed = 0.0
        self._queue: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._error: BaseException | None = None

    def get(self, key: bytes) -> tuple[str, bytes] | None:
        """(kind, payload) for the key, or None."""
        with self._lookup_lock:
            if self.db is None:
                raise CacheClosed()
            return self.db.execute("SELECT kind, payload FROM results WHERE key = ?",
                                   (key,)).fetchone()

    def put(self, rows: list[tuple[bytes, str, str, bytes]], then=None) -> None:
        """Keep one chunk's results, (key, verb, kind, payload) each: committed together,
        then ``then()`` is called (on the writer's thread)."""
        now = time.time()
        self._pending.extend((key, verb, kind, payload, len(payload), now)
                             for key, verb, kind, payload in rows)
        if then is not None:
            self._callbacks.append(then)
        if (then is not None or time.monotonic() - self._handed >= HANDOFF_SECONDS
                or len(self._pending) >= _MAX_PENDING):
            self._hand_off()

    def _hand_off(self) -> None:
        self._raise_writer_error()
        self._handed = time.monotonic()
        if not self._pending and not self._callbacks:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_behind, daemon=True,
                                            name="wfl-cache-writer")
            self._writer.start()
        self._queue.put((self._pending, self._callbacks))
        self._pending, self._callbacks = [], []

    def flush(self) -> None:
        """Wait until every result put so far is committed."""
        self._hand_off()
        if self._writer is not None:
            self._queue.join()
        self._raise_writer_error()

    def close(self) -> None:
        self._hand_off()
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join()
            self._writer = None
        with self._lookup_lock:
            self.db.close()
            self.db = None
        self._raise_writer_error()

    def _write_behind(self) -> None:
        db = connect(self.path)
        try:
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
                    if rows and self._error is None:
                        with write_transaction(db):
                            db.executemany("INSERT OR REPLACE INTO results "
                                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
                    if self._error is None:
                        for _, callbacks in handed:
                            for callback in callbacks:
                                callback()
                except Exception as exc:  # reported to the computing thread
                    self._error = exc
                finally:
                    for _ in batches:
                        self._queue.task_done()
                if stop:
                    return
        finally:
            db.close()

    def _raise_writer_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise WflError(f"cannot write results to the store {self.path}: {error}")

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


def open_result_cache() -> ResultCache:
    """The cache in the user's store (``$WFLCLI_HOME`` or ``~/.wflcli``)."""
    from wflcli.store.home import store_home

    return ResultCache(store_home() / "store.sqlite")
