"""``wfl atoms``: isolated atoms for given species."""

from __future__ import annotations

import click

from wflcli.cli.options import output_option
from wflcli.cli.perconfig import run_per_config


@click.command()
@click.argument("species", nargs=-1, required=True)
@click.option("--box", type=click.FloatRange(min=0, min_open=True), metavar="A",
              help="Put each atom at the centre of a cubic cell of this edge (not periodic); "
                   "default: no cell.")
@output_option()
@click.pass_obj
def atoms(settings, species, box, output):
    """Isolated-atom configs, the reference energies of MLIP fits.

    \b
    Example:
      wfl atoms H C O | wfl calc --calc tblite --prefix REF_ -o isolated.xyz

    Each config is one atom, not periodic, with config_type=isolated_atom.
    """
    from ase.data import atomic_numbers

    from wflcli.verbs.isolated_atoms import IsolatedAtomTask, species_placeholder

    unknown = [s for s in species if s not in atomic_numbers]
    if unknown:
        raise click.UsageError(f"unknown element(s): {', '.join(unknown)}")
    configs = (species_placeholder(s) for s in species)
    return run_per_config(settings, IsolatedAtomTask(box), (), output, None, configs=configs)
