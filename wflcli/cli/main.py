"""``wfl``: the root command, its global options, and how errors become exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import click

from wflcli import interrupts
from wflcli.cli.complete import register_shells
from wflcli.cli.environment import Environment
from wflcli.cli.lazy import LazyGroup
from wflcli.cli.remote_options import REMOTE_VERBS, WHOLE_VERBS, remote_options
from wflcli.cli.settings import Settings
from wflcli.errors import ExitStatus, ReaderGone, WflError
from wflcli.thread_variables import THREAD_VARIABLES

COMMANDS = {
    "atoms": "wflcli.cli.atoms:atoms",
    "cache": "wflcli.cli.cache:cache",
    "calc": "wflcli.cli.calc:calc",
    "cat": "wflcli.cli.reading:cat",
    "committee": "wflcli.cli.committee:committee",
    "completion": "wflcli.cli.completion:completion",
    "count": "wflcli.cli.reading:count",
    "defects": "wflcli.cli.supercell:defects",
    "descriptor": "wflcli.cli.descriptor:descriptor",
    "dimers": "wflcli.cli.dimers:dimers",
    "error": "wflcli.cli.error:error",
    "filter": "wflcli.cli.filter:filter_",
    "fit-gap": "wflcli.cli.fit_gap:fit_gap",
    "fit-mace": "wflcli.cli.fit_mace:fit_mace",
    "head": "wflcli.cli.reading:head",
    "info": "wflcli.cli.reading:info",
    "map": "wflcli.cli.map:map_",
    "md": "wflcli.cli.md:md",
    "minima-hopping": "wflcli.cli.minima_hopping:minima_hopping",
    "optimize": "wflcli.cli.optimize:optimize",
    "neb": "wflcli.cli.neb:neb",
    "normal-modes": "wflcli.cli.normal_modes:normal_modes",
    "phonons": "wflcli.cli.phonons:phonons",
    "pipe": "wflcli.cli.pipe:pipe",
    "random": "wflcli.cli.random:random_",
    "rattle": "wflcli.cli.rattle:rattle",
    "remote": "wflcli.cli.remote:remote",
    "select-cur": "wflcli.cli.select:select_cur",
    "select-flat": "wflcli.cli.select_keyed:select_flat",
    "select-fps": "wflcli.cli.select:select_fps",
    "select-hull": "wflcli.cli.select_keyed:select_hull",
    "select-top": "wflcli.cli.select_keyed:select_top",
    "smiles": "wflcli.cli.smiles:smiles",
    "split": "wflcli.cli.split:split",
    "supercell": "wflcli.cli.supercell:supercell",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--parallel", "-j", type=click.IntRange(min=1), default=1, envvar="WFL_PARALLEL",
              show_envvar=True, help="Run on N local worker processes.")
@click.option("--chunk", type=click.IntRange(min=1), default=10, envvar="WFL_CHUNK",
              show_envvar=True, help="Configs per chunk sent to a worker.")
@click.option("--seed", type=int, default=0, envvar="WFL_SEED", show_envvar=True,
              help="Seed from which every random number is derived.")
@click.option("--cache/--no-cache", default=True, envvar="WFL_CACHE", show_envvar=True,
              help="Reuse and keep per-config results in the store  [default: cache].")
@click.option("--refresh", is_flag=True, help="Recompute every config and overwrite its "
              "cached result.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="More detail; tracebacks on errors.")
@click.option("--version", is_flag=True, help="Print the version and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --version: versions of ASE, numpy "
              "and the optional backends, as JSON.")
@remote_options
@click.pass_context
def cli(ctx, parallel, chunk, seed, cache, refresh, quiet, verbose, version, as_json, remote,
        outcomes, positions):
    """Composable verbs for atomistic simulation and MLIP workflows.

    \b
    Every verb reads extended XYZ from the files named (or stdin) and writes it to stdout:
      wfl calc --calc emt cu.xyz > labelled.xyz
      cat cu.xyz | wfl --parallel 2 calc --calc emt -o labelled.xyz

    \b
    With --remote SYS the same command runs as batch jobs on a system named in
    ~/.wflcli/config.toml or .wflcli/config.toml (see `wfl remote --help`):
      wfl --remote cluster --per-job 100 --time 2:00:00 calc --calc emt cu.xyz > out.xyz

    Exit codes: 0 done, 1 error, 2 usage error, 3 some configs failed, 130 interrupted.
    """
    settings: Settings = ctx.ensure_object(Settings)
    settings.parallel, settings.chunk, settings.seed = parallel, chunk, seed
    settings.quiet, settings.verbose = quiet, verbose
    settings.cache, settings.refresh = cache, refresh
    settings.remote, settings.outcomes, settings.positions = remote, outcomes, positions
    if as_json and not version:
        raise click.UsageError("--json goes with --version (wfl --version --json)")
    if version:
        from wflcli.cli.versions import version_text

        click.echo(version_text(as_json))
        ctx.exit(ExitStatus.OK)
    if ctx.invoked_subcommand is None:  # as git does: the help, and a usage error
        click.echo(ctx.get_help())
        ctx.exit(ExitStatus.USAGE)
    if remote.system and ctx.invoked_subcommand not in REMOTE_VERBS + WHOLE_VERBS:
        raise click.UsageError(f"--remote runs the per-config verbs ({', '.join(REMOTE_VERBS)})"
                               f" and the whole-input ones ({', '.join(WHOLE_VERBS)}); "
                               f"wfl {ctx.invoked_subcommand} runs here")
    # One BLAS/OpenMP thread per calculation unless the user chose otherwise, serial and
    # --parallel alike: a sum split over another number of threads differs in its last
    # bits (tblite did), and results must not depend on how a run was spread
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


class Terminated(BaseException):
    """SIGTERM, handled like Ctrl-C: stop workers, leave no partial file."""


_MAIN_PID = os.getpid()


def _terminate(signum, frame):
    if os.getpid() != _MAIN_PID:  # a worker forked a moment ago: the parent cleans up
        os._exit(ExitStatus.TERMINATED)
    interrupts.deliver(Terminated())


def _interrupt(signum, frame):
    interrupts.deliver(KeyboardInterrupt())


def main() -> None:
    """The console script: run, then exit with the code DESIGN.md gives."""
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup)
        signal.signal(signal.SIGINT, _interrupt)
    # a file-size limit (ulimit -f) becomes a write error with a message, not a crash
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    code = run(sys.argv[1:])
    if code in (ExitStatus.INTERRUPTED, ExitStatus.TERMINATED):
        # everything is cleaned up already; the interpreter's own teardown, with pool
        # threads still winding down, could crash (seen: SIGSEGV after SIGTERM)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def run(argv: list[str], environment: Environment | None = None) -> int:
    """Run one command line and return its exit code; expected errors become one line.
    ``environment``: the streams and which are terminals (default: this process's)."""
    settings = Settings(environment=environment or Environment.of_process())
    if "_WFL_COMPLETE" in os.environ:  # the shell asks for completions at a TAB
        register_shells()
    try:
        code = cli.main(args=argv, prog_name="wfl", standalone_mode=False, obj=settings)
    except click.exceptions.ClickException as exc:
        if isinstance(exc, click.exceptions.NoSuchOption):
            _hint_global_option(exc)
        exc.show()
        code = exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("wfl: interrupted", err=True)
        code = ExitStatus.INTERRUPTED
    except Terminated:
        click.echo("wfl: terminated", err=True)
        code = ExitStatus.TERMINATED
    except ReaderGone:  # `wfl ... | head`: not an error
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = ExitStatus.OK
    except WflError as exc:
        if settings.verbose:
            import traceback

            traceback.print_exc()
        click.echo(f"wfl: error: {exc}", err=True)
        code = exc.exit_code
    except Exception as exc:  # a bug: say so briefly, the traceback is one -v away
        problem = _store_problem(exc)
        if problem is not None:
            click.echo(f"wfl: error: {problem}", err=True)
            return problem.exit_code
        if settings.verbose:
            raise
        click.echo(f"wfl: internal error: {type(exc).__name__}: {exc} "
                   "(run with -v for the traceback)", err=True)
        code = ExitStatus.ERROR
    return code or ExitStatus.OK


def _hint_global_option(exc: click.exceptions.NoSuchOption) -> None:
    """``wfl calc --seed 3``: say that the option is global and where it goes; a misspelt
    global option (``--sed``) gets the global option when it is the nearer match."""
    if exc.ctx is None or exc.ctx.parent is None:
        return
    import difflib

    options = {flag: param for param in exc.ctx.find_root().command.params
               for flag in getattr(param, "opts", ())}
    name = exc.option_name
    verb_options = list(exc.possibilities or ())
    if name not in options:
        near = difflib.get_close_matches(name, [*options, *verb_options], n=1, cutoff=0.6)
        if not near or near[0] not in options:
            return  # not a global option, nor nearer one than the verb's own
        name = near[0]
    param = options[name]
    value = "" if param.is_flag else " " + (param.metavar or (
        "N" if isinstance(param.type, (click.types.IntParamType, click.IntRange)) else
        param.type.name.upper()))
    verb = " ".join(exc.ctx.command_path.split()[1:])
    usage = f"wfl {name}{value} {verb} ..."
    exc.message = (f"{name} is a global option: give it before the verb, as in {usage}"
                   if name == exc.option_name else
                   f"no such option: {exc.option_name}; did you mean the global option "
                   f"{name}? It goes before the verb, as in {usage}")
    exc.possibilities = None  # the verb's own look-alike options were not meant


def _store_problem(exc: Exception) -> WflError | None:
    """An SQLite error met while using the store (locked too long, damaged) as a clear error."""
    sqlite3 = sys.modules.get("sqlite3")  # loaded if the error can be one of its
    if sqlite3 is None or not isinstance(exc, sqlite3.Error):
        return None
    from wflcli.store.db import store_error
    from wflcli.store.home import store_home

    return store_error(store_home() / "store.sqlite", exc)
