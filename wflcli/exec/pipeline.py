"""A per-config verb from end to end: configs in, the task executed, text out in order.

This is the one place where input, executor and output meet, so every verb gets the same
streaming, ordering, failure handling and clean-up on error or interrupt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from wflcli.exec.backends import make_backend
from wflcli.exec.core import execute
from wflcli.exec.outcomes_file import closing_line, outcome_line
from wflcli.exec.task import Task
from wflcli.io.output import open_output, open_target


@dataclass
class Summary:
    """What a run did, for the closing message and the exit code."""

    inputs: int = 0
    outputs: int = 0
    cached: int = 0                              # inputs answered from the cache
    failed: list = field(default_factory=list)  # (input index, wfl_error dict)


def run_task(task: Task, configs: Iterable, stdout: BinaryIO, *, output, failed_output,
             parallel: int = 1, chunk: int = 10, cache=None,
             refresh: bool = False, backend=None, ledger: str | None = None,
             positions: Iterable[int] | None = None,
             on_progress: Callable[[Summary], None] | None = None,
             check: Callable[[], None] | None = None) -> Summary:
    """Run ``task`` over ``configs`` (read lazily); failed configs go to ``failed_output``
    when given, else into the output with the rest. An output is a path (None: stdout) or
    a context manager giving a sink (one file per input, see ``io/per_input.py``).
    ``ledger`` names the outcomes file a batch job returns (see ``outcomes_file.py``);
    ``backend`` defaults to ``--parallel``'s. ``check`` (made once, raising what is wrong)
    must pass before the first chunk is sent and before the first output a cache hit does
    not vouch for (a config that failed upstream): a hit's key proves it passed before."""
    summary = Summary()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open_target(output, stdout))
        failed_sink = stack.enter_context(open_target(failed_output, stdout)) \
            if failed_output else sink
        outcomes = stack.enter_context(open_output(ledger, stdout)) if ledger else None
        backend = backend or make_backend(parallel)
        try:
            sent = backend if check is None else _CheckedFirst(backend, check)
            for outcome in execute(task, configs, sent, chunk, cache, refresh, positions):
                if check is not None and not outcome.cached:
                    check()
                    check = None
                if outcomes is not None:
                    outcomes.write(outcome_line(outcome))
                sink.select(summary.inputs)
                failed_sink.select(summary.inputs)
                summary.inputs += 1
                summary.cached += outcome.cached
                sink.write(outcome.text)
                summary.outputs += outcome.count
                if outcome.failed:
                    failed_sink.write(outcome.failed_text)
                    named = sink if sink.routes else failed_sink  # the one that knows its file
                    summary.failed.append((named.where(outcome.index), outcome.error))
                sink.flush()
                if failed_sink is not sink:
                    failed_sink.flush()
                if on_progress:
                    on_progress(summary)
            if outcomes is not None:
                outcomes.write(closing_line(summary.inputs))
        except BaseException:
            backend.abort()
            raise
        backend.close()
    return summary



class _CheckedFirst:
    """The backend, with ``check()`` made before its first chunk."""

    def __init__(self, backend, check: Callable[[], None]):
        self._backend, self._check = backend, check

    def submit(self, task: Task, items: list):
        if self._check is not None:
            self._check()
            self._check = None
        return self._backend.submit(task, items)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)
