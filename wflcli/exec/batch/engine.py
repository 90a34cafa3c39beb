"""The batch engine: an asyncio loop that places chunks as array-job tasks, watches them
with one scheduler query per interval, and turns finished tasks back into Outcomes.

Placing a chunk first asks the job store whether the same chunk was submitted before
(a rerun after Ctrl-C or a lost connection); only chunks with nothing queued, running or
done are submitted. A task that leaves the queue is resolved from its status file; one
that left without it (scancel, walltime, a dead node) is explained by the scheduler and
submitted again up to ``retries`` times, then its configs fail with that reason. A task
that stopped in time before its walltime (drained) hands back what it finished; the rest
goes out as a new task, and the chunk's results are delivered once both are in.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from wflcli.errors import WflError
from wflcli.exec.batch.classify import Action, classify
from wflcli.exec.batch.layout import chunk_files, chunk_hash, job_folder, task_body, task_file
from wflcli.exec.batch.observe import Sharing, last_line, look, verdict
from wflcli.exec.outcomes_file import read_ledger
from wflcli.exec.schedulers import JobRequest, QueueState, Resources, get_scheduler
from wflcli.exec.task import failed_outcome, task_identity
from wflcli.store.jobs import JobRecord, TaskState
from wflcli.store.polls import shared_polls

DEBOUNCE_SECONDS = 0.3       # chunks arriving this close together share one array job
FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 30.0
FATAL_EXITS = {1, 2, 126, 127}  # wfl refused the run itself: retrying cannot help


class RemoteRunError(WflError):
    """The far side cannot run this command at all (wrong arguments, wfl missing)."""


class TaskLost(RuntimeError):
    """A task ended without results; the message is the scheduler's reason."""


@dataclass
class BatchSpec:
    """Everything the engine needs besides the system: what to run, and how big."""

    verb: str
    command: list[str]           # global options, verb and its options, run in each task
    resources: Resources = field(default_factory=Resources)
    job_name: str = "wfl"
    retries: int = 2
    reuse_done: bool = True      # False with --refresh: finished tasks are run again
    drain_margin: int | None = None  # seconds; None: the task's own rule; 0: never drain


@dataclass
class Counters:
    """What the run cost the scheduler: reported at the end and by the benchmark."""

    jobs: int = 0
    tasks: int = 0
    resubmitted: int = 0
    reattached: int = 0
    queries: int = 0
    explains: int = 0
    cancels: int = 0
    drained: int = 0
    shared: int = 0              # queue answers taken from another wfl process


@dataclass
class Chunk:
    task: object                 # the local Task, for failed outcomes
    items: list                  # (index, atoms, seed) as the core sent them
    future: object               # concurrent.futures.Future of the Outcomes
    text: bytes = b""
    positions: bytes = b""
    hash: str = ""
    record: JobRecord | None = None
    attempt: int = 0
    missed: int = 0
    root: object = None          # the future the core waits on (a drained task's rest
                                 # goes on in a new chunk that resolves the same one)

    def __post_init__(self):
        self.root = self.root or self.future


class BatchEngine:
    def __init__(self, system, spec: BatchSpec, transport, store,
                 on_event=lambda message: None):
        self.system, self.spec, self.transport, self.store = system, spec, transport, store
        self.scheduler = get_scheduler(system.scheduler)
        self.on_event = on_event
        self.counters = Counters()
        self.watching: list[Chunk] = []
        self.rundir = ""
        self.failed_queries = 0
        self.delivered: dict = {}  # core's future -> record ids whose results await commit
        self.continued: list[Chunk] = []  # the rest of drained tasks, to be placed
        self.submitted_at = 0.0
        self.taken: list[Chunk] = []  # every chunk placed and not yet resolved
        polls = shared_polls(store)
        self.sharing = Sharing(polls, system.name) if polls is not None else None

    async def run(self, inbox: asyncio.Queue) -> None:
        """Take chunks from ``inbox`` until it yields None and every chunk is resolved."""
        self.rundir = await self.transport.absolute(self.system.rundir)
        closing, interval = False, FIRST_POLL_SECONDS
        while not (closing and not self.watching):
            arrived = await _take(inbox, interval if self.watching else None)
            if arrived:
                closing = closing or None in arrived
                chunks = [c for c in arrived if c is not None]
                if chunks:
                    await self._place(chunks)
                continue
            changed = await self._poll(interval)
            interval = FIRST_POLL_SECONDS if changed else min(interval * 1.5,
                                                              LONGEST_POLL_SECONDS)

    def fail_all(self, error: BaseException) -> None:
        """Every chunk not yet resolved fails with ``error``: none is left waiting."""
        self._fail(self.taken, error)
        self.watching.clear()

    @staticmethod
    def _fail(chunks: list[Chunk], error: BaseException) -> None:
        for chunk in chunks:
            if not chunk.future.done():
                chunk.future.set_exception(error)

    def confirm(self, future) -> None:
        """The core has committed this task's results to the cache: now it is done."""
        ids = self.delivered.pop(future, [])
        if ids:
            self.store.set_state(ids, TaskState.DONE)

    # placing ---------------------------------------------------------------------------

    async def _place(self, chunks: list[Chunk]) -> None:
        self.taken = [c for c in self.taken if not c.future.done()] + chunks  # first
        fresh = []
        for chunk in chunks:
            chunk.text, chunk.positions = chunk_files(chunk.items)
            chunk.hash = chunk_hash(self.system.name, self.spec.command,
                                    task_identity(chunk.task), chunk.text, chunk.positions)
            previous = self.store.reusable(self.system.name, chunk.hash)
            if previous is not None and previous.state.collectable and not self.spec.reuse_done:
                previous = None
            if previous is None:
                fresh.append(chunk)
                continue
            chunk.record, chunk.attempt = previous, previous.attempt
            self.counters.reattached += 1
            self.watching.append(chunk)
            if previous.state.collectable and await self._collect(chunk) is not None:
                fresh.append(chunk)  # its files are gone (cleaned): run it again
        if len(chunks) - len(fresh):
            self.on_event(f"re-attached to {len(chunks) - len(fresh)} task(s) submitted "
                          "earlier")
        await self._submit(fresh)
        await self._place_continued()

    async def _place_continued(self) -> None:
        """The rest of drained tasks: re-attached when a rerun finds them, else submitted."""
        while self.continued:
            chunks, self.continued = self.continued, []
            await self._place(chunks)

    async def _submit(self, chunks: list[Chunk]) -> None:
        limit = self.system.max_array
        for start in range(0, len(chunks), limit):
            await self._submit_array(chunks[start:start + limit])

    async def _submit_array(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        folder = job_folder(self.rundir)
        request = JobRequest(self.spec.job_name, len(chunks), folder,
                             task_body(self.system.wfl_command, self.spec.command),
                             self.spec.resources, self.system.header, self.system.job_setup,
                             self.spec.drain_margin)
        try:
            await self.transport.makedirs(folder)
            for number, chunk in enumerate(chunks, 1):
                await self.transport.put(chunk.text, posixpath.join(
                    folder, task_file("chunk", number)))
                await self.transport.put(chunk.positions, posixpath.join(
                    folder, task_file("positions", number)))
            await self.transport.put(self.scheduler.script(request).encode(),
                                     posixpath.join(folder, "job.sh"))
        except OSError as exc:
            raise RemoteRunError(f"{self.system.name}: cannot make the job folder {folder}: "
                                 f"{exc.strerror or exc}") from None
        done = await self.transport.run(self.scheduler.submit_argv("job.sh", len(chunks)),
                                        cwd=folder)
        if done.code != 0:
            raise RemoteRunError(f"{self.system.name}: submitting failed (exit {done.code}): "
                                 f"{_brief(done.stderr or done.stdout)}")
        try:
            job_id = self.scheduler.parse_submit(done.stdout)
        except ValueError as exc:
            raise RemoteRunError(f"{self.system.name}: {exc}") from None
        self.submitted_at = time.time()  # queue answers from before now miss this job
        try:
            ids = self.store.add([
                {"system": self.system.name, "scheduler": self.scheduler.name,
                 "job_id": job_id, "task": number, "state": TaskState.QUEUED,
                 "verb": self.spec.verb,
                 "command": json.dumps(self.spec.command), "chunk_hash": chunk.hash,
                 "configs": len(chunk.items), "folder": folder, "attempt": chunk.attempt}
                for number, chunk in enumerate(chunks, 1)])
        except WflError as exc:  # a job nobody knows of would run again on the next run
            await self.transport.run(self.scheduler.cancel_argv(
                [(job_id, number) for number in range(1, len(chunks) + 1)]))
            raise WflError(f"{exc}; cancelled job {job_id} on {self.system.name}, which it "
                           "could not record") from None
        for chunk, record_id in zip(chunks, ids):
            chunk.record, chunk.missed = self.store.get(record_id), 0
            if chunk not in self.watching:
                self.watching.append(chunk)
        self.counters.jobs += 1
        self.counters.tasks += len(chunks)
        self.on_event(f"submitted job {job_id} to {self.system.name}: {len(chunks)} task(s) "
                      f"in {folder}")

    # watching --------------------------------------------------------------------------

    async def _poll(self, interval: float) -> bool:
        """One scheduler query (or another process's answer, at most ``interval`` old and
        newer than this one's last submission) and one listing per job folder; True if
        anything ended."""
        if self.sharing is not None:
            self.sharing.since = max(time.time() - interval, self.submitted_at)
        poll = await look(self.scheduler, self.transport, [c.record for c in self.watching],
                          self.sharing)
        self.counters.queries += poll.asked
        self.counters.shared += not poll.asked
        if poll.failure:  # a busy controller: status files are still read
            self.failed_queries += 1
            if self.failed_queries == 1:
                self.on_event(f"queue query failed ({poll.failure}); trying again")
        else:
            self.failed_queries = 0
        changed, retry = False, []
        for chunk in list(self.watching):
            record = chunk.record
            seen = poll.sightings[record.id]
            if seen.queue is not QueueState.UNKNOWN:
                chunk.missed = chunk.missed + 1 if seen.queue is QueueState.ABSENT else 0
            found = None
            if seen.queue is QueueState.ABSENT and not seen.status_present:
                self.counters.explains += 1
                found = await verdict(self.scheduler, self.transport, record)
            decision = classify(seen.queue, found, seen.status_present, chunk.missed,
                                seen.missing)
            if decision.action is Action.COLLECT:
                try:
                    problem = await self._collect(chunk)
                except RemoteRunError as exc:  # every task of this run would fail so
                    await self._give_up(exc)
                    raise
                changed |= problem is None or self._lost(chunk, TaskLost(problem), retry)
            elif decision.action is Action.CANCEL:
                await self._cancel(chunk)
                changed |= self._lost(chunk, TaskLost(decision.reason), retry)
            elif decision.action is Action.LOST:
                changed |= self._lost(chunk, TaskLost(decision.reason), retry)
            elif decision.state is not None and decision.state is not record.state:
                self.store.set_state([record.id], decision.state)
                record.state = decision.state
        if retry:
            self.counters.resubmitted += len(retry)
            await self._submit(retry)
        await self._place_continued()
        return changed

    async def _collect(self, chunk: Chunk) -> str | None:
        """Read a finished task's results into its future: None, or why they are unusable."""
        record = chunk.record
        folder = record.folder
        try:
            status = json.loads(await self.transport.get(
                posixpath.join(folder, task_file("status", record.task))))
            code = int(status["exit"])
            if code in FATAL_EXITS:
                raise RemoteRunError(f"{self.system.name}: wfl failed in job {record.job_id} "
                                     f"task {record.task} (exit {code}): "
                                     f"{await self._log_tail(chunk)}")
            if code not in (0, 3):
                return f"wfl ended with exit code {code}: {await self._log_tail(chunk)}"
            data = await self.transport.get(posixpath.join(folder,
                                                           task_file("outcomes", record.task)))
            if status.get("sha256") and hashlib.sha256(data).hexdigest() != status["sha256"]:
                return "its outcomes file does not match the checksum in its status file"
            outcomes = read_ledger(data, chunk.items)
        except FileNotFoundError as exc:
            return f"{posixpath.basename(exc.filename or str(exc))} is missing"
        except (ValueError, KeyError, TypeError) as exc:  # LedgerError is a ValueError
            return f"its results are unreadable ({exc})"
        rest = [item for item, outcome in zip(chunk.items, outcomes) if not outcome.started]
        if len(rest) == len(chunk.items):  # a new task would stop as soon: no progress
            return ("it was told to stop (SIGTERM or --drain-margin) before it started a "
                    "config")
        if chunk in self.watching:
            self.watching.remove(chunk)
        if rest:
            self._continue(chunk, outcomes, rest)
        else:  # done once the core has committed the results
            self.delivered.setdefault(chunk.root, []).append(record.id)
            chunk.future.set_result(outcomes)
        return None

    def _continue(self, chunk: Chunk, outcomes: list, rest: list) -> None:
        """A task that stopped in time: its finished configs wait in its folder for the
        rest, which go out as a new chunk (no retry counted; a rerun finds both again)."""
        record = chunk.record
        self.counters.drained += 1
        self.store.set_state([record.id], TaskState.DRAINED,
                             f"stopped in time: {len(chunk.items) - len(rest)} of "
                             f"{len(chunk.items)} configs done, the rest sent on")
        self.on_event(f"job {record.job_id} task {record.task} stopped before its walltime "
                      f"with {len(chunk.items) - len(rest)} of {len(chunk.items)} configs "
                      f"done; submitting the other {len(rest)}")
        follow = Chunk(chunk.task, rest, Future(), attempt=chunk.attempt, root=chunk.root)

        def merge(done: Future) -> None:
            if chunk.future.done():  # failed already, with the engine's error
                return
            if done.exception() is not None:
                chunk.future.set_exception(done.exception())
                return
            later = iter(done.result())
            chunk.future.set_result([o if o.started else next(later) for o in outcomes])

        follow.future.add_done_callback(merge)
        self.continued.append(follow)

    async def _give_up(self, error: RemoteRunError) -> None:
        """wfl cannot run there: cancel this run's tasks and record them as failed, so
        neither ``wfl remote sync`` nor a rerun after the fix takes them for live work."""
        records = [c.record for c in self.watching]
        await self.transport.run(self.scheduler.cancel_argv(
            [(r.job_id, r.task) for r in records]))
        self.store.set_state([r.id for r in records], TaskState.FAILED, str(error))

    def _lost(self, chunk: Chunk, reason: TaskLost, retry: list) -> bool:
        """Resubmit a task that ended without results, or fail its configs."""
        record = chunk.record
        current = self.store.get(record.id)
        cancelled = current is not None and current.state is TaskState.CANCELLED
        if not cancelled:
            self.store.set_state([record.id], TaskState.FAILED, str(reason))
        if chunk.attempt < self.spec.retries and not cancelled:
            chunk.attempt += 1
            chunk.missed = 0
            retry.append(chunk)
            self.on_event(f"job {record.job_id} task {record.task} ended without results "
                          f"({reason}); submitting it again (retry {chunk.attempt} of "
                          f"{self.spec.retries})")
            return False
        self.watching.remove(chunk)
        why = ("cancelled with wfl remote cancel" if cancelled else
               f"{reason}; {chunk.attempt + 1} attempt(s)")
        error = TaskLost(f"batch task {record.job_id}/{record.task} on {self.system.name}: "
                         f"{why}")
        chunk.future.set_result([failed_outcome(chunk.task, index, atoms, error)
                                 for index, atoms, _ in chunk.items])
        return True

    async def _cancel(self, chunk: Chunk) -> None:
        self.counters.cancels += 1
        await self.transport.run(self.scheduler.cancel_argv([(chunk.record.job_id,
                                                               chunk.record.task)]))

    async def _log_tail(self, chunk: Chunk) -> str:
        try:
            log = await self.transport.get(posixpath.join(chunk.record.folder,
                                                          task_file("log", chunk.record.task)))
        except FileNotFoundError:
            return "no log"
        return last_line(log.decode(errors="replace")) or "empty log"


async def _take(inbox: asyncio.Queue, timeout: float | None) -> list:
    """Everything that arrives in the inbox within ``timeout`` (then a short debounce)."""
    try:
        first = await asyncio.wait_for(inbox.get(), timeout)
    except asyncio.TimeoutError:
        return []
    arrived = [first]
    while first is not None:
        try:
            item = await asyncio.wait_for(inbox.get(), DEBOUNCE_SECONDS)
        except asyncio.TimeoutError:
            break
        arrived.append(item)
        if item is None:
            break
    return arrived


def _brief(text: str) -> str:
    """A command's complaint on one line: sbatch says what was wrong first, then a hint."""
    return " / ".join(line.strip() for line in text.strip().splitlines()
                      if line.strip())[:300]
