"""``wfl error``: how far predictions are from references."""

from __future__ import annotations

import click

from wflcli.cli.environment import current_environment
from wflcli.cli.notices import warn
from wflcli.cli.options import files_argument
from wflcli.cli.outputs import output_file_option
from wflcli.cli.whole_input import read_valid, write_text
from wflcli.errors import ExitStatus, UsageError


@click.command("error")
@files_argument
@click.option("--ref", required=True, metavar="PREFIX", help="Prefix of the references.")
@click.option("--pred", required=True, metavar="PREFIX", help="Prefix of the predictions.")
@click.option("--by", metavar="KEY", help="Also per group of info[KEY] (e.g. config_type).")
@click.option("--json", "as_json", is_flag=True, help="As JSON (eV units).")
@output_file_option("--plot", help="Parity plots and error histograms "
                    "(.png, .pdf or .svg; needs matplotlib, the plot extra).")
@click.option("--shift", is_flag=True, help="In the plot, predicted energies less their mean "
              "offset from the references (the offset is given on the axis).")
@click.pass_obj
def error(settings, files, ref, pred, by, as_json, plot, shift):
    """Errors of predictions against references (reads the whole input).

    \b
    Example:
      wfl error --ref REF_ --pred GAP_ --by config_type test.xyz --plot parity.png

    RMSE, MAE, max error and count of energy per atom, force and stress components (and
    virials per atom), overall and per group; configs missing a property are counted.
    Configs that failed upstream (info['wfl_error']) are left out, and counted on stderr.
    The table shows milli-units; --json gives eV units.
    """
    from wflcli.report import error_table
    from wflcli.verbs.error_metrics import compare

    if plot and not plot.lower().endswith((".png", ".pdf", ".svg")):
        raise UsageError("--plot: the file name must end in .png, .pdf or .svg")
    if settings.remote.system:
        from wflcli.cli.remote_whole import run_there

        return run_there(settings, "error", outputs=("plot",))
    configs = read_valid(files, "error")
    properties = compare(configs, ref, pred, by)
    unmatched = _unmatched_prefixes(configs, (("--ref", ref), ("--pred", pred)))
    if not properties:
        raise UsageError(f"no config has {ref}/{pred} energy, forces, stress or virial"
                         + "".join(f"; {hint}" for hint in unmatched))
    for hint in unmatched:
        warn("error", hint)
    if plot:
        from wflcli.optional_packages import require
        from wflcli.report.parity import parity_plot

        require("matplotlib", "matplotlib", "plot", "wfl error --plot")
        parity_plot(properties, plot, ref, pred, shift)
    if as_json:
        write_text(error_table.as_json(properties, ref, pred))
    elif current_environment().stdout_isatty:
        current_environment().console(stdout=True).print(error_table.rich_table(properties))
    else:
        write_text(error_table.plain(properties))
    return ExitStatus.OK


def _unmatched_prefixes(configs, given) -> list[str]:
    """For each prefix that names no result in any config: what the input has instead."""
    import difflib

    from wflcli.verbs.count import result_prefixes

    keys = {key for atoms in configs for key in (*atoms.info, *atoms.arrays)}
    present = list(result_prefixes(keys))
    hints = []
    for option, prefix in given:
        if prefix not in present:
            close = difflib.get_close_matches(prefix, present, n=1, cutoff=0.6)
            meant = f" (did you mean {option} {close[0]}?)" if close else ""
            hints.append(f"{option} {prefix} matches no results; the input has "
                         f"{', '.join(present) or 'none'}{meant}")
    return hints
