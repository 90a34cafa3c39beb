"""The per-config result cache: bytes by key, written in batches.

Lookups are single indexed reads; new results are buffered and written in one short
transaction per batch (a chunk's worth, or every second), so the hot path never pays a
transaction per config and a kill loses at most the last batch.
"""

from __future__ import annotations

import time
from pathlib import Path

from wflcli.store.db import connect, write_transaction

FLUSH_SECONDS = 1.0


class ResultCache:
    def __init__(self, path: Path, batch: int = 10):
        self.db = connect(path)
        self.batch = max(1, batch)
        self._pending: list[tuple] = []
        self._last_flush = time.monotonic()

    def get(self, key: bytes) -> tuple[str, bytes] | None:
        """(kind, payload) for the key, or None."""
        row = self.db.execute("SELECT kind, payload FROM results WHERE key = ?",
                              (key,)).fetchone()
        return row

    def put(self, key: bytes, verb: str, kind: str, payload: bytes) -> None:
        self._pending.append((key, verb, kind, payload, len(payload), time.time()))
        if (len(self._pending) >= self.batch
                or time.monotonic() - self._last_flush >= FLUSH_SECONDS):
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with write_transaction(self.db):
                self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                                    self._pending)
            self._pending = []
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()
        self.db.close()

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


def open_result_cache(batch: int = 10) -> ResultCache:
    """The cache in the user's store (``$WFLCLI_HOME`` or ``~/.wflcli``)."""
    from wflcli.store.home import store_home

    return ResultCache(store_home() / "store.sqlite", batch)
