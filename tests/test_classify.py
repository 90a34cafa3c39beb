"""The classifier that the run loop and ``wfl remote sync`` share: every combination of
queue state, verdict, status file and missed polls, as a table."""

from __future__ import annotations

import itertools

import pytest

from wflcli.exec.batch.classify import MISSED_POLLS, Action, classify
from wflcli.exec.schedulers import QueueState
from wflcli.exec.schedulers.verdict import EndState, Verdict
from wflcli.store.jobs import TaskState

Q = QueueState
VERDICTS = [None, *(Verdict("SLURM", end, "0:0") for end in EndState)]
MISSING = ("out-1.xyz", "status-1.json")


def expected(queue, verdict, status, missed):
    """The rules, stated once more in the order a reader checks them."""
    if status:
        return Action.COLLECT, None
    if queue is Q.STUCK:
        return Action.CANCEL, TaskState.FAILED
    if queue in (Q.QUEUED, Q.RUNNING):
        return Action.WAIT, TaskState(queue.value)
    if queue is Q.UNKNOWN:
        return Action.WAIT, None
    if verdict is not None and verdict.state is not EndState.COMPLETED:
        return Action.LOST, TaskState.FAILED
    if missed >= MISSED_POLLS:
        return Action.LOST, TaskState.FAILED
    return Action.WAIT, None


CASES = list(itertools.product(QueueState, VERDICTS, (False, True),
                               range(0, MISSED_POLLS + 2)))


@pytest.mark.parametrize("queue, verdict, status, missed", CASES)
def test_every_combination(queue, verdict, status, missed):
    decision = classify(queue, verdict, status, missed, MISSING)
    assert (decision.action, decision.state) == expected(queue, verdict, status, missed)
    if decision.action is Action.LOST:
        assert "missing: out-1.xyz, status-1.json" in decision.reason
        if verdict is not None:
            assert decision.reason.startswith(f"SLURM: {verdict.state.value}")


@pytest.mark.parametrize("end, words", [
    (EndState.TIMEOUT, "more --time"), (EndState.OUT_OF_MEMORY, "more --mem"),
    (EndState.NODE_FAIL, "submitted again"), (EndState.PREEMPTED, "preempted"),
    (EndState.CANCELLED, "outside wfl"), (EndState.FAILED, "wfl remote show")])
def test_each_verdict_carries_a_hint(end, words):
    reason = classify(Q.ABSENT, Verdict("SLURM", end, "0:15"), False, 1).reason
    assert reason.startswith(f"SLURM: {end.value} (exit code 0:15). Hint: ") and words in reason


def test_a_task_that_vanished_without_a_trace_says_so():
    decision = classify(Q.ABSENT, None, False, MISSED_POLLS, MISSING)
    assert decision.action is Action.LOST
    assert decision.reason.startswith("left the queue without a verdict from the scheduler")
    assert f"no results after {MISSED_POLLS} polls" in decision.reason
