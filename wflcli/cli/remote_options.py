"""The global options of ``--remote``: which system, how configs are cut into jobs, and
what each job asks the scheduler for. Bundled into one RemoteOptions for the verbs."""

from __future__ import annotations

import functools

import click

from wflcli.cli.complete import complete_system
from wflcli.cli.settings import RemoteOptions

REMOTE_VERBS = ("calc", "committee", "defects", "descriptor", "map", "md", "minima-hopping",
                "neb", "normal-modes", "optimize", "phonons", "rattle", "supercell")

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
    click.option("--gpus", type=click.IntRange(min=0), default=0,
                 help="With --remote: GPUs per task."),
    click.option("--account", metavar="NAME", default="", help="With --remote: account."),
    click.option("--qos", metavar="NAME", default="", help="With --remote: quality of service."),
    click.option("--job-name", metavar="NAME", default="",
                 help="With --remote: job name [default: wfl-VERB]."),
    # the job side of --remote: where a batch task writes its outcomes, what it was given
    click.option("--outcomes", metavar="FILE", default=None, hidden=True),
    click.option("--positions", metavar="FILE", default=None, hidden=True),
]
_FIELDS = ("system", "per_job", "retries", "cores", "nodes", "memory", "time", "partition", "gpus",
           "account", "qos", "job_name")


def remote_options(command):
    """Add the options; the command receives ``remote`` (RemoteOptions), ``outcomes`` and
    ``positions`` instead of one argument per option."""

    @functools.wraps(command)
    def bundled(*args, **kwargs):
        remote = RemoteOptions(**{name: kwargs.pop(name) for name in _FIELDS})
        return command(*args, remote=remote, **kwargs)

    for option in reversed(_OPTIONS):
        bundled = option(bundled)
    return bundled
