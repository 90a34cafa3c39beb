"""A per-config verb from end to end: read configs, execute the task, write in order.

This is the one place where input, executor and output meet, so every verb gets the same
streaming, ordering, failure handling and clean-up on error or interrupt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from wflcli.exec.backends import make_backend
from wflcli.exec.core import execute
from wflcli.exec.task import Task
from wflcli.io.output import open_output
from wflcli.io.reader import read_configs


@dataclass
class Summary:
    """What a run did, for the closing message and the exit code."""

    inputs: int = 0
    outputs: int = 0
    failed: list = field(default_factory=list)  # (input index, wfl_error dict)


@dataclass
class Streams:
    stdin: BinaryIO
    stdout: BinaryIO


def run_task(task: Task, sources: Sequence[str], streams: Streams, *, output: str | None,
             failed_output: str | None, parallel: int = 1, chunk: int = 10, cache=None,
             refresh: bool = False,
             on_progress: Callable[[Summary], None] | None = None) -> Summary:
    """Run ``task`` over the configs of ``sources``; failed configs go to ``failed_output``
    when given, else into the output with the rest."""
    summary = Summary()
    configs = read_configs(sources or ["-"], streams.stdin)
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open_output(output, streams.stdout))
        failed_sink = (stack.enter_context(open_output(failed_output, streams.stdout))
                       if failed_output else sink)
        backend = make_backend(parallel)
        try:
            for outcome in execute(task, configs, backend, chunk, cache, refresh):
                summary.inputs += 1
                (failed_sink if outcome.failed else sink).write(outcome.text)
                if outcome.failed:
                    summary.failed.append((outcome.index, outcome.error))
                else:
                    summary.outputs += outcome.count
                sink.flush()
                if on_progress:
                    on_progress(summary)
        except BaseException:
            backend.abort()
            raise
        backend.close()
    return summary
