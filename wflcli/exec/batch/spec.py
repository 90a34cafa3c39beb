"""What a batch run is asked to do and what it cost, and the two ways it can go wrong:
shared by the array engine (per-config chunks) and whole-input jobs (one fit, one split)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wflcli.errors import WflError
from wflcli.exec.schedulers import Resources


class RemoteRunError(WflError):
    """The far side cannot run this command at all (wrong arguments, wfl missing)."""


class TaskLost(RuntimeError):
    """An array task ended without results; the message is the scheduler's reason."""


@dataclass
class BatchSpec:
    """Everything a batch run needs besides the system: what to run, and how big."""

    verb: str
    command: list[str]           # global options, verb and its options, run in each task
    resources: Resources = field(default_factory=Resources)
    job_name: str = "wfl"
    retries: int = 2
    reuse_done: bool = True      # False with --refresh: finished tasks are run again
    drain_margin: int | None = None  # seconds; None: the task's own rule; 0: never drain
    staging: object = None       # a staging.StagePlan: input files that travel with jobs
    fetch: object = None         # async fetch(transport, folder, items): files brought back


@dataclass
class Counters:
    """What the run cost the scheduler: reported at the end and by the benchmark."""

    jobs: int = 0
    tasks: int = 0
    resubmitted: int = 0
    reattached: int = 0
    queries: int = 0
    explains: int = 0
    cancels: int = 0
    drained: int = 0
    shared: int = 0              # queue answers taken from another wfl process
