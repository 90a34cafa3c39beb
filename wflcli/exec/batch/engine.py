"""The batch engine: an asyncio loop that places chunks as array tasks (one element of a
scheduler's job array each), watches them with one scheduler query per interval, and
turns finished array tasks back into Outcomes.

Placing a chunk first asks the job store whether the same chunk was submitted before
(a rerun after Ctrl-C or a lost connection); only chunks with nothing queued, running or
done are submitted (``submit.py``). An array task that leaves the queue is resolved from
its status file (``results.py``); one that left without it (scancel, walltime, a dead
node) is explained by the scheduler and submitted again up to ``retries`` times, then its
configs fail with that reason. One that stopped in time before its walltime (drained)
hands back what it finished; the rest goes out as a new chunk (``chunk.py``), and the
chunk's results are delivered once both are in. Whole-input verbs are ``whole.py``'s.
"""

from __future__ import annotations

import asyncio
import time

from wflcli.exec.batch.chunk import Chunk, continuation
from wflcli.exec.batch.classify import Action
from wflcli.exec.batch.layout import chunk_files, chunk_hash, task_body, task_file
from wflcli.exec.batch.observe import Sharing, decide, look
from wflcli.exec.batch.results import read_outcomes
from wflcli.exec.batch.spec import BatchSpec, Counters, RemoteRunError, TaskLost
from wflcli.exec.batch.staging import link_into, stage_inputs
from wflcli.exec.batch.submit import submit_job
from wflcli.exec.schedulers import get_scheduler
from wflcli.exec.task import failed_outcome, task_identity
from wflcli.store.jobs import TaskState
from wflcli.store.polls import shared_polls

DEBOUNCE_SECONDS = 0.3       # chunks arriving this close together share one array job
FIRST_POLL_SECONDS = 1.0
LONGEST_POLL_SECONDS = 30.0


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
        self.staged = None
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
        if self.staged is None:  # once, when work first comes: the command names the copies
            self.staged = await stage_inputs(self)
        fresh = []
        for chunk in chunks:
            chunk.text, chunk.positions = chunk_files(chunk.items)
            chunk.hash = chunk_hash(self.system.name, self.spec.command,
                                    task_identity(chunk.work), chunk.text, chunk.positions)
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

    async def _link_staged(self, folder: str) -> None:
        """A new job folder gets links to the staged copies its command names."""
        if self.staged is not None:
            await link_into(self.transport, self.staged, folder)

    async def _submit_array(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        files = {}
        for number, chunk in enumerate(chunks, 1):
            files[task_file("chunk", number)] = chunk.text
            files[task_file("positions", number)] = chunk.positions
        job = await submit_job(
            self.system, self.scheduler, self.transport, self.store, self.spec, self.rundir,
            task_body(self.system.wfl_command, self.spec.command), files,
            [{"chunk_hash": c.hash, "configs": len(c.items), "attempt": c.attempt}
             for c in chunks], prepare=self._link_staged)
        self.submitted_at = job.at
        for chunk, record in zip(chunks, job.records):
            chunk.record, chunk.missed = record, 0
            if chunk not in self.watching:
                self.watching.append(chunk)
        self.counters.jobs += 1
        self.counters.tasks += len(chunks)
        self.on_event(f"submitted job {job.job_id} to {self.system.name}: {len(chunks)} "
                      f"task(s) in {job.folder}")

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
            decision, chunk.missed, asked = await decide(
                self.scheduler, self.transport, record, poll.sightings[record.id], chunk.missed)
            self.counters.explains += asked
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
        """Read a finished array task's results into its chunk's future: None, or why
        they are unusable."""
        outcomes, problem = await read_outcomes(
            self.transport, self.system.name, chunk.record, chunk.items,
            localize=self.staged.localized if self.staged is not None else None)
        if outcomes is None:
            return problem
        rest = [item for item, outcome in zip(chunk.items, outcomes) if not outcome.started]
        if len(rest) == len(chunk.items):  # a new task would stop as soon: no progress
            return ("it was told to stop (SIGTERM or --drain-margin) before it started a "
                    "config")
        if self.spec.fetch is not None:
            try:
                await self.spec.fetch(self.transport, chunk.record.folder, chunk.items)
            except OSError as exc:
                return f"its files could not be fetched ({exc})"
        if chunk in self.watching:
            self.watching.remove(chunk)
        if rest:
            self._continue(chunk, outcomes, rest)
        else:  # done once the core has committed the results
            self.delivered.setdefault(chunk.root, []).append(chunk.record.id)
            chunk.future.set_result(outcomes)
        return None

    def _continue(self, chunk: Chunk, outcomes: list, rest: list) -> None:
        """An array task that stopped in time: its finished configs wait in its folder for
        the rest, which go out as a new chunk (no retry counted; a rerun finds both)."""
        record = chunk.record
        self.counters.drained += 1
        self.store.set_state([record.id], TaskState.DRAINED,
                             f"stopped in time: {len(chunk.items) - len(rest)} of "
                             f"{len(chunk.items)} configs done, the rest sent on")
        self.on_event(f"job {record.job_id} task {record.task} stopped before its walltime "
                      f"with {len(chunk.items) - len(rest)} of {len(chunk.items)} configs "
                      f"done; submitting the other {len(rest)}")
        self.continued.append(continuation(chunk, outcomes, rest))

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
        chunk.future.set_result([failed_outcome(chunk.work, index, atoms, error)
                                 for index, atoms, _ in chunk.items])
        return True

    async def _cancel(self, chunk: Chunk) -> None:
        self.counters.cancels += 1
        await self.transport.run(self.scheduler.cancel_argv([(chunk.record.job_id,
                                                               chunk.record.task)]))


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

