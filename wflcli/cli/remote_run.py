"""``--remote`` for the per-config verbs: the command line a batch task runs, and the
batch backend that runs it on the chosen system."""

from __future__ import annotations

import os

import click

from wflcli.cli.notices import say
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


def portable_args(command: click.Command, args: list[str],
                  job_side: set = _JOB_SIDE) -> list[str]:
    """The verb's options as the user typed them, without input files, ``-o`` and
    ``--failed`` (or the ``job_side`` parameters): a task runs them on its own chunk and
    writes its own files."""
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
        if param.name not in job_side:
            kept.extend(words)
    return kept


def remote_command(settings: Settings, verb_words: list[str], verb_args: list[str],
                   workers: int) -> list[str]:
    """Global options and the verb (one word, or a group's two: ``phonons displace``), as
    one task runs them."""
    gpus = ["--gpus", str(settings.remote.gpus)] if settings.remote.gpus else []
    return ["--seed", str(settings.seed), "--parallel", str(workers), *gpus, "--chunk",
            str(settings.chunk), *verb_words, *verb_args]


def system_resources(settings: Settings):
    """The ``--remote`` system and what each of its tasks asks for, checked against its
    partition (a usage error names what is wrong)."""
    options = settings.remote
    if options.gpu_ids:
        raise UsageError(f"--gpus {','.join(options.gpu_ids)}: device IDs are for this "
                         "machine; with --remote give a count (GPUs per task)")
    system = remote_system(options.system)
    return system, task_resources(
        system, cores=options.cores or settings.parallel, memory=options.memory,
        time=options.time, partition=options.partition, gpus=options.gpus,
        account=options.account, qos=options.qos, nodes=options.nodes)


def on_event_echo(settings: Settings, verb: str):
    """What a batch run reports as it goes, on stderr unless -q."""

    def on_event(message: str) -> None:
        if not settings.quiet:
            say(f"wfl {verb}: {message}")

    return on_event


def batch_backend(settings: Settings, verb: str, threads: int | None = None,
                  args: list[str] | None = None, task=None):
    """The backend for ``--remote SYS``, or a usage error naming what is wrong. A task
    whose calculations take ``threads`` each runs cores / threads of them at once; it runs
    the verb with ``args``, else with the options typed here. The files the arguments
    name, ``--stage`` and the system's ``stage`` list travel with the jobs; a ``task``
    with a file-based code's folders (``--keep-files``) gets them back."""
    from wflcli.exec.batch.backend import BatchBackend
    from wflcli.exec.batch.spec import BatchSpec

    options = settings.remote
    system, resources = system_resources(settings)
    cores = resources.cores
    context = click.get_current_context()
    if args is None:
        args = portable_args(context.command, context.meta.get(VERB_ARGS, []))
    fetch = None
    if _runs_a_code(task):
        args, fetch = remote_scratch(args, task.folders)
    staging = input_staging(args, (*system.stage, *options.stage))
    workers = max(1, cores // threads) if threads else cores
    if options.nodes > 1:  # the code's MPI ranks span the nodes: one config at a time
        workers = 1
    words = context.command_path.split()[1:]  # as typed, without the program's name
    spec = BatchSpec(verb=verb, command=remote_command(settings, words, args, workers),
                     resources=resources, job_name=options.job_name or f"wfl-{verb}",
                     retries=options.retries, reuse_done=not settings.refresh,
                     drain_margin=options.drain_margin, staging=staging, fetch=fetch)
    return BatchBackend(system, spec, on_event=on_event_echo(settings, verb))


def _runs_a_code(task) -> bool:
    """Whether the task runs a file-based code in config folders (``wfl calc``)."""
    from wflcli.calculators.filecalc import is_file_based

    return getattr(task, "folders", None) is not None and is_file_based(task.calc)


REMOTE_SCRATCH = "wfl-calc-files"  # in the job folder: every task's config folders


def remote_scratch(args: list[str], folders):
    """The arguments with ``--scratch`` set to a folder in the job folder, and what brings
    the config folders back into the local ``--scratch`` (None with ``--keep-files
    none``): the remote copies go when the job folder is cleaned, the local ones stay."""
    from wflcli.calculators.scratch import folder_name, new_folder
    from wflcli.exec.batch.fetch import FolderFetch

    kept, position = [], 0
    while position < len(args):
        word = args[position]
        position += 1
        if word == "--scratch":
            position += 1
        elif not word.startswith("--scratch="):
            kept.append(word)
    kept += ["--scratch", REMOTE_SCRATCH]
    if folders.keep == "none":
        return kept, None
    return kept, FolderFetch(REMOTE_SCRATCH, folder_name,
                             lambda index: new_folder(folders.scratch, index))


def input_staging(args: list[str], stage: tuple):
    """The staging plan for what ``args`` name (model files with their companions and any
    other file a ``--calc`` value names, ``--calc-kwargs FILE``, the user's ``.py`` files
    with their sibling modules) and for the ``stage`` paths; a missing ``--stage`` path is
    a usage error before submission."""
    from wflcli.exec.batch.staging import plan_staging

    files, modules = [], []
    for previous, word in zip(["", *args], args):
        option, equals, value = word.partition("=") if word.startswith("--") else ("", "", word)
        if equals:
            previous, word = option, value
        if previous == "--calc-kwargs" and os.path.isfile(word):
            files.append((word, "--calc-kwargs"))
            continue
        kind, colon, rest = word.partition(":")
        if kind == "python" and colon:
            word, _, rest = rest.partition(",")
        elif colon and kind.isidentifier() and not kind.endswith(".py"):  # a --calc spec
            files += [(value, "--calc") for value in _values(rest) if os.path.isfile(value)]
            continue
        code = word.rpartition(":")[0]
        if code.endswith(".py") and os.path.isfile(code):
            modules.append((code, previous or "map"))
        files += [(value, "--calc") for value in _values(rest) if os.path.isfile(value)]
    folders = [(path, "--stage") for path in stage if not os.path.isfile(path)]
    files += [(path, "--stage") for path in stage if os.path.isfile(path)]
    return plan_staging(files=files, modules=modules, folders=folders)


def _values(parameters: str) -> list[str]:
    """The values of ``gap:GAP.xml,e0=1,table=t.csv``'s part after the colon."""
    return [part.partition("=")[2] or part for part in parameters.split(",") if part]


def report_costs(verb: str, system: str, counters) -> None:
    """One line on stderr: what the run cost the scheduler."""
    click.echo(f"wfl {verb}: {system}: {counters.jobs} job(s) with {counters.tasks} task(s) "
               f"submitted ({counters.resubmitted} resubmitted, {counters.reattached} "
               f"re-attached, {counters.drained} stopped in time), {counters.queries} queue "
               f"queries ({counters.shared} more answered by other wfl processes), "
               f"{counters.explains} accounting look-up(s) for tasks that left the queue "
               "without a status file", err=True)


def task_states(backend) -> str:
    """A batch run's tasks for the progress line: ``tasks 2 queued, 1 running, 3 ended``
    (ended: results fetched, or given up; a task sent again counts once)."""
    from wflcli.store.jobs import TaskState

    engine = backend.engine
    if engine is None:
        return ""
    watching = [chunk.record for chunk in list(engine.watching) if chunk.record is not None]
    running = sum(record.state is TaskState.RUNNING for record in watching)
    counters = engine.counters
    placed = counters.tasks + counters.reattached - counters.resubmitted
    if not placed:
        return ""
    ended = max(0, placed - len(watching))
    return f"tasks {len(watching) - running} queued, {running} running, {ended} ended"


def read_positions(path: str) -> list[int]:
    """A batch task's positions file: one input index per line."""
    try:
        with open(path, encoding="utf-8") as stream:
            return [int(line) for line in stream if line.strip()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"--positions {path}: {exc}") from None
