"""``wfl filter``: keep the configs for which an expression holds."""

from __future__ import annotations

from contextlib import nullcontext

import click

from wflcli.cli.options import files_argument, output_option
from wflcli.cli.outputs import output_file_option
from wflcli.cli.stdout import data_stdout
from wflcli.errors import ExitStatus, ReaderGone, UsageError


@click.command("filter")
@click.argument("expression")
@files_argument
@click.option("--invert", is_flag=True, help="Keep the configs for which it does not hold.")
@output_file_option("--rejected", help="Write the configs not kept here (a pattern as for -o: "
                    "one per input).")
@output_option("Write here (atomically) instead of stdout; {stem}, {name} or {dir} of each "
               "input file in it: one file per input, as for every per-config verb.")
@click.pass_obj
def filter_(settings, expression, files, invert, rejected, output):
    """Keep configs for which EXPRESSION holds (streams).

    \b
    Example:
      wfl filter 'max(norm(REF_forces)) < 8 and natoms <= 50' md.xyz > ok.xyz
      wfl filter 'config_type == "md" and REF_energy / natoms < -3' in.xyz

    \b
    Names: info keys, arrays (per-atom values), natoms, volume, formula, symbols.
    Operators: and or not, == != < <= > >= in, + - * / // % **, x[i], x[i:j].
    Functions: abs all any exp len log max mean min norm (per row) sqrt sum.
    A config without a name the expression uses is not kept (counted on stderr). A
    config that failed upstream (info['wfl_error']) is passed on as it is, unjudged, and
    the exit code is 3, as with every per-config verb.
    """
    from wflcli.cli.perconfig import read_inputs
    from wflcli.io.output import open_target
    from wflcli.io.per_input import plan_outputs
    from wflcli.verbs.expression import Expression, ExpressionError
    from wflcli.verbs.filter import Tally, judged

    try:
        test = Expression(expression)
    except ExpressionError as exc:
        raise UsageError(f"filter expression: {exc}") from None
    tally = Tally()
    inputs = read_inputs(files)
    targets = plan_outputs({"-o": output, "--rejected": rejected}, inputs)
    try:
        with data_stdout() as stdout, open_target(targets["-o"], stdout) as kept, \
                open_target(targets["--rejected"], stdout) if rejected else nullcontext() \
                as dropped:
            sinks = (kept, dropped) if dropped else (kept,)
            for index, frame, keep in judged(inputs.frames(), test, invert, tally):
                for sink in sinks:
                    sink.select(index)
                target = kept if keep else dropped
                if target is not None:
                    target.write(frame.text)
                for sink in sinks:
                    sink.flush()
    except BrokenPipeError:
        raise ReaderGone() from None
    if tally.missing and not settings.quiet:
        for name, count in tally.missing.items():
            click.echo(f"wfl filter: {count} configs have no {name!r} (not kept)", err=True)
    if tally.passed_failed:
        click.echo(f"wfl filter: passed on {tally.passed_failed} configs that failed upstream "
                   "(unjudged)", err=True)
        return ExitStatus.SOME_FAILED
    return ExitStatus.OK
