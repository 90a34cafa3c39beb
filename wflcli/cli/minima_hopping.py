"""``wfl minima-hopping``: the command line of the global optimization verb."""

from __future__ import annotations

import click

from wflcli.cli.options import calc_options, calculator
from wflcli.cli.perconfig import config_io, run_per_config


@click.command("minima-hopping")
@calc_options(results="minima's results")
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True,
              help="Minima-hopping steps (an MD escape and a relaxation each).")
@click.option("-T", "--temperature", type=click.FloatRange(min=0, min_open=True),
              default=1000.0, show_default=True, help="Initial MD temperature (K); ASE "
              "adapts it as the search goes.")
@click.option("--fmax", type=click.FloatRange(min=0, min_open=True), default=0.05,
              show_default=True, help="Relaxations converge below this force (eV/A).")
@click.option("--ediff", type=click.FloatRange(min=0, min_open=True), default=0.5,
              show_default=True, help="Initial energy threshold for accepting a minimum (eV).")
@click.option("--mdmin", type=click.IntRange(min=1), default=2, show_default=True,
              help="An MD escape stops after passing this many minima.")
@click.option("--timestep", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="MD time step (fs).")
@config_io
@click.pass_obj
def minima_hopping(settings, calc_spec, calc_kwargs, prefix, steps, temperature, fmax, ediff,
                   mdmin, timestep, files, output, failed_output):
    """The minima found from each input by minima hopping (ASE's MinimaHopping).

    \b
    Example:
      wfl minima-hopping --calc emt --steps 20 -T 1500 clusters.xyz > minima.xyz

    Each minimum is written with its energy (and forces) under the prefix,
    config_type=minimum, info['minimum_number'] (the order found) and
    info['minimum_origin'] (a digest of the input it came from). The MD velocities
    come from --seed and each input's content. Each input runs in a scratch folder of
    its own (ASE's files, removed afterwards).
    """
    from wflcli.verbs.minima_hopping import MinimaHoppingTask

    task = MinimaHoppingTask(*calculator(calc_spec, calc_kwargs, prefix), steps, temperature,
                             fmax, ediff, mdmin, timestep, settings.seed)
    return run_per_config(settings, task, files, output, failed_output)
