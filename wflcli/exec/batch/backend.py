"""The executor backend for ``--remote``: chunks become array-job tasks on a system.

The core calls ``submit`` from its thread; the batch engine runs in an asyncio loop on a
thread of its own, so every SSH command and SFTP transfer shares one connection. Results
come back through the same futures the local backends use, in whatever order tasks end.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future

from wflcli.exec.batch.chunk import Chunk
from wflcli.exec.batch.engine import BatchEngine
from wflcli.exec.batch.spec import BatchSpec
from wflcli.exec.contracts import Transport


class BatchBackend:
    """A ``contracts.Backend`` whose chunks become array-job tasks."""

    slots = 10 ** 6   # every chunk goes out at once: the cluster does the queueing
    workers = 1
    early = False     # chunks leave full, so reruns cut the input the same way

    def __init__(self, system, spec: BatchSpec, *, transport: Transport | None = None, store=None,
                 on_event=lambda message: None):
        from wflcli.exec.transport import open_transport
        from wflcli.store.jobs import open_job_store

        self.system = system
        self.transport = transport or open_transport(system)
        self._store = store
        self._open_store = open_job_store
        self._spec, self._on_event = spec, on_event
        self._ready = threading.Event()
        self._inbox: asyncio.Queue | None = None
        self.engine: BatchEngine | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="wfl-batch", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self.engine is None:  # the store could not be opened
            raise self._error

    @property
    def counters(self):
        return self.engine.counters

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        try:
            store = self._store or self._open_store()  # sqlite: opened on the thread using it
        except BaseException as exc:  # a damaged or locked store: the constructor raises it
            self._error = exc
            self._ready.set()
            return
        self.engine = BatchEngine(self.system, self._spec, self.transport, store,
                                  self._on_event)
        self._ready.set()
        try:
            await self.engine.run(self._inbox)
        except asyncio.CancelledError:
            pass  # abort: jobs keep running, a rerun collects them
        except BaseException as exc:  # unreachable system, refused submission
            self._error = exc
            self.engine.fail_all(exc)
            self._fail_inbox(exc)
        finally:
            await self.transport.close()
            if self._store is None:
                store.close()

    def _fail_inbox(self, error: BaseException) -> None:
        while not self._inbox.empty():
            chunk = self._inbox.get_nowait()
            if chunk is not None and not chunk.future.done():
                chunk.future.set_exception(error)

    def submit(self, task, items: list) -> Future:
        future: Future = Future()
        try:
            if self._error is None:
                self._loop.call_soon_threadsafe(self._put, Chunk(task, items, future))
                return future
        except RuntimeError:  # the loop has just ended with an error
            pass
        future.set_exception(self._error or RuntimeError("the batch engine has stopped"))
        return future

    def confirm(self, future: Future) -> None:
        """Called once the chunk's results are committed to the cache (any thread)."""
        try:
            self._loop.call_soon_threadsafe(self.engine.confirm, future)
        except RuntimeError:  # the loop has ended: the record stays running, sync settles it
            pass

    def _put(self, chunk) -> None:
        if self._error is not None:
            chunk.future.set_exception(self._error)
        else:
            self._inbox.put_nowait(chunk)

    def close(self) -> None:
        """Wait for the engine to finish (every future is already resolved by then)."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._put, None)
            self._thread.join()

    def abort(self) -> None:
        """Stop watching at once; submitted jobs stay queued and are re-attached next run."""
        if self._error is not None:  # the engine ended with the error being raised
            self._thread.join(timeout=10)
        elif self._thread.is_alive():
            waiting = len(self.engine.watching)
            self._loop.call_soon_threadsafe(self._cancel_main)
            self._thread.join(timeout=10)
            if waiting:
                self._on_event(f"{waiting} task(s) keep running on {self.system.name}; run "
                               "the same command again to collect them")

    def _cancel_main(self) -> None:
        for handle in asyncio.all_tasks(self._loop):
            handle.cancel()
