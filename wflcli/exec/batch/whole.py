"""A whole-input verb (a fit, a selection, a split) as one batch job: its input files go
into the job folder, the verb runs there once with the same arguments (job-folder paths in
place of the local ones), and every file it wrote into its output folders comes back.

Like an array task, the job is recorded at submission under a hash of the system, the
command and the inputs' content, so that a rerun after Ctrl-C re-attaches to it instead
of submitting again, and a rerun after it finished fetches its files again while its
folder is there. ``wfl remote ls/show/cancel/clean`` see it as a job of one array task.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import shlex
from dataclasses import dataclass, field

from wflcli.errors import WflError
from wflcli.exec.batch.classify import Action
from wflcli.exec.batch.layout import task_file
from wflcli.exec.batch.observe import decide, last_line, look
from wflcli.exec.batch.results import read_log, read_status
from wflcli.exec.batch.spec import BatchSpec, Counters
from wflcli.exec.batch.submit import submit_job
from wflcli.exec.schedulers import get_scheduler
from wflcli.store.jobs import JobRecord, TaskState

RESULTS = ("stdout", "log", "files", "status")  # what the finished job leaves beside its outputs
OUT = "out"                  # the job folder's folder of output folders
FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 30.0


@dataclass
class WholeJob:
    spec: BatchSpec              # its command names files by their job-folder paths
    inputs: dict = field(default_factory=dict)  # job-folder path -> content
    outputs: tuple = ()          # job-folder folders whose files come back
    configs: int = 0             # shown by wfl remote ls (0: not counted)


@dataclass
class WholeResult:
    exit: int                    # the verb's exit code there
    stdout: bytes
    log: str                     # its stderr
    files: dict                  # output folder -> {file name: content}
    record: JobRecord


def whole_body(wfl: list[str], command: list[str]) -> list[str]:
    """The job's shell lines: the verb, its stdout and stderr kept, then the status file
    (written last and atomically, so its presence says that everything else is there)."""
    stdout, log, listing, status = (f'"{task_file(kind, "$TASK")}"' for kind in RESULTS)
    return [f"{shlex.join(wfl)} {shlex.join(command)} > {stdout} 2> {log}",
            "code=$?",
            (f"find {OUT} -mindepth 2 -maxdepth 2 -type f ! -name '*.part' -print0 "
             f"> {listing} 2>/dev/null"),
            (f"printf '{{\"task\": %s, \"exit\": %s, \"whole\": true}}\\n' \"$TASK\" "
             f"\"$code\" > {status}.part"),
            f"mv -f {status}.part {status}",
            'case $code in 0|3) exit 0;; *) exit "$code";; esac']


def job_hash(system: str, job: WholeJob) -> str:
    """Same system, same command, same input contents: same job."""
    digest = hashlib.sha256()
    parts = [system, json.dumps(job.spec.command), json.dumps(list(job.outputs))]
    for path in sorted(job.inputs):
        parts += [path, job.inputs[path]]
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class WholeRunner:
    """Submit (or re-attach to) the job, watch it, resubmit it when the scheduler lost it
    (up to ``retries`` times), and fetch what it left."""

    def __init__(self, system, job: WholeJob, transport, store,
                 on_event=lambda message: None):
        self.system, self.job, self.transport, self.store = system, job, transport, store
        self.scheduler = get_scheduler(system.scheduler)
        self.on_event = on_event
        self.counters = Counters()

    async def run(self) -> WholeResult:
        digest = job_hash(self.system.name, self.job)
        record = self.store.reusable(self.system.name, digest)
        if record is not None and record.state.collectable and not self.job.spec.reuse_done:
            record = None
        if record is not None:
            self.counters.reattached += 1
            self.on_event(f"re-attached to job {record.job_id} on {self.system.name}, "
                          f"submitted earlier ({record.state})")
            if record.state.collectable:
                fetched = await self._fetch(record)
                if fetched is not None:
                    return fetched
                record = None  # its folder was cleaned: run it again
        attempt = record.attempt if record is not None else 0
        while True:
            if record is None:
                record = await self._submit(digest, attempt)
            ended = await self._watch(record)
            if isinstance(ended, WholeResult):
                return ended
            current = self.store.get(record.id)
            cancelled = current is not None and current.state is TaskState.CANCELLED
            if not cancelled:
                self.store.set_state([record.id], TaskState.FAILED, ended)
            if cancelled or attempt >= self.job.spec.retries:
                why = ("cancelled with wfl remote cancel" if cancelled else
                       f"{ended}; {attempt + 1} attempt(s)")
                raise WflError(f"job {record.job_id} on {self.system.name}: {why}")
            attempt += 1
            self.counters.resubmitted += 1
            self.on_event(f"job {record.job_id} ended without results ({ended}); "
                          f"submitting it again (retry {attempt} of {self.job.spec.retries})")
            record = None

    async def _submit(self, digest: str, attempt: int) -> JobRecord:
        rundir = await self.transport.absolute(self.system.rundir)
        spec = self.job.spec
        job = await submit_job(
            self.system, self.scheduler, self.transport, self.store, spec, rundir,
            whole_body(self.system.wfl_command, spec.command), self.job.inputs,
            [{"chunk_hash": digest, "configs": self.job.configs, "attempt": attempt}],
            folders=self.job.outputs)
        self.counters.jobs += 1
        self.counters.tasks += 1
        self.on_event(f"submitted job {job.job_id} to {self.system.name} in {job.folder}")
        return job.records[0]

    async def _watch(self, record: JobRecord):
        """Poll until the job ends: its WholeResult, or why it ended without one."""
        interval, missed = FIRST_POLL_SECONDS, 0
        while True:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, LONGEST_POLL_SECONDS)
            poll = await look(self.scheduler, self.transport, [record], results=RESULTS)
            self.counters.queries += 1
            decision, missed, asked = await decide(self.scheduler, self.transport, record,
                                                   poll.sightings[record.id], missed)
            self.counters.explains += asked
            if decision.action is Action.COLLECT:
                fetched = await self._fetch(record)
                return fetched if fetched is not None else "its results are unreadable"
            if decision.action is Action.CANCEL:
                self.counters.cancels += 1
                await self.transport.run(self.scheduler.cancel_argv([(record.job_id,
                                                                      record.task)]))
                return decision.reason
            if decision.action is Action.LOST:
                return decision.reason
            if decision.state is not None and decision.state is not record.state:
                self.store.set_state([record.id], decision.state)
                record.state = decision.state

    async def _fetch(self, record: JobRecord) -> WholeResult | None:
        """What the finished job left, its record settled; None when its files are gone."""
        try:
            code = int((await read_status(self.transport, record))["exit"])
            stdout = await self.transport.get(posixpath.join(
                record.folder, task_file("stdout", record.task)))
            files = await self._fetch_outputs(record)
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        log = await read_log(self.transport, record) or ""
        if code in (0, 3):
            self.store.set_state([record.id], TaskState.DONE)
        else:
            self.store.set_state([record.id], TaskState.FAILED,
                                 f"wfl {self.job.spec.verb} ended with exit code {code}: "
                                 f"{last_line(log)}")
        return WholeResult(code, stdout, log, files, record)

    async def _fetch_outputs(self, record: JobRecord) -> dict:
        """The plain files the verb left in its output folders, as the job listed them
        (a fit's own work folders stay there)."""
        listing = await self.transport.get(posixpath.join(record.folder,
                                                          task_file("files", record.task)))
        files = {out: {} for out in self.job.outputs}
        for path in sorted(filter(None, listing.decode().split("\0"))):
            out, name = posixpath.split(posixpath.normpath(path))
            if out in files:
                files[out][name] = await self.transport.get(posixpath.join(record.folder,
                                                                           path))
        return files
