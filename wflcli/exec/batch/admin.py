"""What ``wfl remote`` does to recorded jobs: reconcile them with the scheduler, cancel,
clean up finished ones, read a task's files, and check a system end to end.

Every function takes the system, an open transport and the job store, and returns data;
printing is the command line's business.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
from dataclasses import dataclass, field

from wflcli.exec.batch.classify import MISSED_POLLS, Action, classify
from wflcli.exec.batch.layout import FOLDER_PREFIX, task_file
from wflcli.exec.batch.observe import look, verdict
from wflcli.exec.batch.staging import staged_in_use, unused_staged
from wflcli.exec.outcomes_file import not_started
from wflcli.exec.schedulers import QueueState, get_scheduler
from wflcli.exec.transport import TransportError
from wflcli.store.jobs import JobRecord, TaskState


async def sync_jobs(system, transport, store, records: list[JobRecord],
                    pause: float = 1.0) -> dict[int, TaskState]:
    """Bring the recorded state of active tasks up to date with the classifier the run
    loop uses: a task missing from the queue without a verdict is looked at again (up to
    MISSED_POLLS polls, ``pause`` seconds apart) before it is called lost.
    Returns {record id: new state} for the records that changed."""
    scheduler = get_scheduler(system.scheduler)
    pending = [r for r in records if r.active]
    changed: dict[int, TaskState] = {}
    for missed in range(1, MISSED_POLLS + 1):
        if not pending:
            break
        if missed > 1:
            await asyncio.sleep(pause)
        poll = await look(scheduler, transport, pending)
        if poll.failure:
            raise TransportError(f"{system.name}: the queue query failed ({poll.failure})")
        undecided = []
        for record in pending:
            seen = poll.sightings[record.id]
            found = None
            if seen.queue is QueueState.ABSENT and not seen.status_present:
                found = await verdict(scheduler, transport, record)
            decision = classify(seen.queue, found, seen.status_present, missed, seen.missing)
            new, reason = decision.state, decision.reason
            if decision.action is Action.COLLECT:
                new, reason = await _finished(transport, record)
            elif decision.action is Action.WAIT and seen.queue is QueueState.ABSENT:
                undecided.append(record)
            if new is not None and new is not record.state:
                store.set_state([record.id], new, reason)
                changed[record.id] = new
        pending = undecided
    return changed


async def _finished(transport, record: JobRecord) -> tuple[TaskState, str]:
    """A task whose status file is there: done (or drained) if wfl ended well."""
    try:
        status = json.loads(await transport.get(posixpath.join(
            record.folder, task_file("status", record.task))))
        code = int(status["exit"])
    except (FileNotFoundError, ValueError, KeyError, TypeError) as exc:
        return TaskState.FAILED, f"its status file is unreadable ({exc})"
    if code not in (0, 3):
        return TaskState.FAILED, f"wfl ended with exit code {code}"
    if status.get("whole"):  # a whole-input job (whole.py): its files are its results
        return TaskState.DONE, ""
    try:
        left = not_started(await transport.get(posixpath.join(
            record.folder, task_file("outcomes", record.task))))
    except FileNotFoundError:
        return TaskState.FAILED, f"{task_file('outcomes', record.task)} is missing"
    if left:
        return TaskState.DRAINED, (f"stopped in time: {record.configs - left} of "
                                   f"{record.configs} configs done; a rerun sends the rest")
    return TaskState.DONE, ""


async def cancel_jobs(system, transport, store, records: list[JobRecord]) -> None:
    """Cancel active tasks with the scheduler and record them as cancelled."""
    active = [r for r in records if r.active]
    if not active:
        return
    scheduler = get_scheduler(system.scheduler)
    done = await transport.run(scheduler.cancel_argv([(r.job_id, r.task) for r in active]))
    done.check()
    store.set_state([r.id for r in active], TaskState.CANCELLED,
                    "cancelled with wfl remote cancel")


def removable_folders(system, rundir: str, records: list[JobRecord],
                      all_records: list[JobRecord]) -> tuple[list[str], list[str]]:
    """Job folders whose every task is finished, and those kept because a task is not.

    Only folders wflcli made inside the system's rundir qualify: nothing else is touched.
    """
    folders = sorted({r.folder for r in records})
    removable, kept = [], []
    for folder in folders:
        inside = (posixpath.dirname(folder.rstrip("/")) == rundir.rstrip("/")
                  and posixpath.basename(folder).startswith(FOLDER_PREFIX))
        busy = any(r.folder == folder and r.active for r in all_records)
        (removable if inside and not busy else kept).append(folder)
    return removable, kept


@dataclass
class CleanPlan:
    """What ``wfl remote clean`` removes on one system, and what it keeps and why."""

    system: object
    records: list            # task records to forget
    folders: list            # job folders to remove
    kept: list               # job folders kept: a task is not finished, or outside rundir
    links: list              # job folders that are symbolic links: never followed
    staged: list = field(default_factory=list)  # staged copies no unfinished job uses


async def plan_clean(system, transport, records: list[JobRecord],
                     all_records: list[JobRecord], staged: bool = False) -> CleanPlan:
    """The plan for these finished records (``all_records``: every record of the system,
    to see which folders are busy); ``staged``: also the staged inputs nothing unfinished
    links to."""
    base = await transport.absolute(system.rundir)
    folders, kept = removable_folders(system, base, records, all_records)
    links = [folder for folder in folders if await transport.islink(folder)]
    plan = CleanPlan(system, [r for r in records if r.folder not in links],
                     [f for f in folders if f not in links], kept, links)
    if staged:
        busy = sorted({r.folder for r in all_records if r.active})
        plan.staged = await unused_staged(transport, base,
                                          await staged_in_use(transport, busy))
    return plan


async def carry_out(transport, plan: CleanPlan) -> None:
    """Remove the plan's job folders and staged copies (already gone: fine)."""
    for folder in (*plan.folders, *plan.staged):
        try:
            await transport.rmtree(folder)
        except FileNotFoundError:
            pass


async def read_task_file(transport, record: JobRecord, name: str) -> str | None:
    try:
        data = await transport.get(posixpath.join(record.folder, name))
    except FileNotFoundError:
        return None
    return data.decode(errors="replace")


@dataclass
class Check:
    what: str
    ok: bool
    detail: str


async def doctor(system, transport, local_version: str) -> list[Check]:
    """Connect, find the scheduler's commands, run ``wfl --version --json`` as a job would,
    and compare versions. Stops at the first check a later one depends on."""
    checks: list[Check] = []
    try:
        rundir = await transport.absolute(system.rundir)
        await transport.makedirs(rundir)
        await transport.listdir(rundir)
    except Exception as exc:  # the check reports whatever went wrong, in the user's words
        checks.append(Check("connect and use rundir", False, str(exc)))
        return checks
    checks.append(Check("connect and use rundir", True, f"{transport.label}: {rundir}"))
    scheduler = get_scheduler(system.scheduler)
    needed = sorted({argv[0] for argv in (scheduler.submit_argv("job.sh", 1),
                                          scheduler.query_argv(["1"]),
                                          scheduler.cancel_argv([("1", 1)]))})
    found = await transport.run(["sh", "-c", 'for c in "$@"; do command -v "$c" || '
                                 'echo "missing: $c"; done', "find", *needed],
                                prelude=system.commands)
    missing = [line.split(": ", 1)[1] for line in found.stdout.splitlines()
               if line.startswith("missing: ")]
    checks.append(Check(f"{system.scheduler} commands ({', '.join(needed)})", not missing,
                        f"not found: {', '.join(missing)}" if missing else "all found"))
    done = await transport.run([*system.wfl_command, "--version", "--json"], cwd=rundir,
                               prelude=system.commands)
    try:
        versions = json.loads(done.stdout) if done.code == 0 else None
    except json.JSONDecodeError:
        versions = None
    if not versions:
        detail = (done.stderr or done.stdout).strip().splitlines()
        checks.append(Check(f"run {system.wfl}", False, f"exit {done.code}: "
                            + (detail[-1] if detail else "no output")))
        return checks
    remote_version = versions.get("wflcli", "?")
    checks.append(Check(f"run {system.wfl}", True, f"wflcli {remote_version}, ASE "
                        f"{versions.get('packages', {}).get('ase', '?')}, Python "
                        f"{versions.get('python', '?')}"))
    checks.append(Check("same wflcli version", remote_version == local_version,
                        f"here {local_version}, there {remote_version}"))
    return checks
