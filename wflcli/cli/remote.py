"""``wfl remote``: the batch jobs ``--remote`` submitted, and the systems they run on."""

from __future__ import annotations

import json
import sys
import time

import click

from wflcli.cli.housekeeping import confirm_removal, format_when, parse_age
from wflcli.cli.complete import complete_system
from wflcli.errors import ExitStatus, UsageError
from wflcli.store.jobs import ENDED, TaskState

_STATES = tuple(state.value for state in TaskState)


@click.group()
def remote():
    """Batch jobs submitted with --remote, and the systems they run on.

    \b
    Example:
      wfl remote config                  # systems, and which file set each value
      wfl remote doctor cluster          # can wfl run jobs there?
      wfl remote ls --state running
      wfl remote show 12                 # script, paths and log of one task
      wfl remote sync && wfl remote clean --yes

    Systems are read from ~/.wflcli/config.toml and the nearest .wflcli/config.toml up
    from the working directory; the project's values win over the user's, and command-line
    options over both. Every task is recorded when it is submitted: IDs here are those
    records' numbers (the scheduler's job ids are in the JOB column).
    """


def _store():
    from wflcli.store.jobs import open_job_store

    return open_job_store()


def _system(name: str):
    from wflcli.cli.remote_run import remote_system

    return remote_system(name)


def _on_system(system, work):
    """Run ``work(transport)`` (a coroutine function) over one connection to the system."""
    return _on_systems([system], lambda transports: work(transports[system.name][1]))


def _on_systems(systems, work):
    """Run ``work({name: (system, transport)})`` with one open connection per system."""
    from wflcli.exec.transport import open_transport
    from wflcli.interrupts import run_async

    async def main():
        transports = {system.name: (system, open_transport(system)) for system in systems}
        try:
            return await work(transports)
        finally:
            for _, transport in transports.values():
                await transport.close()

    return run_async(main())


def _by_system(records):
    grouped: dict = {}
    for record in records:
        grouped.setdefault(record.system, []).append(record)
    return grouped


def _pick(store, ids: tuple[str, ...]):
    """The records named by ID (``-`` reads IDs from stdin, one per line or blank-separated)."""
    words = []
    for word in ids:
        words += sys.stdin.read().split() if word == "-" else [word]
    records = []
    for word in words:
        if not word.isdigit():
            raise UsageError(f"{word!r} is not a job record ID (see wfl remote ls)")
        record = store.get(int(word))
        if record is None:
            raise UsageError(f"no job record {word} (see wfl remote ls)")
        records.append(record)
    return records


@remote.command("ls")
@click.option("--system", "-s", metavar="SYS", help="Only jobs on this system.")
@click.option("--state", "states", multiple=True, type=click.Choice(_STATES),
              help="Only tasks in this state (repeatable).")
@click.option("--since", metavar="AGE", help="Only tasks submitted in the last AGE (2h, 3d).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def ls(system, states, since, as_json):
    """List recorded tasks, oldest first.

    \b
    Example:
      wfl remote ls --system cluster --state queued --state running
      wfl remote ls --json | jq -r 'select(.state == "failed") | .id'
    """
    after = time.time() - parse_age(since, "--since") if since else None
    records = _store().select(system, tuple(states), after)
    if as_json:
        for record in records:
            click.echo(json.dumps(record.as_json()))
        return ExitStatus.OK
    if not records:
        click.echo("no jobs recorded" + (" that match" if system or states or since else ""))
        return ExitStatus.OK
    click.echo(f"{'ID':>5}  {'SYSTEM':14} {'JOB':>10} {'TASK':>4}  {'STATE':9} {'VERB':12} "
               f"{'CONFIGS':>7} {'TRY':>3}  {'SUBMITTED':19}  REASON")
    for r in records:
        click.echo(f"{r.id:>5}  {r.system[:14]:14} {r.job_id:>10} {r.task:>4}  {r.state:9} "
                   f"{r.verb[:12]:12} {r.configs:>7} {r.attempt + 1:>3}  "
                   f"{format_when(r.submitted)}  {r.reason}")
    return ExitStatus.OK


@remote.command()
@click.argument("job_id", metavar="ID", type=int)
@click.option("--lines", "-n", default=20, show_default=True, help="Log lines to show.")
def show(job_id, lines):
    """One task: its record, files, job script and the end of its log.

    \b
    Example:
      wfl remote show 12
    """
    from wflcli.exec.batch.admin import read_task_file
    from wflcli.exec.batch.layout import task_file

    record = _store().get(job_id)
    if record is None:
        raise UsageError(f"no job record {job_id} (see wfl remote ls)")
    for key, value in record.as_json().items():
        if key in ("submitted", "updated"):
            value = format_when(value)
        elif key == "command":
            value = " ".join(value)
        elif key == "attempt":  # counted from 1, as the TRY column of wfl remote ls
            key, value = "try", value + 1
        click.echo(f"{key + ':':12} {value}")

    async def files(transport):
        names = ("job.sh", task_file("log", record.task), task_file("status", record.task))
        return [await read_task_file(transport, record, name) for name in names]

    script, log, status = _on_system(_system(record.system), files)
    click.echo(f"{'status:':12} {status.strip() if status else _absent(record, script)}")
    click.echo(f"\n--- {record.folder}/job.sh\n{script or '(gone: the job folder was removed)'}")
    tail = "\n".join(log.splitlines()[-lines:]) if log else (
        "(empty: wfl printed nothing, as a task that ran without trouble)" if log == "" else
        _absent(record, script))
    click.echo(f"--- {record.folder}/{task_file('log', record.task)} (last {lines} lines)\n"
               f"{tail}")
    return ExitStatus.OK


def _absent(record, script: str | None) -> str:
    """What a task file that is not there means, from what is known of the task."""
    if script is None:
        return "(gone: the job folder was removed)"
    if record.active:
        return "(not written yet)"
    return "(none: the task ended before writing it)"


@remote.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
def cancel(ids):
    """Cancel tasks (``-`` reads IDs from stdin); a running client then fails their configs
    instead of resubmitting them.

    \b
    Example:
      wfl remote cancel 12 13
      wfl remote ls --json --state queued | jq .id | wfl remote cancel -
    """
    from wflcli.exec.batch.admin import cancel_jobs

    store = _store()
    records = _pick(store, ids)
    for name, group in _by_system(records).items():
        found = _system(name)
        _on_system(found, lambda t, found=found, group=group: cancel_jobs(found, t, store,
                                                                         group))
    active = [r for r in records if r.active]
    click.echo(f"cancelled {len(active)} task(s)"
               + (f"; {len(records) - len(active)} had already ended" if len(active) <
                  len(records) else ""))
    return ExitStatus.OK


@remote.command()
@click.option("--system", "-s", metavar="SYS", help="Only this system.")
def sync(system):
    """Ask the schedulers about every queued or running task and update the records.

    \b
    Example:
      wfl remote sync && wfl remote ls --state failed
    """
    from wflcli.exec.batch.admin import sync_jobs

    store = _store()
    records = store.select(system, (TaskState.QUEUED, TaskState.RUNNING))
    changed: dict = {}
    for name, group in _by_system(records).items():
        found = _system(name)
        changed.update(_on_system(found, lambda t, found=found, group=group: sync_jobs(
            found, t, store, group)))
    counts = {state: list(changed.values()).count(state) for state in _STATES}
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    click.echo(f"checked {len(records)} active task(s)"
               + (f": now {summary}" if summary else ": no change"))
    return ExitStatus.OK


@remote.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--system", "-s", metavar="SYS", help="Only this system.")
@click.option("--state", "states", multiple=True,
              type=click.Choice(tuple(state.value for state in ENDED)),
              help="Only tasks that ended in this state (repeatable) [default: all].")
@click.option("--done", "only_done", is_flag=True, help="Same as --state done.")
@click.option("--older-than", metavar="AGE", help="Only tasks submitted before AGE ago.")
@click.option("--staged", is_flag=True,
              help="Also remove the staged input files (rundir/staged/) that no queued or "
                   "running task uses.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (required when not interactive).")
def clean(ids, system, states, only_done, older_than, staged, dry_run, yes):
    """Remove finished tasks: their job folders on the system and their records.

    Queued and running tasks are never touched (cancel them first); a job folder goes
    only when every task in it has finished, and only folders wflcli made in the system's
    rundir are removed. A job folder that is a symbolic link is never followed: it is kept,
    with its records, and named on stderr. With --staged, input files staged for jobs go
    too unless a queued or running task links to them (a later run uploads them again).

    \b
    Example:
      wfl remote clean --older-than 7d --dry-run
      wfl remote clean --done --yes
      wfl remote clean 12 13 --yes
      wfl remote clean --staged --system cluster --yes
    """
    store = _store()
    if ids:
        records = _pick(store, ids)
        busy = [r for r in records if r.active]
        if busy:
            raise UsageError(f"task {busy[0].id} is still {busy[0].state}: cancel it first "
                             "(wfl remote cancel)")
    else:
        before = time.time() - parse_age(older_than, "--older-than") if older_than else None
        wanted = set(states) | ({TaskState.DONE.value} if only_done else set())
        records = [r for r in store.select(system) if not r.active
                   and (not wanted or r.state in wanted)
                   and (before is None or r.submitted < before)]
    grouped = _by_system(records)
    if staged:
        from wflcli.exec.systems import load_config

        for name in [system] if system else sorted(load_config().systems):
            grouped.setdefault(name, [])
    if not grouped:
        click.echo("nothing to clean")
        return ExitStatus.OK
    return _on_systems([_system(name) for name in grouped], lambda transports: _clean(
        store, grouped, transports, staged, dry_run, yes))


async def _clean(store, grouped: dict, transports: dict, staged: bool, dry_run: bool,
                 yes: bool) -> int:
    """Plan on every system, say what goes, ask, then remove: one connection each."""
    from wflcli.exec.batch.admin import carry_out, plan_clean

    plans = []
    for name, group in grouped.items():
        system, transport = transports[name]
        plan = await plan_clean(system, transport, group, store.select(name), staged)
        plans.append(plan)
        for link in plan.links:
            click.echo(f"keeping {name}:{link} (a symbolic link: never followed; remove it "
                       "by hand)", err=True)
        for path in (*plan.folders, *plan.staged):
            click.echo(f"{'would remove' if dry_run else 'removing'} {name}:{path}", err=True)
        for folder in plan.kept:
            click.echo(f"keeping {name}:{folder} (a task in it is not finished, or it is "
                       "outside the rundir)", err=True)
    what = (f"{sum(len(p.records) for p in plans)} task record(s) and "
            f"{sum(len(p.folders) for p in plans)} job folder(s)"
            + (f" and {sum(len(p.staged) for p in plans)} staged input(s)" if staged else ""))
    if dry_run:
        click.echo(f"would remove {what}")
        return ExitStatus.OK
    if not any(p.records or p.folders or p.staged for p in plans):
        click.echo("nothing to clean")
        return ExitStatus.OK
    confirm_removal(what, yes)
    for plan in plans:
        await carry_out(transports[plan.system.name][1], plan)
        store.remove([r.id for r in plan.records])
    click.echo(f"removed {what}")
    return ExitStatus.OK


@remote.command()
@click.argument("system", shell_complete=complete_system)
def doctor(system):
    """Check that jobs can run on SYSTEM: connection, rundir, scheduler commands, and the
    far side's wfl (run as a job runs it, after the system's commands).

    \b
    Example:
      wfl remote doctor cluster
    """
    from wflcli import __version__
    from wflcli.exec.batch.admin import doctor as run_checks

    found = _system(system)
    checks = _on_system(found, lambda t: run_checks(found, t, __version__))
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.what}: {check.detail}")
    return ExitStatus.OK if all(check.ok for check in checks) else ExitStatus.ERROR


@remote.command()
@click.option("--json", "as_json", is_flag=True, help="The merged settings as JSON.")
def config(as_json):
    """The systems, merged from the config files, and the file each value came from.

    \b
    Example:
      wfl remote config

    \b
    ~/.wflcli/config.toml (or $WFLCLI_HOME/config.toml), for example:
      [systems.cluster]
      host = "me@login.cluster.example"    # or an ~/.ssh/config alias; absent: here
      scheduler = "slurm"                  # slurm, sge, pbs or local
      rundir = "~/wfl-runs"
      commands = ["module load python", "source ~/venvs/wfl/bin/activate"]
      [systems.cluster.env]                # exported in every job
      WFL_VASP_COMMAND = "srun vasp_std"
      VASP_PP_PATH = "/apps/vasp/potentials"
      [systems.cluster.partitions.standard]
      cores = 64
      memory = "256G"
      time = "2-00:00:00"
      default = true
    """
    from wflcli.exec.systems import load_config
    from wflcli.exec.systems_toml import annotated_toml

    loaded = load_config()
    if as_json:
        click.echo(json.dumps({"files": [str(f) for f in loaded.files],
                               "systems": loaded.systems}, indent=2))
        return ExitStatus.OK
    click.echo(annotated_toml(loaded))
    return ExitStatus.OK
