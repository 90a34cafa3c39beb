"""What a verb hands the executor, and how one chunk of configs is run in a worker.

A task (``contracts.Task``) is a small picklable object with ``verb``, ``parameters()``
(normalized, JSON-able; with the verb they identify the work) and ``start()``, which builds
whatever is expensive (a calculator) and returns the per-config function
``f(atoms, context)``. A worker starts a task once and reuses it for every chunk it is
given.

A task with ``annotates = True`` returns ``{"info": {...}, "arrays": {...}}`` to set on its
input (``calc``); any other returns the list of output configs (``md`` frames). The
worker also writes the outputs' extxyz text, so the parent process only copies text.

A task with ``batches = True`` is sent chunks even when it runs in this process, and its
per-config function may carry ``many``: a function over a whole chunk (see ``run_chunk``).
"""

from __future__ import annotations

import copy
import functools
import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wflcli.exec import steps
from wflcli.exec.contracts import Task
from wflcli.exec.payload import ANNOTATION, OUTPUTS, encode_annotation, encode_outputs
from wflcli.io.writer import format_config

NOT_STARTED = "not_started"  # an Outcome's kind: left undone by a draining batch task


@dataclass
class ConfigContext:
    """Per-config facts a task may use: its position in the input and its deterministic
    random generator."""

    index: int
    seed: int

    @functools.cached_property
    def rng(self):
        import numpy as np

        return np.random.default_rng(self.seed)

    @staticmethod
    def step(count: int = 1) -> None:
        """Count steps of a dynamics or relaxation, for the progress line."""
        steps.add(count)


@dataclass
class Outcome:
    """One input config done: its outputs as extxyz text, and the config that failed, if
    one did (a trajectory that ends in a failure keeps the frames before it)."""

    index: int
    text: str
    count: int                  # output configs in text
    error: dict | None = None   # info['wfl_error'] of the failed config
    failed_text: str = ""       # the failed config
    kind: str = ""              # what payload holds, for the cache
    payload: bytes = b""
    cached: bool = False        # answered from the cache

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def started(self) -> bool:
        """False for a config a draining batch task left for the next one."""
        return self.kind != NOT_STARTED


def task_identity(task: Task) -> str:
    """A stable text naming the work (verb and normalized parameters)."""
    return json.dumps([task.verb, task.parameters()], sort_keys=True, separators=(",", ":"))


# in a fingerprint (CalcSpec, map's FunctionSpec): the code and files behind it
CODE_KEY = "code"


def seed_identity(task: Task) -> str:
    """The identity that random numbers derive from: without the ``code`` entries, so they
    follow --seed, the verb, its parameters and the config, and stay the same when a
    package is upgraded, on a cluster with other versions, or after a comment is edited;
    and with files by name, not folder, so a model or a ``.py`` file gives the same
    numbers wherever it lies (a batch job's staged copy, a moved project)."""
    return json.dumps([task.verb, _without_code(task.parameters())], sort_keys=True,
                      separators=(",", ":"))


_FOLDERS = re.compile(r"^/(?:[^/]*/)+")  # the folders of an absolute path


def _without_code(value):
    if isinstance(value, dict):
        return {key: _without_code(item) for key, item in value.items() if key != CODE_KEY}
    if isinstance(value, (list, tuple)):
        return [_without_code(item) for item in value]
    if isinstance(value, str):
        return _FOLDERS.sub("", value)
    return value


_started: dict[str, Callable] = {}
_last: list = [None, None]  # the task object last asked for and its function


def started(task: Task) -> Callable:
    """The task's per-config function, built once per process and kept for later chunks.
    Keyed on the whole task: settings outside its identity (where a code runs) count too.
    The same task object again (every chunk of a serial run) skips making the key."""
    if _last[0] is task:
        return _last[1]
    key = repr(task)
    function = _started.get(key)
    if function is None:
        _started.clear()  # one task at a time: free the previous calculator
        function = _started[key] = task.start()
    _last[:] = task, function
    return function


def run_chunk(task: Task, items: list[tuple[int, Any, int]]) -> list[Outcome]:
    """Run the task on each (index, config, seed); a config that raises fails alone. In a
    batch task near its walltime the rest are reported not started (``batch/drain.py``).

    A per-config function that has a ``many`` attribute (batched evaluation) is given the
    chunk's (config, context) pairs at once and returns, per config, its result or the
    exception it raised."""
    from wflcli.exec.batch.drain import current

    function, drain, outcomes = started(task), current(), []
    many = getattr(function, "many", None)
    if many is not None and len(items) > 1 and not drain.stop_now():
        began = time.monotonic()
        results = many([(private_copy(atoms), ConfigContext(index, seed))
                        for index, atoms, seed in items])
        drain.took(time.monotonic() - began)  # the group counts as one long config
        return [_outcome(task, index, atoms, result)
                for (index, atoms, _), result in zip(items, results)]
    for index, atoms, seed in items:
        if drain.stop_now():
            outcomes.append(Outcome(index, "", 0, kind=NOT_STARTED))
            continue
        began = time.monotonic()
        outcomes.append(_run_one(task, function, index, atoms, seed))
        drain.took(time.monotonic() - began)
    return outcomes


def _run_one(task: Task, function: Callable, index: int, atoms, seed: int) -> Outcome:
    try:
        result = function(private_copy(atoms), ConfigContext(index, seed))
    except Exception as exc:  # failures are data: keep the config and the reason
        result = exc
    return _outcome(task, index, atoms, result)


# what an ase.Atoms holds (ASE 3.23 to 3.29); another set of attributes: Atoms.copy()
_ATOMS_STATE = frozenset({"_cellobj", "_pbc", "arrays", "_celldisp", "_constraints", "info",
                          "_calc"})


def private_copy(atoms):
    """The function's own copy of a config, equal to ``atoms.copy()`` (its own arrays,
    cell, pbc and constraints, a new info dict, no calculator) but made without
    ``Atoms.__init__``'s checks, which cost more than the copy itself (about 35 us of 45)
    on small configs. Anything but a plain Atoms of the known shape gets ``copy()``."""
    from ase import Atoms

    state = atoms.__dict__
    if type(atoms) is not Atoms or state.keys() != _ATOMS_STATE:
        return atoms.copy()
    twin = Atoms.__new__(Atoms)
    twin.__dict__.update(
        _cellobj=state["_cellobj"].copy(), _pbc=state["_pbc"].copy(),
        arrays={name: values.copy() for name, values in state["arrays"].items()},
        _celldisp=state["_celldisp"].copy(), info=dict(state["info"]), _calc=None,
        _constraints=copy.deepcopy(state["_constraints"]) if state["_constraints"] else [])
    return twin


def _outcome(task: Task, index: int, atoms, result) -> Outcome:
    if isinstance(result, Outcome):  # made whole by the task (a pipeline, exec/chain.py)
        return result
    if isinstance(result, Exception):
        return failed_outcome(task, index, atoms, result)
    if task.annotates:
        apply_annotation(atoms, result)
        return Outcome(index, format_config(atoms), 1, kind=ANNOTATION,
                       payload=encode_annotation(result))
    if result and "wfl_error" in result[-1].info:  # ended early: keep what came before
        failed = result.pop()
        return Outcome(index, "".join(map(format_config, result)), len(result),
                       error=failed.info["wfl_error"], failed_text=format_config(failed))
    text = "".join(format_config(out) for out in result)
    return Outcome(index, text, len(result), kind=OUTPUTS,
                   payload=encode_outputs(text, len(result)))


def apply_annotation(atoms, annotation: dict) -> None:
    atoms.info.update(annotation["info"])
    atoms.arrays.update(annotation["arrays"])


def failed_outcome(task: Task, index: int, atoms, exc: BaseException) -> Outcome:
    failed = mark_failed(atoms, task.verb, exc)
    return Outcome(index, "", 0, error=failed.info["wfl_error"],
                   failed_text=format_config(failed))


def mark_failed(atoms, verb: str, exc: BaseException, where: str | None = None):
    """The config carrying ``info['wfl_error']``: verb, exception type, message, where."""
    if where is None:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    atoms.info["wfl_error"] = {"verb": verb, "type": type(exc).__name__,
                               "message": str(exc) or repr(exc), "where": where,
                               **getattr(exc, "details", {})}  # e.g. a code's folder
    return atoms
