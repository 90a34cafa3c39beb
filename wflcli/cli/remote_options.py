"""The global options of ``--remote``: which system, how configs are cut into jobs, and
what each job asks the scheduler for. Bundled into one RemoteOptions for the verbs."""

from __future__ import annotations

import functools
import os

import click

from wflcli.cli.complete import complete_system
from wflcli.cli.outputs import output_file_option
from wflcli.cli.settings import RemoteOptions

REMOTE_VERBS = ("calc", "committee", "defects", "descriptor", "map", "md", "minima-hopping",
                "neb", "normal-modes", "optimize", "phonons", "pipe", "rattle",
                "supercell")
# verbs that read their whole input: with --remote, one job (cli/remote_whole.py)
WHOLE_VERBS = ("error", "fit-gap", "fit-mace", "select-cur", "select-flat", "select-fps",
               "select-hull", "select-top", "split")


class GpuOption(click.ParamType):
    """``--gpus 2`` (a count) or ``--gpus 0,1,2,3`` (device IDs): (count, IDs)."""

    name = "gpus"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text), ()
        ids = tuple(part.strip() for part in text.split(","))
        if not all(part.isdigit() for part in ids):
            self.fail(f"{value!r} is neither a count nor device IDs like 0,1,2,3", param, ctx)
        return len(ids), ids


_OPTIONS = [
    click.option("--remote", "system", metavar="SYS", default="", envvar="WFL_REMOTE",
                 shell_complete=complete_system,
                 show_envvar=True, help="Run as batch jobs on this system (config.toml)."),
    click.option("--per-job", type=click.IntRange(min=1), default=50, envvar="WFL_PER_JOB",
                 show_envvar=True, show_default=True,
                 help="With --remote: configs per array task."),
    click.option("--retries", type=click.IntRange(min=0), default=2, envvar="WFL_RETRIES",
                 show_envvar=True, show_default=True,
                 help="With --remote: resubmit a killed task this often."),
    click.option("--cores", type=click.IntRange(min=1), default=None,
                 help="With --remote: cores per task (wfl runs --parallel CORES there) "
                      "[default: --parallel]."),
    click.option("--nodes", type=click.IntRange(min=1), default=1, show_default=True,
                 help="With --remote: nodes per task, for a code run with MPI across them: "
                      "a task then runs one config at a time on all NODES x CORES cores "
                      "({nodes} and {cores} in WFL_<CODE>_COMMAND). SLURM --nodes, PBS "
                      "select=NODES; Grid Engine asks its MPI parallel environment "
                      "(the partition's pe, default mpi) for NODES x CORES slots."),
    click.option("--mem", "memory", metavar="SIZE", default="",
                 help="With --remote: memory per task, e.g. 4G."),
    click.option("--time", metavar="[D-]H:MM:SS", default="",
                 help="With --remote: walltime per task."),
    click.option("--partition", metavar="NAME", default="",
                 help="With --remote: partition (queue) [default: the system's default]."),
    click.option("--gpus", type=GpuOption(), default="0", metavar="N|ID,ID...",
                 help="GPUs, one per --parallel worker (CUDA_VISIBLE_DEVICES): a count (with "
                      "--remote, per task), or the device IDs to use here."),
    click.option("--account", metavar="NAME", default="", help="With --remote: account."),
    click.option("--qos", metavar="NAME", default="", help="With --remote: quality of service."),
    click.option("--job-name", metavar="NAME", default="",
                 help="With --remote: job name [default: wfl-VERB]."),
    click.option("--drain-margin", type=click.IntRange(min=0), default=None,
                 metavar="SECONDS",
                 help="With --remote: a task stops starting configs when less than this is "
                      "left of its walltime, and the rest go to a new task; 0: never "
                      "[default: twice its longest config, at least 60]."),
    click.option("--stage", metavar="PATH", multiple=True, type=click.Path(),
                 help="With --remote: a file or folder every job needs (pseudopotentials, "
                      "basis sets), uploaded once per content to the system's "
                      "rundir/staged/ and found in the job by the path as typed (repeatable; "
                      "adds to the system's stage list)."),
    # the job side of --remote: where a batch task writes its outcomes, what it was given
    output_file_option("--outcomes", hidden=True),
    click.option("--positions", metavar="FILE", default=None, hidden=True),
]
_FIELDS = ("system", "per_job", "retries", "cores", "nodes", "memory", "time", "partition",
           "gpus", "account", "qos", "job_name", "drain_margin", "stage")


def worker_devices(remote: RemoteOptions, environ=os.environ) -> list[str]:
    """The GPU each worker gets, in turn: the IDs given, else the first ``--gpus`` of the
    devices the scheduler made visible (CUDA_VISIBLE_DEVICES), else 0..N-1."""
    if remote.gpu_ids:
        return list(remote.gpu_ids)
    if not remote.gpus:
        return []
    visible = [d for d in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return (visible or [str(i) for i in range(remote.gpus)])[:remote.gpus]


def remote_options(command):
    """Add the options; the command receives ``remote`` (RemoteOptions), ``outcomes`` and
    ``positions`` instead of one argument per option."""

    @functools.wraps(command)
    def bundled(*args, **kwargs):
        values = {name: kwargs.pop(name) for name in _FIELDS}
        values["gpus"], values["gpu_ids"] = values["gpus"]
        remote = RemoteOptions(**values)
        return command(*args, remote=remote, **kwargs)

    for option in reversed(_OPTIONS):
        bundled = option(bundled)
    return bundled
