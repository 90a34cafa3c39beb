"""Submitting one job: a new job folder with its files and ``job.sh``, the scheduler's
submit command, and one store record per array task, written at once so that Ctrl-C
after this point leaves a job that a rerun re-attaches to (never one nobody knows of)."""

from __future__ import annotations

import json
import posixpath
import time
from dataclasses import dataclass

from wflcli.errors import WflError
from wflcli.exec.batch.layout import job_folder
from wflcli.exec.batch.spec import BatchSpec, RemoteRunError
from wflcli.exec.schedulers import JobRequest
from wflcli.store.jobs import JobRecord, TaskState


@dataclass
class Submitted:
    job_id: str
    folder: str
    records: list[JobRecord]     # one per array task, numbered from 1
    at: float                    # when: queue answers from before it miss this job


async def submit_job(system, scheduler, transport, store, spec: BatchSpec, rundir: str,
                     body: list[str], files: dict[str, bytes], rows: list[dict],
                     folders: tuple = (), prepare=None) -> Submitted:
    """Put ``files`` (paths in the job folder) and empty ``folders`` there (and let
    ``prepare(folder)`` add to it), submit one array task per row (its ``chunk_hash``,
    ``configs`` and ``attempt``) and record them."""
    folder = job_folder(rundir)
    request = JobRequest(spec.job_name, len(rows), folder, body, spec.resources,
                         system.header, system.job_setup, spec.drain_margin)
    wanted = {""} | set(folders) | {posixpath.dirname(path) for path in files}
    try:
        for sub in sorted(wanted):
            await transport.makedirs(posixpath.join(folder, sub) if sub else folder)
        if prepare is not None:
            await prepare(folder)
        for path, data in files.items():
            await transport.put(data, posixpath.join(folder, path))
        await transport.put(scheduler.script(request).encode(),
                            posixpath.join(folder, "job.sh"))
    except OSError as exc:
        raise RemoteRunError(f"{system.name}: cannot make the job folder {folder}: "
                             f"{exc.strerror or exc}") from None
    done = await transport.run(scheduler.submit_argv("job.sh", len(rows)), cwd=folder)
    if done.code != 0:
        raise RemoteRunError(f"{system.name}: submitting failed (exit {done.code}): "
                             f"{brief(done.stderr or done.stdout)}")
    try:
        job_id = scheduler.parse_submit(done.stdout)
    except ValueError as exc:
        raise RemoteRunError(f"{system.name}: {exc}") from None
    at = time.time()
    try:
        ids = store.add([
            {"system": system.name, "scheduler": scheduler.name, "job_id": job_id,
             "task": number, "state": TaskState.QUEUED, "verb": spec.verb,
             "command": json.dumps(spec.command), "folder": folder, **row}
            for number, row in enumerate(rows, 1)])
    except WflError as exc:  # a job nobody knows of would run again on the next run
        await transport.run(scheduler.cancel_argv(
            [(job_id, number) for number in range(1, len(rows) + 1)]))
        raise WflError(f"{exc}; cancelled job {job_id} on {system.name}, which it "
                       "could not record") from None
    return Submitted(job_id, folder, [store.get(record_id) for record_id in ids], at)


def brief(text: str) -> str:
    """A command's complaint on one line: sbatch says what was wrong first, then a hint."""
    return " / ".join(line.strip() for line in text.strip().splitlines()
                      if line.strip())[:300]
