"""``wfl optimize``: the command line of the relaxation verb."""

from __future__ import annotations

import click

from wflcli.cli.options import calc_options, calculator
from wflcli.cli.perconfig import config_io, run_per_config


@click.command()
@calc_options()
@click.option("--optimizer",
              type=click.Choice(["bfgs", "lbfgs", "fire", "precon-lbfgs"], case_sensitive=False),
              default="bfgs", show_default=True)
@click.option("--fmax", type=click.FloatRange(min=0, min_open=True), default=0.05,
              show_default=True, help="Converged when every force is below this (eV/A).")
@click.option("--steps", type=click.IntRange(min=0), default=1000, show_default=True,
              help="At most this many steps.")
@click.option("--cell", is_flag=True, help="Relax the cell too (ASE's FrechetCellFilter).")
@click.option("--pressure", type=float, default=0.0, show_default=True,
              help="External pressure with --cell (GPa).")
@click.option("--symmetry", is_flag=True, help="Keep the space group (ASE's FixSymmetry).")
@click.option("--traj-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also write every Nth step (0: the final structure only).")
@click.option("--require-converged", is_flag=True,
              help="Count configs that do not converge as failed (exit code 3).")
@config_io
@click.pass_obj
def optimize(settings, calc_spec, calc_kwargs, prefix, optimizer, fmax, steps, cell, pressure,
             symmetry, traj_every, require_converged, files, output, failed_output):
    """Relax each input config (positions, and the cell with --cell).

    \b
    Example:
      wfl optimize --calc emt --fmax 0.01 rattled.xyz > relaxed.xyz
      wfl optimize --calc emt --cell --symmetry --optimizer precon-lbfgs bulk.xyz

    The final structure carries optimize_converged, optimize_steps and the results
    under the prefix; fixed atoms in the input stay fixed. Unconverged configs are
    written as they are, unless --require-converged.
    """
    from wflcli.verbs.optimize import OptimizeTask

    task = OptimizeTask(*calculator(calc_spec, calc_kwargs, prefix), optimizer, fmax, steps,
                        cell, pressure, symmetry, traj_every, require_converged)
    return run_per_config(settings, task, files, output, failed_output)
