"""The one place that decides what has become of an array task, from what one poll saw:
the queue's state, the scheduler's verdict (asked only once the task left the queue),
whether its status file is there, and how many polls in a row it has been missing.

The run loop (``engine.py``) and ``wfl remote sync`` (``admin.py``) both call ``classify``,
so a client and a later sync say the same of the same task.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wflcli.exec.schedulers import QueueState
from wflcli.exec.schedulers.verdict import EndState, Verdict
from wflcli.store.jobs import TaskState

MISSED_POLLS = 2  # absent this often, with no verdict and no status file: lost


class Action(enum.Enum):
    COLLECT = "collect"  # the status file is there: read the results
    WAIT = "wait"        # in the queue, or not missing for long enough to conclude
    CANCEL = "cancel"    # stuck in an error state: cancel it, then it is lost
    LOST = "lost"        # ended without results: submit again or fail its configs


@dataclass(frozen=True)
class Decision:
    action: Action
    state: TaskState | None = None  # the record's state from now on (None: unchanged)
    reason: str = ""


def classify(queue: QueueState, verdict: Verdict | None, status_present: bool,
             missed: int, missing: tuple[str, ...] = ()) -> Decision:
    """``missed``: polls in a row, this one included, that found the task ABSENT;
    ``missing``: the task's result files not in its folder (named in the reason)."""
    if status_present:
        return Decision(Action.COLLECT)
    if queue is QueueState.STUCK:
        return Decision(Action.CANCEL, TaskState.FAILED, "stuck in the queue (error state)")
    if queue in (QueueState.QUEUED, QueueState.RUNNING):
        return Decision(Action.WAIT, TaskState(queue.value))
    if queue is QueueState.UNKNOWN:
        return Decision(Action.WAIT)
    files = f"missing: {', '.join(missing)}" if missing else "its status file is missing"
    if verdict is not None and verdict.state is not EndState.COMPLETED:
        return Decision(Action.LOST, TaskState.FAILED, f"{verdict.describe()} ({files})")
    if missed < MISSED_POLLS:
        return Decision(Action.WAIT)  # accounting and shared file systems lag a little
    said = (verdict.describe() if verdict is not None else
            "left the queue without a verdict from the scheduler (SLURM keeps none for a "
            "task cancelled while pending)")
    return Decision(Action.LOST, TaskState.FAILED,
                    f"{said}; no results after {missed} polls ({files})")
