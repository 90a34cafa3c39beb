"""What ``wfl remote`` does to recorded jobs: reconcile them with the scheduler, cancel,
clean up finished ones, read a task's files, and check a system end to end.

Every function takes the system, an open transport and the job store, and returns data;
printing is the command line's business.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from wflcli.exec.batch.layout import FOLDER_PREFIX, task_file
from wflcli.exec.schedulers import STUCK, get_scheduler
from wflcli.store.jobs import ACTIVE, CANCELLED, DONE, FAILED, RUNNING, JobRecord


async def sync_jobs(system, transport, store, records: list[JobRecord]) -> dict[int, str]:
    """Bring the recorded state of active tasks up to date: done when the status file is
    there, failed (with the scheduler's reason) when the task left the queue without one.
    Returns {record id: new state} for the records that changed."""
    scheduler = get_scheduler(system.scheduler)
    active = [r for r in records if r.state in ACTIVE]
    if not active:
        return {}
    done = await transport.run(scheduler.query_argv(sorted({r.job_id for r in active})))
    done.check()
    queue = scheduler.parse_query(done.stdout)
    changed = {}
    for folder in sorted({r.folder for r in active}):
        try:
            present = set(await transport.listdir(folder))
        except FileNotFoundError:
            present = set()
        for record in (r for r in active if r.folder == folder):
            state = queue.get((record.job_id, record.task)) or queue.get((record.job_id, 0))
            if task_file("status", record.task) in present:
                new, reason = DONE, ""
            elif state == STUCK:
                new, reason = FAILED, "stuck in the queue (error state)"
            elif state is not None:
                new, reason = (RUNNING if state == RUNNING else record.state), ""
            else:
                new, reason = FAILED, await explain(scheduler, transport, record)
            if new != record.state:
                store.set_state([record.id], new, reason)
                changed[record.id] = new
    return changed


async def explain(scheduler, transport, record: JobRecord) -> str:
    argv = scheduler.explain_argv(record.job_id, record.task)
    if argv is not None:
        done = await transport.run(argv)
        reason = scheduler.parse_explain(done.stdout) if done.code == 0 else ""
        if reason:
            return reason
    return ("left the queue without writing results (the scheduler gives no reason; SLURM "
            "keeps none for a task cancelled while pending)")


async def cancel_jobs(system, transport, store, records: list[JobRecord]) -> None:
    """Cancel active tasks with the scheduler and record them as cancelled."""
    active = [r for r in records if r.state in ACTIVE]
    if not active:
        return
    scheduler = get_scheduler(system.scheduler)
    done = await transport.run(scheduler.cancel_argv([(r.job_id, r.task) for r in active]))
    done.check()
    store.set_state([r.id for r in active], CANCELLED, "cancelled with wfl remote cancel")


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
        busy = any(r.folder == folder and r.state in ACTIVE for r in all_records)
        (removable if inside and not busy else kept).append(folder)
    return removable, kept


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
