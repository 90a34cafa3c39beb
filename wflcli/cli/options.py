"""The options that several verbs share, defined once: the calculator (``--calc``,
``--calc-kwargs``, ``--prefix`` and its default) and ``-o``. A verb stacks the decorators
it needs, so a flag means the same thing, with the same words, everywhere."""

from __future__ import annotations

import re

import click

from wflcli.cli.complete import complete_calc


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
    from wflcli.calculators.spec import parse_calc_spec

    spec = parse_calc_spec(calc_spec, calc_kwargs)
    return spec, default_prefix(spec.short_name, prefix)


def default_prefix(name: str, prefix: str | None) -> str:
    """The prefix asked for, else ``name`` and ``_``."""
    return name + "_" if prefix is None else prefix


def output_option(help: str = "Write here (atomically) instead of stdout.", **kwargs):
    """``-o/--output FILE``, given at most once (click would let the last one win)."""
    return click.option("-o", "--output", metavar="FILE", type=click.Path(), help=help,
                        multiple=True, callback=_given_once, **kwargs)


def _given_once(ctx, param, values):
    if len(values) > 1:
        raise click.BadParameter(f"given {len(values)} times ({', '.join(values)}): "
                                 "give it once")
    return values[0] if values else None


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
