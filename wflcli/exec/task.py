"""What a verb hands the executor, and how one chunk of configs is run in a worker.

A task is a small picklable object: ``verb``, ``parameters()`` (normalized, JSON-able; they
identify the work) and ``start()``, which builds whatever is expensive (a calculator) and
returns the per-config function. A worker starts a task once and reuses it for every
chunk it is given.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

ConfigFunction = Callable[[Any], list]


class Task(Protocol):
    verb: str

    def parameters(self) -> dict: ...

    def start(self) -> ConfigFunction: ...


@dataclass
class Outcome:
    """The result of one input config: its output configs, and whether it failed."""

    index: int
    outputs: list = field(default_factory=list)
    failed: bool = False


def task_identity(task: Task) -> str:
    """A stable text naming the work (verb and normalized parameters)."""
    return json.dumps([task.verb, task.parameters()], sort_keys=True, separators=(",", ":"))


_started: dict[str, ConfigFunction] = {}


def started(task: Task) -> ConfigFunction:
    """The task's per-config function, built once per process and kept for later chunks."""
    identity = task_identity(task)
    function = _started.get(identity)
    if function is None:
        _started.clear()  # one task at a time: free the previous calculator
        function = _started[identity] = task.start()
    return function


def run_chunk(task: Task, items: list[tuple[int, Any]]) -> list[Outcome]:
    """Run the task on each (index, config); a config that raises becomes a failed Outcome."""
    function = started(task)
    outcomes = []
    for index, atoms in items:
        try:
            outcomes.append(Outcome(index, function(atoms)))
        except Exception as exc:  # failures are data: keep the config and the reason
            outcomes.append(Outcome(index, [mark_failed(atoms, task.verb, exc)], failed=True))
    return outcomes


def mark_failed(atoms, verb: str, exc: BaseException):
    """The input config carrying ``info['wfl_error']``: verb, exception type, message, where."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    atoms.info["wfl_error"] = {"verb": verb, "type": type(exc).__name__,
                               "message": str(exc) or repr(exc), "where": where}
    return atoms
