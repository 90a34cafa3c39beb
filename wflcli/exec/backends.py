"""Where chunks run: in this process, or on local worker processes.

A backend (``contracts.Backend``) takes ``submit(task, items)`` and returns a
``concurrent.futures.Future`` of the chunk's Outcomes; ``slots`` is how many chunks it wants
in flight. The batch backend for ``--remote`` is one more class with the same methods.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from wflcli.exec import steps
from wflcli.exec.task import Task, failed_outcome, run_chunk
from wflcli.interrupts import shielded

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Finished:
    """A chunk's outcomes, already there: what a Future gives once done, without its
    condition variable, which cost more than a small config's calculation."""

    __slots__ = ("_outcomes",)

    def __init__(self, outcomes: list):
        self._outcomes = outcomes

    def result(self, timeout=None) -> list:
        return self._outcomes

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def exception(self, timeout=None) -> None:
        return None


class SerialBackend:
    """Runs each chunk at once in this process: no pickling, no start-up cost."""

    slots = 1
    workers = 1
    early = True

    def submit(self, task: Task, items: list) -> Finished:
        return Finished(run_chunk(task, items))

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class PoolBackend:
    """``workers`` forked processes; each keeps its started task (calculator) across chunks.

    A worker that dies (a segfault in a calculator, the OOM killer) fails the configs of the
    chunks in flight at that moment, with that reason; a new pool takes the chunks after.
    """

    def __init__(self, workers: int, devices: list[str] = ()):
        self.workers = workers
        self.devices = list(devices)  # worker i sees GPU devices[i % len] alone
        self.slots = 2 * workers
        self.early = True  # a chunk may leave before it is full when the input stalls
        self._pool = self._new_pool()

    @shielded
    def _new_pool(self) -> ProcessPoolExecutor:
        # Ctrl-C and SIGTERM wait until the workers are up: one landing inside a fork's
        # bookkeeping left this process unable to clean up (seen: exit 1, or a crash).
        # Blocked, they reach no worker before it has set its own handlers; shielded, they
        # are raised here only once the pool is up (the kernel gives a signal blocked on
        # this thread to another, and Python runs its handler on this one all the same)
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            context = multiprocessing.get_context("fork")
            slots = context.SimpleQueue()  # each worker takes a number and device as it starts
            for number in range(self.workers):
                slots.put((number, self.devices[number % len(self.devices)]
                           if self.devices else ""))
            pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                       initializer=_worker_init, initargs=(os.getpid(), slots))
            # Start every worker now, before the input thread exists, so no fork copies a
            # lock held by another thread.
            for future in [pool.submit(os.getpid) for _ in range(self.workers)]:
                future.result()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return pool

    def submit(self, task: Task, items: list) -> Future:
        result: Future = Future()
        try:
            inner = self._pool.submit(run_chunk, task, items)
        except BrokenProcessPool:
            self._pool = self._new_pool()
            inner = self._pool.submit(run_chunk, task, items)
        inner.add_done_callback(lambda done: _settle(result, done, task, items))
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def abort(self) -> None:
        """Stop at once: drop queued chunks and kill the workers (Ctrl-C)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        children = multiprocessing.active_children()
        for child in children:
            child.kill()
        for child in children:  # reap them: a minimal init (containers, CI) never would
            child.join(timeout=5)


def _settle(result: Future, done: Future, task: Task, items: list) -> None:
    if done.cancelled():
        result.cancel()
        return
    error = done.exception()
    if error is None:
        result.set_result(done.result())
    elif isinstance(error, BrokenProcessPool):
        reason = RuntimeError("the worker process running this config died")
        result.set_result([failed_outcome(task, index, atoms, reason)
                           for index, atoms, _ in items])
    else:
        result.set_exception(error)


def _worker_init(parent: int, slots=None) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers itself; SIGTERM ends a worker
    # at once (the parent, terminated too, leaves no partial file)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked while forking
    number, device = slots.get() if slots is not None else (0, "")
    steps.count_as_worker(number)
    if device:  # this worker's own GPU, before any calculator loads a CUDA library
        os.environ["CUDA_VISIBLE_DEVICES"] = device
    _die_with(parent)


def _die_with(parent: int) -> None:
    """End this worker when its parent dies, however it dies (a SIGKILL included): a
    worker left alone would compute for no one and hold the shared pipe's both ends.

    Linux delivers SIGKILL on the parent's death once asked (PR_SET_PDEATHSIG; the pool is
    made on the main thread, whose end is the process's); the parent may have died before
    the request, so it is checked after. Elsewhere a thread watches for re-parenting."""
    if _ask_for_death_signal():
        if os.getppid() != parent:
            os._exit(1)
        return
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="wfl-parent-watch", daemon=True).start()


def _ask_for_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def make_backend(parallel: int, devices: list[str] = ()):
    """The backend for ``--parallel N`` (N <= 1: serial), each worker on its own GPU when
    ``devices`` are given."""
    if parallel > 1:
        return PoolBackend(parallel, devices)
    if devices:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices[0]
    return SerialBackend()
