"""``wfl error``: how far predictions are from references."""

from __future__ import annotations

import sys

import click

from wflcli.cli.outputs import output_file_option
from wflcli.cli.whole import read_all, write_text
from wflcli.errors import ExitStatus, UsageError


@click.command("error")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--ref", required=True, metavar="PREFIX", help="Prefix of the references.")
@click.option("--pred", required=True, metavar="PREFIX", help="Prefix of the predictions.")
@click.option("--by", metavar="KEY", help="Also per group of info[KEY] (e.g. config_type).")
@click.option("--json", "as_json", is_flag=True, help="As JSON (eV units).")
@output_file_option("--plot", help="Parity plots and error histograms "
                    "(.png, .pdf or .svg; needs matplotlib, the plot extra).")
@click.pass_obj
def error(settings, files, ref, pred, by, as_json, plot):
    """Errors of predictions against references (reads the whole input).

    \b
    Example:
      wfl error --ref REF_ --pred GAP_ --by config_type test.xyz --plot parity.png

    RMSE, MAE, max error and count of energy per atom, force and stress components (and
    virials per atom), overall and per group; configs missing a property are counted.
    The table shows milli-units; --json gives eV units.
    """
    from wflcli.report import error_table
    from wflcli.verbs.errors import compare

    if plot and not plot.lower().endswith((".png", ".pdf", ".svg")):
        raise UsageError("--plot: the file name must end in .png, .pdf or .svg")
    properties = compare(read_all(files), ref, pred, by)
    if not properties:
        raise UsageError(f"no config has {ref}/{pred} energy, forces, stress or virial")
    if plot:
        from wflcli.backends import require
        from wflcli.report.parity import parity_plot

        require("matplotlib", "matplotlib", "plot", "wfl error --plot")
        parity_plot(properties, plot, ref, pred)
    if as_json:
        write_text(error_table.as_json(properties, ref, pred))
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(error_table.rich_table(properties))
    else:
        write_text(error_table.plain(properties))
    return ExitStatus.OK
