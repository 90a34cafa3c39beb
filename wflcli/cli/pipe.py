"""``wfl pipe``: per-config verbs one after another on each config, as one run (locally)
or one job (``--remote``). Each stage is read by its own verb's click command, so it
takes the same options and gives the same errors as that verb alone."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, fields

import click

from wflcli.cli.perconfig import config_io, run_per_config
from wflcli.cli.remote_run import portable_args
from wflcli.cli.settings import Settings
from wflcli.errors import ExitStatus, UsageError, WflError

# verbs that take configs one at a time from their input, each on its own
STAGE_VERBS = ("calc", "committee", "defects", "map", "md", "minima-hopping", "normal-modes",
               "optimize", "phonons displace", "phonons sample", "rattle", "supercell")
_PROGRAMS = ("wfl", "wflcli")  # a stage may be written as its shell pipeline's command


@dataclass
class Stage:
    number: int
    words: list[str]               # the verb: one word, or a group's two
    args: list[str]                # its options as written
    command: click.Command | None = None
    task: object = None
    threads: int | None = None
    remote_args: list[str] | None = None  # what a batch task runs, when not ``args``

    @property
    def name(self) -> str:
        return " ".join(self.words)

    def where(self) -> str:
        return f"stage {self.number} ({self.name})"

    def portable(self) -> list[str]:
        """The stage as a batch task runs it."""
        args = self.remote_args if self.remote_args is not None else \
            portable_args(self.command, self.args)
        return [*self.words, *args]


@dataclass
class _StageSettings(Settings):
    """The global settings, and where a verb's callback hands its task instead of
    running it (``perconfig.run_per_config``)."""

    collect: Callable | None = None


@click.command()
@click.argument("pipeline", metavar="'VERB [OPTIONS] | VERB [OPTIONS]...'")
@config_io
# a batch task (always given --failed) of a run without --failed: failed configs inline
@click.option("--failed-inline", is_flag=True, hidden=True)
@click.pass_context
def pipe(ctx, pipeline, files, output, failed_output, failed_inline):
    """Run per-config verbs one after another on each config: one run, or one job.

    \b
    Example:
      wfl pipe 'optimize --calc emt | md --calc emt --steps 200 | calc --calc lj' cu.xyz
      wfl --remote cluster pipe 'md --calc emt -T 300 --steps 1000 | calc --calc emt' \\
          cu.xyz -o out.xyz

    The output is what the stages give as a shell pipeline (wfl A | wfl B | wfl C),
    byte for byte: the same configs in input order, the same seeds, and a config that
    fails at a stage passed on, with its info['wfl_error'], to the output or --failed.
    Stages are the verbs that take their configs one at a time ({verbs}), with the
    options each takes alone; global options (--parallel, --remote, --seed, ...) go
    before pipe, input files and -o/--failed after the quoted pipeline. A lone | always
    separates stages; a leading 'wfl' in a stage is allowed.

    Each config runs through all stages in the worker that takes it (--parallel N), or in
    one array task of one job (--remote SYS), and is cached as one result keyed on every
    stage in order: a change to any stage computes it again. A stage sees the position
    of the pipeline's input config (md's MD_source, a code's folder), which is what the
    shell pipeline gives as long as each stage before it gives one config per input.
    """
    from wflcli.exec.chain import ChainTask

    stages = read_stages(ctx, pipeline)
    task = ChainTask(tuple(stage.task for stage in stages),
                     failed_apart=bool(failed_output) and not failed_inline)
    threads = max((stage.threads for stage in stages if stage.threads), default=None)
    remote = [] if task.failed_apart else ["--failed-inline"]
    remote.append(" | ".join(shlex.join(stage.portable()) for stage in stages))
    return run_per_config(ctx.obj, task, files, output, failed_output, threads=threads,
                          remote_args=remote)


pipe.help = pipe.help.replace("{verbs}", ", ".join(STAGE_VERBS))


def split_pipeline(text: str) -> list[Stage]:
    """The stages of ``'A ... | B ...'``, each as words (shell quoting, as in a shell)."""
    # a backslash ending a line continues it, as it would outside the quotes
    lexer = shlex.shlex(text.replace("\\\n", " "), posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:  # no closing quotation, an escape at the end
        raise UsageError(f"wfl pipe {text!r}: {exc}") from None
    stages, words = [], []
    for token in [*tokens, "|"]:
        if set(token) != {"|"}:
            words.append(token)
            continue
        for _ in token:  # '||' is two separators around an empty stage
            stages.append(Stage(len(stages) + 1, [], words))
            words = []
    for stage in stages:
        if stage.args and stage.args[0] in _PROGRAMS:
            del stage.args[0]
        if not stage.args:
            raise UsageError(f"wfl pipe: stage {stage.number} is empty in {text!r}")
        if stage.args[0].startswith("-"):
            raise UsageError(f"wfl pipe: stage {stage.number}: {stage.args[0]} is a global "
                             "option or none; global options go before pipe, as in "
                             f"wfl {stage.args[0]} ... pipe '...'")
        stage.words, stage.args = [stage.args[0]], stage.args[1:]
    return stages


def read_stages(ctx: click.Context, text: str) -> list[Stage]:
    """Every stage parsed by its verb and its task taken, before any work is done."""
    stages = split_pipeline(text)
    for stage in stages:
        stage.command = _stage_command(ctx, stage)
    for stage in stages:
        _take_task(ctx, stage)
    return stages


def _stage_command(ctx: click.Context, stage: Stage) -> click.Command:
    root = ctx.find_root()
    verb = stage.words[0]
    command = root.command.get_command(root, verb)
    if command is None:
        import difflib

        close = difflib.get_close_matches(verb, [v.split()[0] for v in STAGE_VERBS], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"wfl pipe: stage {stage.number}: no verb {verb!r}{hint}")
    if isinstance(command, click.Group) and stage.args:
        stage.words.append(stage.args.pop(0))
        command = command.get_command(root, stage.words[1])
    if stage.name not in STAGE_VERBS or command is None:
        raise UsageError(f"wfl pipe: stage {stage.number}: wfl {stage.name} is not a verb that "
                         "takes its configs one at a time, so it cannot be a stage (stages: "
                         f"{', '.join(STAGE_VERBS)}); run it before or after wfl pipe")
    return command


def _take_task(ctx: click.Context, stage: Stage) -> None:
    """Run the stage's verb as far as its task, with the stage's options."""

    def collect(task, *, files, output, failed_output, configs, threads, remote_args):
        given = [option for option, value in (("input files", files), ("-o", output),
                                              ("--failed", failed_output)) if value]
        if given:
            raise UsageError(f"{' and '.join(given)}: input files, -o and --failed are "
                             "wfl pipe's, after the quoted pipeline: wfl pipe '...' FILE... "
                             "-o OUT")
        if configs is not None:
            raise UsageError("with these options it makes its configs from other input than "
                             "the stream; run it on its own")
        stage.task, stage.threads, stage.remote_args = task, threads, remote_args
        return ExitStatus.OK

    settings = _StageSettings(**{f.name: getattr(ctx.obj, f.name) for f in fields(Settings)},
                              collect=collect)
    try:
        # under the root, so that usage lines read as the verb's own: wfl md [OPTIONS]
        stage_ctx = stage.command.make_context(stage.name, list(stage.args),
                                               parent=ctx.find_root(), obj=settings)
        with stage_ctx:
            stage.command.invoke(stage_ctx)
    except click.exceptions.NoSuchOption as exc:
        if exc.option_name in _global_flags(ctx):
            raise click.UsageError(f"wfl pipe: {stage.where()}: {exc.option_name} is a global "
                                   f"option: give it before pipe, as in wfl "
                                   f"{exc.option_name} ... pipe '...'", ctx=exc.ctx) from None
        raise click.UsageError(f"{stage.where()}: {exc.format_message()}", ctx=exc.ctx) \
            from None
    except click.UsageError as exc:
        raise click.UsageError(f"{stage.where()}: {exc.format_message()}", ctx=exc.ctx) \
            from None
    except WflError as exc:
        exc.args = (f"wfl pipe: {stage.where()}: {exc}",)
        raise
    if stage.task is None:
        raise UsageError(f"wfl pipe: {stage.where()}: these options run nothing on configs")


def _global_flags(ctx: click.Context) -> set[str]:
    root = ctx.find_root().command
    return {flag for param in root.params for flag in getattr(param, "opts", ())}
