"""The scheduler's verdict on a task that has left the queue, from its accounting (sacct,
qacct, ``qstat -x``): how it ended, its exit code, and what a user can do about it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EndState(enum.Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    NODE_FAIL = "NODE_FAIL"
    CANCELLED = "CANCELLED"
    PREEMPTED = "PREEMPTED"


_HINTS = {
    EndState.TIMEOUT: "give it more --time, or fewer configs per task (--per-job)",
    EndState.OUT_OF_MEMORY: "give it more --mem (or fewer workers: --cores)",
    EndState.NODE_FAIL: "its node failed: nothing to change, it is submitted again",
    EndState.PREEMPTED: "the scheduler preempted it for other work: it is submitted again",
    EndState.CANCELLED: "cancelled outside wfl (scancel, qdel or an administrator)",
    EndState.FAILED: "its log says why: wfl remote show ID",
}


@dataclass(frozen=True)
class Verdict:
    scheduler: str               # "SLURM", "Grid Engine", "PBS"
    state: EndState
    exit_code: str = ""          # as the scheduler writes it (SLURM: code:signal)
    detail: str = ""             # the scheduler's own words, when they add something

    @property
    def hint(self) -> str:
        return _HINTS.get(self.state, "")

    def describe(self) -> str:
        """One line for the record's reason: verdict, exit code, detail, then the hint."""
        text = f"{self.scheduler}: {self.state.value}"
        extras = [f"exit code {self.exit_code}"] if self.exit_code else []
        extras += [self.detail] if self.detail else []
        if extras:
            text += f" ({', '.join(extras)})"
        return text + (f". Hint: {self.hint}" if self.hint else "")
