"""``wfl normal-modes``: normal modes of relaxed molecules and samples along them."""

from __future__ import annotations

import click

from wflcli.cli.options import calc_options
from wflcli.cli.perconfig import config_io, run_per_config


@click.command("normal-modes")
@calc_options(results=None)
@click.option("-n", "--samples", type=click.IntRange(min=0), default=10, show_default=True,
              help="Displaced samples per input.")
@click.option("--temperature", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Temperature (K) of the Boltzmann-distributed mode amplitudes.")
@click.option("--delta", type=click.FloatRange(min=0, min_open=True), default=0.01,
              show_default=True, help="Finite-difference step (A).")
@config_io
@click.pass_obj
def normal_modes(settings, calc_spec, calc_kwargs, samples, temperature, delta, files, output,
                 failed_output):
    """Normal modes by finite differences, and samples displaced along them.

    \b
    Example:
      wfl normal-modes --calc tblite -n 50 --temperature 300 relaxed.xyz > samples.xyz

    For each input (a relaxed molecule) the output holds the input with
    info['nm_frequencies_cm'] and arrays['nm_mode_K'] (config_type=normal_modes), then
    the samples (config_type=normal_mode_sample). Each mode gets kT/2 of harmonic energy
    on average; imaginary modes are not displaced.
    """
    from wflcli.cli.options import parsed_calc
    from wflcli.verbs.normal_modes import NormalModesTask

    task = NormalModesTask(parsed_calc(calc_spec, calc_kwargs), samples, temperature, delta,
                           settings.seed)
    return run_per_config(settings, task, files, output, failed_output)
