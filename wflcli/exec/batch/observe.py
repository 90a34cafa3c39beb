"""What one poll sees of recorded tasks: one queue query for all of them, one listing per
job folder, and, for a task that has left the queue without its status file, the
scheduler's verdict. The engine and ``wfl remote sync`` both look through here."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from wflcli.exec.batch.layout import task_file
from wflcli.exec.schedulers import QueueState
from wflcli.exec.schedulers.verdict import Verdict

RESULT_FILES = ("out", "outcomes", "log", "status")  # what a finished task leaves


@dataclass(frozen=True)
class Sighting:
    queue: QueueState
    status_present: bool
    missing: tuple[str, ...]  # result files not in the folder


@dataclass
class Poll:
    sightings: dict            # record id -> Sighting
    failure: str = ""          # the queue query's complaint, when it failed


async def look(scheduler, transport, records) -> Poll:
    done = await transport.run(scheduler.query_argv(sorted({r.job_id for r in records})))
    queue = scheduler.parse_query(done.stdout) if done.code == 0 else None
    listings = {}
    for folder in sorted({r.folder for r in records}):
        try:
            listings[folder] = set(await transport.listdir(folder))
        except FileNotFoundError:
            listings[folder] = set()
    sightings = {}
    for record in records:
        files = listings[record.folder]
        if queue is None:
            state = QueueState.UNKNOWN
        else:
            state = (queue.get((record.job_id, record.task)) or queue.get((record.job_id, 0))
                     or QueueState.ABSENT)
        sightings[record.id] = Sighting(
            state, task_file("status", record.task) in files,
            tuple(task_file(kind, record.task) for kind in RESULT_FILES
                  if task_file(kind, record.task) not in files))
    failure = "" if done.code == 0 else (f"exit {done.code}: "
                                         f"{last_line(done.stderr or done.stdout)}")
    return Poll(sightings, failure)


async def verdict(scheduler, transport, record) -> Verdict | None:
    """The scheduler's verdict on an ended task, sharpened by its scheduler log."""
    argv = scheduler.explain_argv(record.job_id, record.task)
    if argv is None:
        return None
    done = await transport.run(argv)
    found = scheduler.parse_explain(done.stdout) if done.code == 0 else None
    name = scheduler.log_name(record.job_id, record.task)
    if found is None or name is None:
        return found
    try:
        log = await transport.get(posixpath.join(record.folder, name))
    except (FileNotFoundError, OSError):
        return found
    return scheduler.refine(found, log.decode(errors="replace"))


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
