"""Batch schedulers: job scripts, and the commands that submit, query and cancel.

A scheduler turns a JobRequest (name, number of array tasks, resources, the shell lines a
task runs) into a job script, and gives argument lists for ``submit``, ``query`` (one call
for all of this process's jobs), ``explain`` (why a finished task ended) and ``cancel``,
with parsers for their output. It runs nothing itself: the transport does.

Array tasks are numbered 1..N everywhere; the script puts the task number in ``$TASK``.
"""

from __future__ import annotations

import enum
import re
import shlex
from dataclasses import dataclass, field

from wflcli.exec.schedulers.verdict import Verdict


class QueueState(enum.Enum):
    """What the queue says of a task at one poll."""

    QUEUED = "queued"
    RUNNING = "running"
    STUCK = "stuck"        # an error state it will not leave by itself (Grid Engine's Eqw)
    ABSENT = "absent"      # no longer in the queue: ended, or never seen
    UNKNOWN = "unknown"    # the query itself failed: nothing can be concluded


QUEUED, RUNNING, STUCK = QueueState.QUEUED, QueueState.RUNNING, QueueState.STUCK


@dataclass(frozen=True)
class Resources:
    cores: int = 1       # per node
    memory: str = ""     # per job, e.g. 4G
    time: str = ""       # walltime [D-]HH:MM:SS
    partition: str = ""
    gpus: int = 0
    account: str = ""
    qos: str = ""
    nodes: int = 1       # more than one: an MPI code spans them, one config at a time
    pe: str = ""         # Grid Engine: the parallel environment of a multi-node job


@dataclass
class JobRequest:
    name: str
    tasks: int
    folder: str                 # where the job runs (on the system)
    body: list[str]             # shell lines one task runs, with $TASK set
    resources: Resources = field(default_factory=Resources)
    header: tuple = ()          # extra directive lines from the systems config
    commands: tuple = ()        # set-up lines from the systems config
    drain_margin: int | None = None  # seconds; None: the task's own rule; 0: no draining

    @property
    def drains(self) -> bool:
        return self.drain_margin != 0


def safe_job_name(name: str) -> str:
    """Job names go into directives, so they keep only letters, digits, '.', '_' and '-'."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip("-.") or "wfl"
    return cleaned[:64]


class Scheduler:
    name = ""
    prefix = ""            # directive prefix, e.g. "#SBATCH"
    task_variable = ""     # the environment variable holding the array task number

    def directives(self, request: JobRequest) -> list[str]:
        raise NotImplementedError

    def script(self, request: JobRequest) -> str:
        lines = ["#!/bin/bash"]
        lines += [f"{self.prefix} {d}" for d in self.directives(request)]
        lines += list(request.header)
        lines += [f"# wflcli job {safe_job_name(request.name)}: {request.tasks} task(s)",
                  f"TASK=${{{self.task_variable}:-1}}",
                  'case $TASK in ""|*[!0-9]*) echo "bad task number: $TASK" >&2; exit 2;; esac',
                  f"cd {shlex.quote(request.folder)} || exit 2"]
        lines += drain_lines(request)
        if request.resources.nodes > 1:  # {nodes} and {cores} of a code's command
            r = request.resources
            lines.append(f"export WFL_NODES={r.nodes} WFL_CORES={r.nodes * r.cores}")
        lines += list(request.commands)
        lines += request.body
        return "\n".join(lines) + "\n"

    # each returns an argument list run in the job's folder
    def submit_argv(self, script: str, tasks: int) -> list[str]:
        raise NotImplementedError

    def parse_submit(self, stdout: str) -> str:
        raise NotImplementedError

    def query_argv(self, job_ids: list[str]) -> list[str]:
        raise NotImplementedError

    def parse_query(self, stdout: str) -> dict[tuple[str, int], str]:
        """{(job id, task): QueueState} for every task still in the queue."""
        raise NotImplementedError

    def explain_argv(self, job_id: str, task: int) -> list[str] | None:
        """The accounting query for an ended task (None: the scheduler keeps none)."""
        return None

    def parse_explain(self, stdout: str) -> Verdict | None:
        return None

    def log_name(self, job_id: str, task: int) -> str | None:
        """The scheduler's own log of a task in the job folder (its kill messages)."""
        return None

    def refine(self, verdict: Verdict, log: str) -> Verdict:
        """The verdict, sharpened by what the scheduler wrote into the task's log."""
        return verdict

    def cancel_argv(self, tasks: list[tuple[str, int]]) -> list[str]:
        raise NotImplementedError


def drain_lines(request: JobRequest) -> list[str]:
    """The environment that lets a task stop in time (see ``exec/batch/drain.py``), set
    before anything else runs so the walltime counts from the task's start."""
    if not request.drains:
        return []
    lines = []
    if request.resources.time:
        lines.append(f"export WFL_DEADLINE=$(( $(date +%s) + "
                     f"{walltime_seconds(request.resources.time)} ))")
    if request.drain_margin is not None:
        lines.append(f"export WFL_DRAIN_MARGIN={request.drain_margin}")
    # SIGTERM ahead of the kill: wfl finishes the configs in progress and starts no more
    return lines + ['export WFL_DRAIN_FILE="$PWD/drain-$TASK"',
                    'trap \'touch "$WFL_DRAIN_FILE"\' TERM']


def get_scheduler(name: str) -> Scheduler:
    from wflcli.exec.schedulers.local import LocalScheduler
    from wflcli.exec.schedulers.pbs import PBSScheduler
    from wflcli.exec.schedulers.sge import SGEScheduler
    from wflcli.exec.schedulers.slurm import SlurmScheduler

    return {"slurm": SlurmScheduler, "sge": SGEScheduler, "pbs": PBSScheduler,
            "local": LocalScheduler}[name]()


def leading_id(text: str, what: str) -> str:
    """The job id at the start of a submit command's output."""
    match = re.match(r"\s*(\d+)", text)
    if not match:
        raise ValueError(f"{what} printed no job id: {text.strip()[:200]!r}")
    return match.group(1)


def expand_tasks(text: str) -> list[int]:
    """'3', '4-10:2', '1,5-6' (Grid Engine's and SLURM's task lists) -> numbers."""
    numbers: list[int] = []
    for part in text.strip("[]").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?(?:%\d+)?", part.strip())
        if match:
            first = int(match.group(1))
            last = int(match.group(2) or first)
            numbers.extend(range(first, last + 1, int(match.group(3) or 1)))
    return numbers


def walltime_seconds(text: str) -> int:
    """'90' (minutes), 'MM:SS', 'H:MM:SS', 'D-H', 'D-H:MM', 'D-H:MM:SS' (SLURM's forms)."""
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a walltime ([D-]H:MM:SS)")
    days, first, second, third = match.groups()
    if days is None and second is None:  # minutes alone may pass 59
        return 60 * int(first)
    if days is not None:  # D-H[:MM[:SS]]
        hours, minutes, seconds = int(first), int(second or 0), int(third or 0)
        hours += 24 * int(days)
    elif third is not None:
        hours, minutes, seconds = int(first), int(second), int(third)
    else:  # MM:SS
        hours, minutes, seconds = 0, int(first), int(second)
    if minutes > 59 or seconds > 59:
        raise ValueError(f"{text!r} is not a walltime (minutes and seconds go up to 59)")
    return 3600 * hours + 60 * minutes + seconds


_UNITS = {"": 2 ** 20, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}


def memory_bytes(text: str) -> int:
    """'4G', '500M', '2048' (megabytes, as SLURM reads it), '8gb' (PBS) -> bytes."""
    match = re.fullmatch(r"(\d+)\s*([KMGT]?)B?", text.strip().upper())
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 4G or 500M)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_walltime(seconds: int) -> str:
    """H:MM:SS, which SLURM, Grid Engine and PBS all read (hours may pass 24)."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
