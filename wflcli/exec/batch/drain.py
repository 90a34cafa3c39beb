"""Stopping a batch task in time: before each config, a task with a walltime asks whether
enough time is left to start it, so it ends with its finished configs written instead of
being killed with all of them.

The job script sets, at the task's start: ``WFL_DEADLINE`` (epoch seconds when the
walltime ends), ``WFL_DRAIN_MARGIN`` (seconds to keep in hand; unset: twice the longest
config so far, at least 60 s) and ``WFL_DRAIN_FILE``, which the script creates when the
scheduler sends SIGTERM ahead of the kill (SLURM's ``--signal=B:TERM@margin``). Forked
workers inherit them. Configs not started are reported as such, and the client submits
them again without counting a retry.
"""

from __future__ import annotations

import os
import time

DEFAULT_MARGIN_SECONDS = 60.0


class Drain:
    def __init__(self, deadline: float | None, margin: float | None, flag: str | None):
        self.deadline, self.margin, self.flag = deadline, margin, flag
        self.longest = 0.0

    @classmethod
    def from_environment(cls) -> "Drain":
        def number(name):
            text = os.environ.get(name, "")
            try:
                return float(text) if text else None
            except ValueError:
                return None

        return cls(number("WFL_DEADLINE"), number("WFL_DRAIN_MARGIN"),
                   os.environ.get("WFL_DRAIN_FILE") or None)

    def stop_now(self) -> bool:
        """True when the next config must not be started. A worker always starts its first
        config on the walltime's account, so each task makes progress."""
        if self.flag and os.path.exists(self.flag):
            return True
        if self.deadline is None or self.longest == 0.0:
            return False
        margin = self.margin if self.margin is not None else max(DEFAULT_MARGIN_SECONDS,
                                                                 2 * self.longest)
        return time.time() + margin > self.deadline

    def took(self, seconds: float) -> None:
        self.longest = max(self.longest, seconds, 1e-6)


_current: Drain | None = None


def current() -> Drain:
    """This process's drain rule, read from the environment once (workers inherit it)."""
    global _current
    if _current is None:
        _current = Drain.from_environment()
    return _current
