"""``--remote`` for the per-config verbs: the command line a batch task runs, and the
batch backend that runs it on the chosen system."""

from __future__ import annotations

import click

from wflcli.cli.settings import Settings
from wflcli.errors import UsageError

VERB_ARGS = "wfl.verb_args"      # ctx.meta key: the verb's arguments as typed
_JOB_SIDE = {"files", "output", "failed_output"}  # each task gets its own
# the option that asks for each resource (the names of exec/batch/resources.py)
REQUEST_FLAGS = {"partition": "--partition", "time": "--time", "memory": "--mem",
                 "cores": "--cores", "nodes": "--nodes", "gpus": "--gpus"}


def remote_system(name: str):
    """The system of that name from the systems config, or a usage error naming it as
    ``--remote`` does."""
    from wflcli.exec.systems import UnknownSystem, load_config

    try:
        return load_config().system(name)
    except UnknownSystem as exc:
        raise UsageError(f"--remote {exc.name}: {exc.fact}") from None


def task_resources(system, **requests):
    """``resolve_resources`` with a refusal worded as the option that asked."""
    from wflcli.exec.batch.resources import RequestRefused, resolve_resources

    try:
        return resolve_resources(system, **requests)
    except RequestRefused as exc:
        value = "" if exc.value is None else f" {exc.value}"
        raise UsageError(f"{REQUEST_FLAGS[exc.request]}{value}: {exc.fact}") from None


def portable_args(command: click.Command, args: list[str]) -> list[str]:
    """The verb's options as the user typed them, without input files, ``-o`` and
    ``--failed``: a task runs them on its own chunk and writes its own files."""
    options = {flag: param for param in command.params if isinstance(param, click.Option)
               for flag in (*param.opts, *param.secondary_opts)}
    kept, position = [], 0
    while position < len(args):
        token = args[position]
        position += 1
        if token == "--":
            break  # only input files follow
        name, equals, _ = token.partition("=") if token.startswith("--") else (token, "", "")
        param = options.get(name)
        attached = False
        if param is None and len(token) > 2 and token[0] == "-" and token[1] != "-":
            param, attached = options.get(token[:2]), True  # -oFILE, or flags -qv
        if param is None:
            if token.startswith("-") and token != "-":
                kept.append(token)
            continue  # an input file
        words = [token]
        if not (param.is_flag or param.count or equals or attached):
            words += args[position:position + param.nargs]
            position += param.nargs
        if param.name not in _JOB_SIDE:
            kept.extend(words)
    return kept


def remote_command(settings: Settings, verb_words: list[str], verb_args: list[str],
                   workers: int) -> list[str]:
    """Global options and the verb (one word, or a group's two: ``phonons displace``), as
    one task runs them."""
    gpus = ["--gpus", str(settings.remote.gpus)] if settings.remote.gpus else []
    return ["--seed", str(settings.seed), "--parallel", str(workers), *gpus, "--chunk",
            str(settings.chunk), *verb_words, *verb_args]


def batch_backend(settings: Settings, verb: str, threads: int | None = None,
                  args: list[str] | None = None):
    """The backend for ``--remote SYS``, or a usage error naming what is wrong. A task
    whose calculations take ``threads`` each runs cores / threads of them at once; it runs
    the verb with ``args``, else with the options typed here."""
    from wflcli.exec.batch.backend import BatchBackend
    from wflcli.exec.batch.engine import BatchSpec

    options = settings.remote
    if options.gpu_ids:
        raise UsageError(f"--gpus {','.join(options.gpu_ids)}: device IDs are for this "
                         "machine; with --remote give a count (GPUs per task)")
    system = remote_system(options.system)
    cores = options.cores or settings.parallel
    resources = task_resources(system, cores=cores, memory=options.memory, time=options.time,
                               partition=options.partition, gpus=options.gpus,
                               account=options.account, qos=options.qos, nodes=options.nodes)
    context = click.get_current_context()
    if args is None:
        args = portable_args(context.command, context.meta.get(VERB_ARGS, []))
    workers = max(1, cores // threads) if threads else cores
    if options.nodes > 1:  # the code's MPI ranks span the nodes: one config at a time
        workers = 1
    words = context.command_path.split()[1:]  # as typed, without the program's name
    spec = BatchSpec(verb=verb, command=remote_command(settings, words, args, workers),
                     resources=resources, job_name=options.job_name or f"wfl-{verb}",
                     retries=options.retries, reuse_done=not settings.refresh,
                     drain_margin=options.drain_margin)

    def on_event(message: str) -> None:
        if not settings.quiet:
            click.echo(f"wfl {verb}: {message}", err=True)

    return BatchBackend(system, spec, on_event=on_event)


def report_costs(verb: str, system: str, counters) -> None:
    """One line on stderr: what the run cost the scheduler."""
    click.echo(f"wfl {verb}: {system}: {counters.jobs} job(s) with {counters.tasks} task(s) "
               f"submitted ({counters.resubmitted} resubmitted, {counters.reattached} "
               f"re-attached, {counters.drained} stopped in time), {counters.queries} queue "
               f"queries ({counters.shared} more answered by other wfl processes), "
               f"{counters.explains} post-mortems", err=True)


def read_positions(path: str) -> list[int]:
    """A batch task's positions file: one input index per line."""
    try:
        with open(path, encoding="utf-8") as stream:
            return [int(line) for line in stream if line.strip()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"--positions {path}: {exc}") from None
