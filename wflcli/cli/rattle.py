"""``wfl rattle``: randomly displaced copies of each input config."""

from __future__ import annotations

import click

from wflcli.cli.options import repeats
from wflcli.cli.perconfig import config_io, run_per_config


@click.command()
@click.option("-n", "--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Copies per input config.")
@click.option("--stdev", type=click.FloatRange(min=0), default=0.05, show_default=True,
              help="Standard deviation of each displacement component (A).")
@click.option("--strain", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Random symmetric cell strain, components uniform in [-S, S].")
@click.option("--supercell", callback=repeats, metavar="AxBxC",
              help="Repeat each input first, e.g. 2x2x2.")
@config_io
@click.pass_obj
def rattle(settings, copies, stdev, strain, supercell, files, output, failed_output):
    """Randomly displaced (and strained) copies of each input config.

    \b
    Example:
      wfl rattle -n 10 --stdev 0.05 --supercell 2x2x2 cu.xyz > rattled.xyz

    Random numbers come from --seed and each config's content, so the copies are the
    same however the run is split up. Each copy carries info['rattle_copy'].
    """
    from wflcli.verbs.rattle import RattleTask

    task = RattleTask(copies, stdev, strain, supercell, settings.seed)
    return run_per_config(settings, task, files, output, failed_output)
