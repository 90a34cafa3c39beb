"""What one poll sees of recorded tasks: one queue query for all of them (or another wfl
process's fresh answer to the same query), one listing per job folder, and, for a task
that has left the queue without its status file, the scheduler's verdict. The engine and
``wfl remote sync`` both look through here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import posixpath
import time
from dataclasses import dataclass

from wflcli.errors import WflError
from wflcli.exec.batch.classify import Decision, classify
from wflcli.exec.batch.layout import task_file
from wflcli.exec.schedulers import QueueState
from wflcli.exec.schedulers.verdict import Verdict
from wflcli.exec.transport import Completed

RESULT_FILES = ("out", "outcomes", "log", "status")  # what a finished task leaves
WAIT_SECONDS = 10.0  # for another process's answer to the same query, at most


@dataclass(frozen=True)
class Sighting:
    queue: QueueState
    status_present: bool
    missing: tuple[str, ...]  # result files not in the folder


@dataclass
class Poll:
    sightings: dict            # record id -> Sighting
    failure: str = ""          # the queue query's complaint, when it failed
    asked: bool = True         # False: another process's answer was used


@dataclass
class Sharing:
    """How this process shares queue answers with others (``store/polls.py``)."""

    polls: object          # SharedPolls
    system: str
    since: float = 0.0     # answers asked before this are too old for this poll
    reused: int = 0        # answers taken from another process


async def ask_queue(transport, argv: list[str], sharing: Sharing | None) -> tuple:
    """(Completed, asked here?) for the queue query: another process's fresh answer when
    there is one, else asked here and left for the others."""
    if sharing is None:
        return await transport.run(argv), True
    query = json.dumps(argv)
    for _ in range(int(WAIT_SECONDS / 0.2)):
        try:
            answer = sharing.polls.take(sharing.system, query, sharing.since)
        except WflError:  # a store locked for long: ask alone
            break
        if answer is None:
            asked = time.time()
            done = await transport.run(argv)
            with contextlib.suppress(WflError):
                sharing.polls.keep(sharing.system, query, asked, done.code, done.stdout,
                                   done.stderr)
            return done, True
        if answer != "wait":
            sharing.reused += 1
            return Completed(argv, *answer), False
        await asyncio.sleep(0.2)
    return await transport.run(argv), True


async def look(scheduler, transport, records, sharing: Sharing | None = None,
               results: tuple = RESULT_FILES) -> Poll:
    """What the queue and the job folders say of ``records``; ``results``: the kinds of
    file a finished task leaves (named when missing)."""
    done, asked = await ask_queue(
        transport, scheduler.query_argv(sorted({r.job_id for r in records})), sharing)
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
            tuple(task_file(kind, record.task) for kind in results
                  if task_file(kind, record.task) not in files))
    failure = "" if done.code == 0 else (f"exit {done.code}: "
                                         f"{last_line(done.stderr or done.stdout)}")
    return Poll(sightings, failure, asked)


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
    except OSError:  # no log (yet): the verdict as accounted
        return found
    return scheduler.refine(found, log.decode(errors="replace"))


async def decide(scheduler, transport, record, seen: Sighting,
                 missed: int) -> tuple[Decision, int, bool]:
    """What to do about a task after one poll, with ``missed`` (polls in a row it was
    absent, before this one): (decision, missed now, whether the scheduler was asked)."""
    if seen.queue is not QueueState.UNKNOWN:
        missed = missed + 1 if seen.queue is QueueState.ABSENT else 0
    found, asked = None, False
    if seen.queue is QueueState.ABSENT and not seen.status_present:
        found, asked = await verdict(scheduler, transport, record), True
    return classify(seen.queue, found, seen.status_present, missed, seen.missing), missed, asked


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
