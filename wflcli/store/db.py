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
    # a checksum per entry, checked on every read; entries from before it cannot be checked
    # (and calc's were keyed on too little), so they go
    """
    ALTER TABLE results ADD COLUMN checksum BLOB NOT NULL DEFAULT x'';
    DELETE FROM results;
    """,
]


class StoreUnavailable(WflError):
    """The store cannot be opened or written here (no permission, a read-only or full disk,
    something else in its place): a run goes on without the cache. A store that opens but
    is not one wflcli can use (damaged, foreign, locked) is an error instead: the user
    must act, and nothing may be written into it."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating, owner-only) and migrate the store database."""
    new = not path.exists()
    db = None
    try:
        if new:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        db = sqlite3.connect(path, timeout=busy_timeout(), isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=NORMAL")
        _migrate(db, path)
    except BaseException as exc:
        if db is not None:
            db.close()
        raise _opening_error(path, exc) from None
    return db


def connect_again(path: Path) -> sqlite3.Connection:
    """A second connection to a store ``connect`` opened (for a writer thread): never a
    new file where it was removed meanwhile, and a page cache that is never spilled into
    the file before the commit (a spill takes the file lock that readers need, early)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=busy_timeout(),
                         isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    db.execute("PRAGMA cache_spill=OFF")
    return db


WRITER_CACHE_KIB = 32768


def _opening_error(path: Path, exc: BaseException) -> BaseException:
    if isinstance(exc, sqlite3.DatabaseError):
        if unavailable(exc):
            return StoreUnavailable(f"cannot open the store {path}: {exc}")
        return store_error(path, exc)
    if isinstance(exc, OSError):
        return StoreUnavailable(f"cannot open the store {path}: {exc.strerror}")
    return exc


# SQLite's primary result codes (CANTOPEN, READONLY, FULL, IOERR, PERM) and their messages,
# for Pythons without ``sqlite_errorcode``
_UNAVAILABLE = {14: "unable to open", 8: "readonly", 13: "disk is full", 10: "disk I/O error",
                3: "access permission denied"}


def unavailable(exc: sqlite3.Error) -> bool:
    """Whether an SQLite error says the file cannot be reached or written (rather than that
    it is damaged or locked)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in _UNAVAILABLE
    return any(words in str(exc) for words in _UNAVAILABLE.values())


def damage_advice(exc: Exception) -> str:
    """What to do about a store SQLite finds damaged (nothing: one it cannot reach)."""
    if isinstance(exc, sqlite3.DatabaseError) and not unavailable(exc):
        return "; move it away to start a new one"
    return ""


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
def write_transaction(db: sqlite3.Connection, finish=contextlib.nullcontext()):
    """A short write transaction that takes the lock up front (waiting, not failing);
    it ends inside ``finish`` (a lock that keeps this process's readers off meanwhile)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:  # SQLite rolls back by itself on some errors (a full disk)
            with finish:
                db.execute("ROLLBACK")
        raise
    with finish:
        db.execute("COMMIT")


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    if _known_version(db, path) == len(MIGRATIONS):
        return
    with write_transaction(db):
        version = _known_version(db, path)  # another process may have migrated it meanwhile
        if version == 0:
            _check_empty(db, path)
        for number in range(version, len(MIGRATIONS)):
            for statement in filter(str.strip, MIGRATIONS[number].split(";")):
                db.execute(statement)
        db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")


def _known_version(db: sqlite3.Connection, path: Path) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise WflError(f"the store {path} has schema version {version}, newer than this "
                       f"wflcli knows ({len(MIGRATIONS)}); upgrade wflcli")
    if version < 0:
        raise WflError(f"the store {path} has schema version {version}, which no wflcli "
                       "writes; move it away to start a new one")
    return version


def _check_empty(db: sqlite3.Connection, path: Path) -> None:
    """Version 0 is a new, empty file; one that holds tables is someone else's database."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master "
                                           "WHERE type = 'table' ORDER BY name")]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise WflError(f"{path} is not a wflcli store (it is another program's SQLite "
                       f"database, with tables {shown}); move it away, or point "
                       "WFLCLI_HOME elsewhere")
