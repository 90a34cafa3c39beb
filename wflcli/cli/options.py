"""The options that several verbs share, defined once: the calculator (``--calc``,
``--calc-kwargs``, ``--prefix`` and its default) and ``-o``. A verb stacks the decorators
it needs, so a flag means the same thing, with the same words, everywhere."""

from __future__ import annotations

import contextlib
import re

import click

from wflcli.calculators.spec_error import ALLOWED, KWARGS, SPEC
from wflcli.cli.complete import complete_calc
from wflcli.cli.outputs import output_file_option

# the option that gives each input of a calculator
CALC_FLAGS = {SPEC: "--calc", KWARGS: "--calc-kwargs", ALLOWED: "--overrides"}


def calc_options(required: bool = True, results: str | None = "results",
                 multiple: bool = False):
    """``--calc SPEC``, ``--calc-kwargs JSON`` and, unless ``results`` is None, ``--prefix``
    (``results`` names what the prefix is put on, for the help text). The command receives
    ``calc_spec``, ``calc_kwargs`` (and ``prefix``); ``calculator(...)`` turns them into
    (spec, prefix). ``multiple``: ``--calc`` is repeated (a committee), ``calc_spec`` is a
    tuple and ``--calc-kwargs`` goes to every one."""

    def decorate(command):
        if results is not None:
            command = click.option(
                "--prefix", help=f"Prefix of the {results} [default: calculator name + _]."
            )(command)
        each = " for every --calc" if multiple else ""
        command = click.option("--calc-kwargs", metavar="JSON",
                               help=f"More constructor arguments{each}, as JSON (or a "
                                    "JSON/YAML file).")(command)
        return click.option(
            "--calc", "calc_spec", required=required, metavar="SPEC", multiple=multiple,
            shell_complete=complete_calc,
            help="Calculator: NAME[:key=value,...], e.g. emt, lj:sigma=2.3, "
                 "tblite:method=GFN1-xTB, python:module:Class (wfl calc --list-calcs)"
                 + ("; repeat it for each member." if multiple else ".")
        )(command)

    return decorate


def calculator(calc_spec: str, calc_kwargs: str | None, prefix: str | None):
    """(CalcSpec, prefix) from the three options: the default prefix is the calculator's
    short name and ``_``."""
    spec = parsed_calc(calc_spec, calc_kwargs)
    return spec, default_prefix(spec.short_name, prefix)


def deferred_calculator(calc_spec: str, calc_kwargs: str | None, prefix: str | None):
    """``calculator`` for a run that may never build it (results from the cache): (spec,
    prefix, check), where ``check()`` makes the checks left for later
    (``parse_calc_spec_deferred``), worded as the options, the first time it is called."""
    from wflcli.calculators.spec import parse_calc_spec_deferred

    with calc_flags():
        spec, check = parse_calc_spec_deferred(calc_spec, calc_kwargs)
    return spec, default_prefix(spec.short_name, prefix), _once(_worded(check))


def _worded(check):
    def worded() -> None:
        with calc_flags():
            check()
    return worded


def _once(check):
    done = False

    def once() -> None:
        nonlocal done
        if not done:
            check()
            done = True
    return once


@contextlib.contextmanager
def spec_first(check):
    """A run stopped by another error before ``check()`` was made makes it first, so a
    wrong calculator is what the user hears of, as when it was checked up front (a reader
    that went away, ``| head``, is no error: the run ends quietly, checked or not)."""
    from wflcli.errors import ReaderGone

    try:
        yield
    except ReaderGone:
        raise
    except Exception:
        check()
        raise


def parsed_calc(calc_spec: str, calc_kwargs: str | None):
    """``parse_calc_spec`` with what is wrong worded as the options that said it."""
    from wflcli.calculators.spec import parse_calc_spec

    with calc_flags():
        return parse_calc_spec(calc_spec, calc_kwargs)


@contextlib.contextmanager
def calc_flags(labels: dict | None = None):
    """A calculator's fact (``CalcSpecError``, a missing package) raised inside, worded as
    the option the user typed: ``labels`` maps each source to it (default: CALC_FLAGS)."""
    from wflcli.calculators.spec_error import CalcPackageMissing, CalcSpecError
    from wflcli.errors import MissingBackend, UsageError

    try:
        yield
    except CalcSpecError as exc:
        raise UsageError(exc.worded((labels or CALC_FLAGS)[exc.source])) from None
    except CalcPackageMissing as exc:
        raise MissingBackend(exc.package, exc.extra, f"--calc {exc.name}") from None


def default_prefix(name: str, prefix: str | None) -> str:
    """The prefix asked for, else ``name`` and ``_``."""
    return name + "_" if prefix is None else prefix


def output_option(help: str = "Write here (atomically) instead of stdout.", **kwargs):
    """``-o/--output FILE`` (checked against the command's other outputs)."""
    return output_file_option("-o", "--output", help=help, **kwargs)


def failed_option(help: str = "Write failed configs here instead of into the output."):
    """``--failed FILE``: where configs that failed go (checked like ``-o``)."""
    return output_file_option("--failed", "failed_output", help=help)


def files_argument(command, metavar: str = "[FILE]..."):
    """``[FILE]...``: the inputs (none, or ``-``: stdin)."""
    return click.argument("files", nargs=-1, metavar=metavar, type=click.Path())(command)


def repeats(ctx, param, value):
    """A click callback: ``2x2x2`` (or ``2,2,2``) as a tuple of three positive integers;
    none given is (1, 1, 1)."""
    if value is None:
        return (1, 1, 1)
    match = re.fullmatch(r"\s*(\d+)\s*[xX, ]\s*(\d+)\s*[xX, ]\s*(\d+)\s*", value)
    if not match or 0 in (repeat := tuple(int(g) for g in match.groups())):
        raise click.BadParameter(f"{value!r} is not like 2x2x2")
    return repeat
