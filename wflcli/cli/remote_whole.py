"""``--remote SYS`` for the verbs that read their whole input (fits, selections, split,
error): the verb's input files go with the job, the verb runs there once with the same
arguments, and what it wrote comes back into place here, each file atomically.

Files named by the verb's own options (``fit-gap --params``, ``select-cur --exclude``,
``fit-mace --valid``) go with the job too, as its data.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile

import click

from wflcli.cli.remote_run import (
    VERB_ARGS,
    on_event_echo,
    portable_args,
    remote_command,
    system_resources,
)
from wflcli.cli.settings import Settings
from wflcli.errors import ReaderGone, UsageError
from wflcli.interrupts import run_async

STDIN_NAME = "in/0/stdin.xyz"


def run_there(settings: Settings, verb: str, *, inputs: tuple = (), outputs: tuple = (),
              reuse_done: bool = True, configs: int = 0) -> int:
    """Run the current command on ``settings.remote.system`` as one job and return its
    exit code there. ``inputs`` and ``outputs`` name the command's parameters (besides
    FILES) that name files it reads and files it writes."""

    from wflcli.exec.batch.spec import BatchSpec
    from wflcli.exec.batch.whole import WholeJob

    system, resources = system_resources(settings)  # a usage error before any reading
    context = click.get_current_context()
    plan = _Plan(context)
    arguments = portable_args(context.command, context.meta.get(VERB_ARGS, []),
                              {"files", *inputs, *outputs})
    arguments += plan.options(inputs, "opt", read=True) + plan.options(outputs, "out")
    arguments += ["--", *plan.files(context.params.get("files") or ())]
    words = context.command_path.split()[1:]
    command = ["--no-cache", *(["-q"] if settings.quiet else []),
               *remote_command(settings, words, arguments, resources.cores)]
    options = settings.remote
    spec = BatchSpec(verb=verb, command=command, resources=resources,
                     job_name=options.job_name or f"wfl-{verb}", retries=options.retries,
                     reuse_done=reuse_done and not settings.refresh, drain_margin=0)
    job = WholeJob(spec, plan.uploads, tuple(plan.targets), configs or plan.input_frames())
    say = on_event_echo(settings, verb)
    try:
        result = run_async(_run(system, job, say))
    except KeyboardInterrupt:
        say(f"the job keeps running on {system.name}; run the same command again to "
            "collect it")
        raise
    log = plan.local_names(result.log, result.record.folder)
    if log.strip():
        click.echo(log.rstrip("\n"), err=True)
    for folder, files in result.files.items():
        _place(files, plan.targets[folder])
    if result.stdout:
        _write_stdout(result.stdout)
    return result.exit


def fingerprint_here(compute, *args) -> str:
    """A fit's fingerprint, or "" when the fitting package is not installed here (a fit
    sent with --remote: the model here cannot then be judged up to date)."""
    from importlib.metadata import PackageNotFoundError

    try:
        return compute(*args)
    except PackageNotFoundError:
        return ""


async def _run(system, job, on_event):
    from wflcli.exec.batch.whole import WholeRunner
    from wflcli.exec.transport import open_transport
    from wflcli.store.jobs import open_job_store

    store = open_job_store()
    transport = open_transport(system)
    try:
        return await WholeRunner(system, job, transport, store, on_event).run()
    finally:
        await transport.close()
        store.close()


class _Plan:
    """Which local file goes where in the job folder, and back."""

    def __init__(self, context: click.Context):
        self.context = context
        self.uploads: dict[str, bytes] = {}     # job-folder path -> content
        self.targets: dict[str, str] = {}       # job-folder output folder -> local path
        self.renames: dict[str, str] = {}       # job-folder path -> local name, for messages

    def options(self, names: tuple, kind: str, read: bool = False) -> list[str]:
        params = {param.name: param for param in self.context.command.params}
        words = []
        for number, name in enumerate(names, 1):
            local = self.context.params.get(name)
            if not local or local == "-":  # stdout (or stdin): the job's own
                continue
            flag = max(params[name].opts, key=len)
            folder = f"{kind}/{number}"
            there = f"{folder}/{os.path.basename(local)}"
            if read:
                self.uploads[there] = _read(local, flag)
            else:
                self.targets[folder] = local
            self.renames[there] = local
            words += [flag, there]
        return words

    def files(self, files) -> list[str]:
        names = []
        for number, path in enumerate(files or ["-"], 1):
            if path == "-":
                if STDIN_NAME not in self.uploads:
                    self.uploads[STDIN_NAME] = sys.stdin.buffer.read()
                names.append(STDIN_NAME)
                continue
            there = f"in/{number}/{os.path.basename(path)}"
            self.uploads[there] = _read(path, "FILE")
            self.renames[there] = path
            names.append(there)
        return names

    def input_frames(self) -> int:
        """How many configs the inputs sent hold (what ``wfl remote ls`` shows), 0 when
        one of them cannot be counted without reading it in full."""
        from wflcli.io.framecount import count_frames_in

        counts = [count_frames_in(io.BytesIO(content))
                  for there, content in self.uploads.items() if there.startswith("in/")]
        return 0 if None in counts else sum(counts)

    def local_names(self, text: str, folder: str) -> str:
        """The far side's messages with the local names of the files they mention (as
        paths in the job folder ``folder``, absolute or not)."""
        for there in sorted(self.renames, key=len, reverse=True):
            text = text.replace(f"{folder}/{there}", self.renames[there])
            text = text.replace(there, self.renames[there])
        return text


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as exc:
        raise UsageError(f"{what} {path}: {exc.strerror or exc}") from None


def _place(files: dict, target: str) -> None:
    """The files a job wrote beside ``target``, put beside the local ``target``: each one
    complete or not at all, and ``target`` itself last (a model present is a whole one).
    A ``target`` that is a device or a FIFO (``/dev/null``) is written in place."""
    folder, name = os.path.split(os.path.abspath(target))
    if os.path.exists(target) and not os.path.isfile(target):
        with open(target, "wb") as stream:
            stream.write(files.pop(name, b""))
    os.makedirs(folder, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    order = sorted(files, key=lambda file_name: file_name == name)
    written = []
    try:
        for file_name in order:
            handle, temporary = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".part",
                                                 dir=folder)
            written.append(temporary)
            with os.fdopen(handle, "wb") as stream:
                stream.write(files[file_name])
            os.chmod(temporary, 0o666 & ~umask)
        for temporary, file_name in zip(written, order):
            os.replace(temporary, os.path.join(folder, file_name))
    finally:
        for temporary in written:
            if os.path.exists(temporary):
                os.unlink(temporary)


def _write_stdout(data: bytes) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except BrokenPipeError:
        raise ReaderGone() from None
