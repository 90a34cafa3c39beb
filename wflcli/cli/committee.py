"""``wfl committee``: the command line of committee evaluation."""

from __future__ import annotations

import click

from wflcli.cli.options import calc_options
from wflcli.cli.perconfig import config_io, run_per_config
from wflcli.errors import UsageError


@click.command("committee")
@calc_options(results=None, multiple=True)
@click.option("--prefix", default="committee_", show_default=True,
              help="Prefix of the committee's statistics; member i's results go under "
                   "PREFIX + 'i_'.")
@click.option("--committee-only", is_flag=True,
              help="Write only the committee's statistics, not each member's results.")
@config_io
@click.pass_obj
def committee(settings, calc_spec, calc_kwargs, prefix, committee_only, files, output,
              failed_output):
    """Evaluate a committee of models and the spread of their predictions.

    \b
    Example:
      wfl committee --calc gap:GAP1.xml --calc gap:GAP2.xml --calc gap:GAP3.xml \\
        --prefix COMM_ md.xyz | wfl select-top --key COMM_forces_std_max -n 20

    \b
    Member i (from 0, in the order of --calc) writes its energy, forces and stress
    under PREFIX + 'i_' (e.g. COMM_0_energy); the committee writes
      PREFIX energy, forces, stress            the mean over the members
      PREFIX energy_per_atom_std               std of energy / natoms (eV/atom)
      PREFIX forces_std (per atom)             sqrt of the summed variances of Fx, Fy, Fz
      PREFIX forces_std_max                    its largest value in the config (eV/A)
      PREFIX stress_std                        std of each stress component

    Every std is the sample standard deviation over the M members (ddof=1: divided by
    M - 1). The mean is a prediction like any other: wfl error --ref REF_ --pred COMM_.
    Each model is loaded once per worker; any in-process calculator can be a member
    (gap:, python:, emt, ...), not the file-based codes; info['wfl_calc'] is not
    read: every member runs as given.
    """
    from wflcli.calculators.filecalc import is_file_based
    from wflcli.cli.options import parsed_calc
    from wflcli.verbs.committee import CommitteeTask

    if len(calc_spec) < 2:
        raise UsageError("a committee needs at least two --calc")
    members = tuple(parsed_calc(text, calc_kwargs) for text in calc_spec)
    for text, spec in zip(calc_spec, members):
        if is_file_based(spec):
            raise UsageError(f"--calc {text}: a file-based code cannot be a committee "
                             "member (use wfl calc for each)")
    task = CommitteeTask(members, prefix, committee_only)
    return run_per_config(settings, task, files, output, failed_output)
