"""Batch jobs in the store: one row per array task (one chunk of configs), written at
submission, so a rerun re-attaches to work already queued or done instead of repeating it.
"""

from __future__ import annotations

import contextlib
import enum
import json
import sqlite3
import time
from dataclasses import dataclass, fields
from pathlib import Path

from wflcli.store.db import connect, store_error, write_transaction


class TaskState(str, enum.Enum):
    """Where a recorded array task stands: the one list of states, written to the store as
    its value, shown by ``wfl remote``, decided by ``exec/batch/classify.py``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"            # results fetched and committed
    DRAINED = "drained"      # stopped in time before its walltime: finished part fetched
    FAILED = "failed"
    CANCELLED = "cancelled"  # with wfl remote cancel

    def __str__(self) -> str:
        return self.value

    @property
    def active(self) -> bool:
        return self in ACTIVE

    @property
    def collectable(self) -> bool:
        """Its results are in its folder: a rerun of the same chunk reads them."""
        return self in (TaskState.DONE, TaskState.DRAINED)


ACTIVE = (TaskState.QUEUED, TaskState.RUNNING)
ENDED = tuple(state for state in TaskState if state not in ACTIVE)


@dataclass
class JobRecord:
    id: int
    system: str
    scheduler: str
    job_id: str
    task: int
    state: TaskState
    verb: str
    command: str      # JSON argument list run on the far side
    chunk_hash: str
    configs: int
    folder: str       # the job's folder on the system
    attempt: int
    reason: str
    submitted: float
    updated: float

    def __post_init__(self):
        self.state = TaskState(self.state)

    @property
    def active(self) -> bool:
        return self.state.active

    def as_json(self) -> dict:
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["command"] = json.loads(self.command)
        record["state"] = self.state.value
        return record


_COLUMNS = ", ".join(f.name for f in fields(JobRecord))


class JobStore:
    def __init__(self, path: Path):
        self.path = path
        self.db: sqlite3.Connection = connect(path)

    @contextlib.contextmanager
    def _writing(self):
        """A write transaction whose failure (a lock held too long) is a clear error."""
        try:
            with write_transaction(self.db):
                yield
        except sqlite3.OperationalError as exc:
            raise store_error(self.path, exc) from None

    def close(self) -> None:
        self.db.close()

    def _select(self, where: str = "1", params: tuple = ()) -> list[JobRecord]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {where} ORDER BY id",
                               params).fetchall()
        return [JobRecord(*row) for row in rows]

    def add(self, rows: list[dict]) -> list[int]:
        """Record submitted tasks (dicts of the columns but id and times); their ids."""
        now = time.time()
        with self._writing():
            return [self.db.execute(
                "INSERT INTO jobs (system, scheduler, job_id, task, state, verb, command, "
                "chunk_hash, configs, folder, attempt, reason, submitted, updated) VALUES "
                "(:system, :scheduler, :job_id, :task, :state, :verb, :command, :chunk_hash, "
                ":configs, :folder, :attempt, '', :now, :now)",
                {**row, "state": TaskState(row["state"]).value, "now": now}).lastrowid
                for row in rows]

    def set_state(self, ids: list[int], state: TaskState, reason: str = "") -> None:
        with self._writing():
            self.db.executemany("UPDATE jobs SET state = ?, reason = ?, updated = ? "
                                "WHERE id = ?", [(state.value, reason, time.time(), i)
                                                 for i in ids])

    def reusable(self, system: str, chunk_hash: str) -> JobRecord | None:
        """The latest task for this chunk that is queued, running, done or drained."""
        usable = [s.value for s in TaskState if s.active or s.collectable]
        found = self._select(f"system = ? AND chunk_hash = ? AND state IN "
                             f"({', '.join('?' * len(usable))})", (system, chunk_hash, *usable))
        return found[-1] if found else None

    def attempts(self, system: str, chunk_hash: str) -> int:
        return self.db.execute("SELECT count(*) FROM jobs WHERE system = ? AND chunk_hash = ?",
                               (system, chunk_hash)).fetchone()[0]

    def get(self, job: int) -> JobRecord | None:
        found = self._select("id = ?", (job,))
        return found[0] if found else None

    def select(self, system: str | None = None, states: tuple = (),
               since: float | None = None) -> list[JobRecord]:
        where, params = ["1"], []
        if system:
            where.append("system = ?")
            params.append(system)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(TaskState(state).value for state in states)
        if since is not None:
            where.append("submitted >= ?")
            params.append(since)
        return self._select(" AND ".join(where), tuple(params))

    def remove(self, ids: list[int]) -> None:
        with self._writing():
            self.db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])


def open_job_store() -> JobStore:
    from wflcli.store.home import store_home

    return JobStore(store_home() / "store.sqlite")
