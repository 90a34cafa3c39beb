"""The executor's three contracts: what a verb hands it (Task), where chunks run
(Backend), and how commands and files reach a system (Transport).

They are Protocols: a class meets one by having its members. A task inherits TaskDefaults
as well, so its optional declarations are always there, off unless it says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol


class Task(Protocol):
    """A verb's work: picklable; ``verb`` and ``parameters()`` (normalized, JSON-able)
    identify it; ``start()`` builds what is expensive (a calculator) once per worker and
    returns the per-config function ``f(atoms, context)``."""

    verb: str
    annotates: bool
    ignores_results: bool
    records_index: bool
    batches: bool

    def parameters(self) -> dict: ...

    def start(self) -> Callable[[Any, Any], Any]: ...


class TaskDefaults:
    """A Task's optional declarations, each off unless the task sets it."""

    annotates = False        # returns {"info", "arrays"} to set on its input, not new configs
    ignores_results = False  # reads the structure alone: results already there are no input
    records_index = False    # its outputs carry the input position: cached per position
    batches = False          # sent chunks even in one process (its function may have `many`)


class Backend(Protocol):
    """Where chunks run (``exec/backends.py``, ``exec/batch/backend.py``)."""

    slots: int   # chunks it wants in flight
    early: bool  # a chunk may leave before it is full when the input stalls

    def submit(self, task: Task, items: list) -> Future: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class Transport(Protocol):
    """How commands and files reach a system (``exec/transport/``): this machine or SSH."""

    label: str  # where it runs, for messages

    async def run(self, argv: list[str], cwd: str | None = None,
                  prelude: tuple = ()) -> Any: ...  # a transport.Completed

    async def put(self, data: bytes, path: str) -> None: ...

    async def get(self, path: str) -> bytes: ...

    async def listdir(self, path: str) -> list[str]: ...

    async def makedirs(self, path: str) -> None: ...

    async def absolute(self, path: str) -> str: ...

    async def rmtree(self, path: str) -> None: ...

    async def islink(self, path: str) -> bool: ...

    async def close(self) -> None: ...
