"""Lookups inside a read transaction held for a moment, not one file lock per lookup.

With a rollback journal every statement outside a transaction takes and drops SQLite's
shared file lock and reads the file's change counter: about three quarters of a lookup
(measured: 10 us a lookup alone, 2.6 us inside a transaction). A lookup opens a read
transaction, and the next lookups use it; it ends after ``SECONDS`` (at the first lookup
after that, or on a thread that watches it when no lookup comes), and before this
process's writer commits. Another process that wants to commit waits at most that long
for it (it takes no other lock), and results committed meanwhile elsewhere are seen when
it ends: until then they are misses, computed again, never wrong.
"""

from __future__ import annotations

import sqlite3
import threading
import time

SECONDS = 0.05


class ReadLease:
    """The read transaction on ``db``; every method is called holding ``lock``, the lock
    that the connection's users take in turn."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock):
        self._db = db
        self._changed = threading.Condition(lock)
        self._since: float | None = None  # when the open transaction began
        self._watcher: threading.Thread | None = None
        self._closed = False

    def begin(self) -> None:
        """Before a lookup: a read transaction, open already or new."""
        if self._since is not None:
            return
        self._db.execute("BEGIN")
        self._since = time.monotonic()
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True,
                                             name="wfl-cache-lease")
            self._watcher.start()
        self._changed.notify()

    def after(self) -> None:
        """After a lookup: the transaction ends if it has been open long enough."""
        if self._since is not None and time.monotonic() - self._since >= SECONDS:
            self.end()

    def end(self) -> None:
        """The transaction ends now (before a commit of this process, on an error)."""
        if self._since is None:
            return
        self._since = None
        if self._db.in_transaction:
            self._db.execute("COMMIT")  # a read transaction: nothing to write

    def close(self) -> None:
        """End the transaction and the watching thread (before the connection closes)."""
        self.end()
        self._closed = True
        self._changed.notify()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            self._changed.release()  # the watcher needs the lock to see that it must stop
            try:
                watcher.join()
            finally:
                self._changed.acquire()

    def _watch(self) -> None:
        with self._changed:
            while not self._closed:
                if self._since is None:
                    self._changed.wait()
                    continue
                left = self._since + SECONDS - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                try:
                    self.end()
                except sqlite3.Error:  # the lookups report what is wrong with the store
                    self._since = None
