"""The options that several verbs share, defined once: the calculator (``--calc``,
``--calc-kwargs``, ``--prefix`` and its default) and ``-o``. A verb stacks the decorators
it needs, so a flag means the same thing, with the same words, everywhere."""

from __future__ import annotations

import click

from wflcli.cli.outputs import output_file_option


def calc_options(required: bool = True, results: str | None = "results"):
    """``--calc SPEC``, ``--calc-kwargs JSON`` and, unless ``results`` is None, ``--prefix``
    (``results`` names what the prefix is put on, for the help text). The command receives
    ``calc_spec``, ``calc_kwargs`` (and ``prefix``); ``calculator(...)`` turns them into
    (spec, prefix)."""

    def decorate(command):
        if results is not None:
            command = click.option(
                "--prefix", help=f"Prefix of the {results} [default: calculator name + _]."
            )(command)
        command = click.option("--calc-kwargs", metavar="JSON",
                               help="More constructor arguments, as JSON (or a JSON/YAML "
                                    "file).")(command)
        return click.option(
            "--calc", "calc_spec", required=required, metavar="SPEC",
            help="Calculator: NAME[:key=value,...], e.g. emt, lj:sigma=2.3, "
                 "tblite:method=GFN1-xTB, python:module:Class (wfl calc --list-calcs)."
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
    """``-o/--output FILE`` (checked against the command's other outputs)."""
    return output_file_option("-o", "--output", help=help, **kwargs)


def failed_option(help: str = "Write failed configs here instead of into the output."):
    """``--failed FILE``: where configs that failed go (checked like ``-o``)."""
    return output_file_option("--failed", "failed_output", help=help)
