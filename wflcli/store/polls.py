"""Queue answers shared by the wfl processes of one user on one machine, through the store:
eight ``make -j`` clients polling one cluster make about one client's queue queries.

A client about to query the queue first looks here for an answer to the same query (same
system, same argument list) that was asked after ``since`` (its poll interval ago, and no
earlier than its own latest submission, so its new jobs are in it). If another client is
asking right now, it waits for that answer a little; otherwise it claims the query, asks,
and leaves the answer for the others. The table holds only the latest answer per query and
nothing that must survive: it is made when first needed, not migrated.
"""

from __future__ import annotations

import sqlite3
import time

from wflcli.errors import WflError

CLAIM_SECONDS = 15.0  # a claim older than this is abandoned (its process died)

_TABLE = """CREATE TABLE IF NOT EXISTS polls (
    system TEXT NOT NULL, query TEXT NOT NULL, claimed REAL NOT NULL, asked REAL NOT NULL,
    code INTEGER NOT NULL, stdout TEXT NOT NULL, stderr TEXT NOT NULL,
    PRIMARY KEY (system, query))"""


class SharedPolls:
    def __init__(self, store):
        self.store = store  # a JobStore: its connection and its clear errors
        with store._writing():
            store.db.execute(_TABLE)

    def take(self, system: str, query: str, since: float):
        """(code, stdout, stderr) of an answer asked after ``since``; "wait" while another
        process is asking; None when this one has claimed the query and must ask."""
        now = time.time()
        with self.store._writing():
            row = self.store.db.execute(
                "SELECT claimed, asked, code, stdout, stderr FROM polls WHERE system = ? AND "
                "query = ?", (system, query)).fetchone()
            if row is not None and row[1] >= since:
                return row[2], row[3], row[4]
            if row is not None and row[0] > row[1] and now - row[0] < CLAIM_SECONDS:
                return "wait"
            self.store.db.execute(
                "INSERT INTO polls VALUES (?, ?, ?, 0, 0, '', '') ON CONFLICT (system, query) "
                "DO UPDATE SET claimed = excluded.claimed", (system, query, now))
        return None

    def keep(self, system: str, query: str, asked: float, code: int, stdout: str,
             stderr: str) -> None:
        with self.store._writing():
            self.store.db.execute(
                "UPDATE polls SET asked = ?, code = ?, stdout = ?, stderr = ? WHERE system = ? "
                "AND query = ?", (asked, code, stdout, stderr, system, query))


def shared_polls(store) -> SharedPolls | None:
    """The shared answers, or None (each process asks for itself) if the store refuses."""
    try:
        return SharedPolls(store)
    except (WflError, sqlite3.Error):
        return None
