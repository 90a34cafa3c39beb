"""``wfl md``: the command line of the molecular dynamics verb."""

from __future__ import annotations

import click

from wflcli.cli.notices import warn
from wflcli.cli.options import calc_options, calculator
from wflcli.cli.perconfig import config_io, run_per_config
from wflcli.verbs.ensembles import ENSEMBLES


@click.command()
@calc_options(results="frames' results")
@click.option("--ensemble",
              type=click.Choice(ENSEMBLES, case_sensitive=False), default="nve", show_default=True,
              help="Integrator/thermostat (npt-mtk: isotropic MTK barostat).")
@click.option("--steps", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--timestep", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True, help="Time step (fs).")
@click.option("--temperature", "-T", metavar="K[:K]",
              help="Temperature, or a linear ramp START:END over the run (K); also sets the "
                   "initial Maxwell-Boltzmann velocities.")
@click.option("--pressure", type=float, metavar="GPA", help="Pressure for NPT (GPa).")
@click.option("--friction", type=click.FloatRange(min=0), default=0.01, show_default=True,
              help="Langevin friction (1/fs).")
@click.option("--tau", type=click.FloatRange(min=0, min_open=True), default=100.0,
              show_default=True, help="Thermostat time constant (fs).")
@click.option("--tau-p", type=click.FloatRange(min=0, min_open=True), default=1000.0,
              show_default=True, help="Barostat time constant (fs).")
@click.option("--every", type=click.IntRange(min=1), default=10, show_default=True,
              help="Write a frame every N steps (and always the last).")
@click.option("--keep-velocities", is_flag=True,
              help="Start from the momenta in the input instead of drawing new ones.")
@click.option("--min-distance", type=click.FloatRange(min=0), metavar="A",
              help="End a trajectory (as failed) when two atoms come closer than this.")
@click.option("--max-temperature", type=click.FloatRange(min=0), metavar="K",
              help="End a trajectory (as failed) when it gets hotter than this.")
@config_io
@click.pass_obj
def md(settings, calc_spec, calc_kwargs, prefix, ensemble, steps, timestep, temperature,
       pressure, friction, tau, tau_p, every, keep_velocities, min_distance, max_temperature,
       files, output, failed_output):
    """Molecular dynamics from each input config; writes the sampled frames.

    \b
    Example:
      wfl md --calc emt --ensemble langevin -T 300 --steps 2000 --every 20 cu.xyz > md.xyz
      wfl md --calc tblite --ensemble berendsen -T 300:1000 --steps 5000 mols.xyz

    Frames carry MD_step, MD_time_fs, MD_temperature_K, MD_source (the input position),
    momenta and the results under the prefix. info['wfl_md'] (a dict of these options,
    with underscores) overrides them for one config. Velocities are seeded from --seed
    and the config, so reruns and --parallel give the same frames.
    """
    from wflcli.verbs.md import MDOptions, MDTask, parse_temperature

    try:
        options = MDOptions(ensemble, steps, timestep, parse_temperature(temperature),
                            pressure, friction, tau, tau_p, every=every,
                            keep_velocities=keep_velocities, min_distance=min_distance,
                            max_temperature=max_temperature).check()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for hint in _nve_hints(ensemble, temperature, keep_velocities):
        warn("md", hint)
    task = MDTask(*calculator(calc_spec, calc_kwargs, prefix), options, settings.seed)
    return run_per_config(settings, task, files, output, failed_output)


def _nve_hints(ensemble: str, temperature: str | None, keep_velocities: bool) -> list[str]:
    """NVE holds no temperature: say so when the options suggest one was meant."""
    if ensemble != "nve":
        return []
    if temperature is None:
        return [] if keep_velocities else [
            "--ensemble nve with no -T and no --keep-velocities: the atoms start at rest "
            "(0 K)"]
    return [f"-T {temperature} with --ensemble nve only draws the starting velocities; "
            "nothing holds the temperature (a thermostat: --ensemble langevin, bussi, ...)"]
