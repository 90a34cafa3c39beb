"""The SQLite file: opened for many concurrent wfl processes, and migrated in code.

Rollback journal, not WAL (home folders on clusters are often network file systems, where
WAL is unsafe); a long busy timeout; every write in a short ``BEGIN IMMEDIATE``
transaction, which waits for the lock instead of failing with "database is locked".
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from wflcli.errors import WflError

BUSY_TIMEOUT_SECONDS = 60.0  # WFLCLI_BUSY_TIMEOUT overrides (slow network file systems)

# Migration N brings the schema from version N to N+1; never edit one that has shipped.
MIGRATIONS = [
    """
    CREATE TABLE results (
        key      BLOB PRIMARY KEY,
        verb     TEXT NOT NULL,
        kind     TEXT NOT NULL,
        payload  BLOB NOT NULL,
        size     INTEGER NOT NULL,
        created  REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX results_by_verb ON results (verb, created);
    """,
    """
    CREATE TABLE jobs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        system     TEXT NOT NULL,
        scheduler  TEXT NOT NULL,
        job_id     TEXT NOT NULL,
        task       INTEGER NOT NULL,
        state      TEXT NOT NULL,
        verb       TEXT NOT NULL,
        command    TEXT NOT NULL,
        chunk_hash TEXT NOT NULL,
        configs    INTEGER NOT NULL,
        folder     TEXT NOT NULL,
        attempt    INTEGER NOT NULL,
        reason     TEXT NOT NULL DEFAULT '',
        submitted  REAL NOT NULL,
        updated    REAL NOT NULL
    );
    CREATE INDEX jobs_by_chunk ON jobs (system, chunk_hash);
    CREATE INDEX jobs_by_state ON jobs (state, system);
    """,
]


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating, owner-only) and migrate the store database."""
    new = not path.exists()
    try:
        if new:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(path, timeout=busy_timeout(), isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=NORMAL")
        _migrate(db)
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from None
    except OSError as exc:
        raise WflError(f"cannot open the store {path}: {exc.strerror}") from None
    return db


def busy_timeout() -> float:
    """How long to wait for another process's lock on the store before giving up."""
    text = os.environ.get("WFLCLI_BUSY_TIMEOUT", "")
    try:
        return float(text) if text else BUSY_TIMEOUT_SECONDS
    except ValueError:
        raise WflError(f"WFLCLI_BUSY_TIMEOUT={text!r} is not a number of seconds") from None


def store_error(path: Path, exc: Exception) -> WflError:
    """A clear message for an SQLite error met while using the store."""
    if "locked" in str(exc):
        return WflError(f"the store {path} stayed locked by another process for more than "
                        f"{busy_timeout():g} s (WFLCLI_BUSY_TIMEOUT); try again")
    return WflError(f"the store {path} cannot be used ({exc}); move it away to start a new "
                    "one")


@contextlib.contextmanager
def write_transaction(db: sqlite3.Connection):
    """A short write transaction that takes the lock up front (waiting, not failing)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _migrate(db: sqlite3.Connection) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(f"schema version {version} is newer than this wflcli "
                                    f"knows ({len(MIGRATIONS)}); upgrade wflcli")
    if version == len(MIGRATIONS):
        return
    with write_transaction(db):
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may
        for number in range(version, len(MIGRATIONS)):               # have migrated it
            for statement in filter(str.strip, MIGRATIONS[number].split(";")):
                db.execute(statement)
        db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
