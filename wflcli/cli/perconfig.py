"""What every per-config verb shares on the command line: inputs, ``-o``, ``--failed``,
and running the task with progress, a closing summary and the exit code."""

from __future__ import annotations

import sys

import click

from wflcli.cli.options import failed_option, files_argument, output_option
from wflcli.cli.progress import progress_reporter
from wflcli.cli.remote_options import worker_devices
from wflcli.cli.remote_run import batch_backend, read_positions, report_costs, task_states
from wflcli.cli.stdout import data_stdout
from wflcli.cli.settings import Settings
from wflcli.errors import ExitStatus, ReaderGone, UsageError

_SHOWN_FAILURES = 5


def config_io(command=None, *, metavar: str = "[FILE]..."):
    """Add FILE... arguments (shown as ``metavar``) and the -o/--failed options."""
    if command is None:
        return lambda command: config_io(command, metavar=metavar)
    command = failed_option("Write failed configs here instead of into the output (all "
                            "inputs' in one file; a pattern as for -o: one per input).")(command)
    command = output_option("Write here (atomically) instead of stdout. With {stem}, {name} "
                            "or {dir} of each input file in it, one file per input, e.g. "
                            "-o '{stem}.labelled.xyz' or -o 'out/{name}'.")(command)
    return files_argument(command, metavar=metavar)


def run_per_config(settings: Settings, task, files, output, failed_output,
                   configs=None, threads: int | None = None,
                   remote_args: list[str] | None = None, inputs=None,
                   check=None) -> int:
    """Run a task over the extxyz inputs (or the ``configs`` given) and return the exit
    code. ``threads``: what one config's calculation uses (a batch task then runs
    cores / threads workers). ``remote_args``: the verb's arguments for a batch task, when
    not those typed (less input files and outputs). ``inputs``: the ``read_inputs`` that
    ``configs`` come from, for outputs per input file. ``check``: what must pass before
    anything is computed or written that a cache hit does not vouch for (the calculator's
    checks that need its package, ``deferred_calculator``)."""
    collect = getattr(settings, "collect", None)
    if check is not None and (collect is not None or not settings.cache or settings.refresh):
        check()  # nothing can come from the cache (or a stage of wfl pipe): at once
        check = None
    if collect is not None:  # wfl pipe reads this verb as a stage: its task, no run
        return collect(task, files=files, output=output, failed_output=failed_output,
                       configs=configs, threads=threads, remote_args=remote_args)
    from wflcli.exec.pipeline import run_task
    from wflcli.io.per_input import is_pattern, plan_outputs
    from wflcli.store.cache import cache_for_run

    failed_name = failed_output
    positions = read_positions(settings.positions) if settings.positions else None
    patterns = {option: value for option, value in (("-o", output), ("--failed", failed_output))
                if is_pattern(value)}
    if patterns and configs is not None and inputs is None:
        option = next(iter(patterns))
        raise UsageError(f"{option} {patterns[option]}: wfl {task.verb} does not take its "
                         "configs one by one from input files, so it has no output per input")
    inputs = inputs or read_inputs(files)
    if configs is None:  # frames as read, where the reader gives them: their text is hashed
        configs = inputs.frames() if hasattr(inputs, "frames") else inputs
    if patterns:
        planned = plan_outputs({"-o": output, "--failed": failed_output}, inputs)
        output, failed_output, positions = planned["-o"], planned["--failed"], inputs.positions()
    backend, chunk = None, settings.chunk
    if settings.remote.system:
        backend = batch_backend(settings, task.verb, threads, remote_args, task)
        chunk = settings.remote.per_job
    elif worker_devices(settings.remote):  # a GPU per worker
        from wflcli.exec.backends import make_backend

        backend = make_backend(settings.parallel, worker_devices(settings.remote))
    cache = cache_for_run() if settings.cache else None  # None, with a warning, if unusable
    tasks = (lambda: task_states(backend)) if settings.remote.system else None
    try:
        with data_stdout() as stdout, \
                progress_reporter(task.verb, not settings.quiet, files, tasks) as on_progress:
            summary = run_task(task, configs, stdout, output=output,
                               failed_output=failed_output, parallel=settings.parallel,
                               chunk=chunk, cache=cache, refresh=settings.refresh,
                               backend=backend, ledger=settings.outcomes, positions=positions,
                               on_progress=on_progress, check=check)
    except BrokenPipeError:  # click would turn it into exit code 1
        raise ReaderGone() from None
    finally:
        if cache is not None:
            cache.close()
    if settings.remote.system and not settings.quiet:
        report_costs(task.verb, settings.remote.system, backend.counters)
    if summary.failed:
        if not settings.quiet:
            _report_failures(task.verb, summary, failed_name)
        return ExitStatus.SOME_FAILED
    return ExitStatus.OK


def read_inputs(files):
    """The configs of ``files`` (none: stdin), noting where each file begins."""
    from wflcli.io.per_input import TrackedInputs

    return TrackedInputs(files or ["-"], sys.stdin.buffer)


def _report_failures(verb: str, summary, failed_output) -> None:
    click.echo(f"wfl {verb}: {len(summary.failed)} of {summary.inputs} configs failed"
               + (f" (written to {failed_output})" if failed_output else ""), err=True)
    for index, error in summary.failed[:_SHOWN_FAILURES]:
        click.echo(f"  config {index}: {error['type']}: {error['message']}", err=True)
    if len(summary.failed) > _SHOWN_FAILURES:
        click.echo(f"  ... and {len(summary.failed) - _SHOWN_FAILURES} more "
                   "(each carries info['wfl_error'])", err=True)
