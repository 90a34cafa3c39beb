"""``wfl supercell`` and ``wfl defects``: bigger cells, point defects and surfaces."""

from __future__ import annotations

import click

from wflcli.cli.perconfig import config_io, run_per_config


@click.command()
@click.option("--max-atoms", "-N", type=click.IntRange(min=1), required=True,
              help="At most this many atoms in each supercell.")
@config_io
@click.pass_obj
def supercell(settings, max_atoms, files, output, failed_output):
    """The most cubic supercell of each input with at most N atoms.

    \b
    Example:
      wfl supercell --max-atoms 64 primitive.xyz | wfl defects --kind vacancy -n 5

    Among equally cubic supercells the largest is taken. Each output carries
    info['supercell_matrix'] (P, row by row: supercell cell = P @ input cell) and
    info['supercell_deviation'] (0 for a cube).
    """
    from wflcli.verbs.supercell import SupercellTask

    return run_per_config(settings, SupercellTask(max_atoms), files, output, failed_output)


def _miller(ctx, param, value):
    try:
        indices = tuple(int(part) for part in value.replace(" ", ",").split(",") if part)
    except ValueError:
        indices = ()
    if len(indices) != 3:
        raise click.BadParameter(f"{value!r} is not three integers, as in 1,1,1")
    if not any(indices):
        raise click.BadParameter("0,0,0 names no plane")
    return indices


@click.command()
@click.option("--kind", type=click.Choice(["vacancy", "antisite", "interstitial", "surface"]),
              required=True, help="What to make.")
@click.option("-n", "--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Point defects: configs per input, each placed at random.")
@click.option("--count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Point defects: defects in each config.")
@click.option("--element", metavar="SYMBOL",
              help="Interstitial species [default: one of the input's, at random].")
@click.option("--min-distance", type=click.FloatRange(min=0), default=1.5, show_default=True,
              help="Interstitial: at least this far from every atom (A).")
@click.option("--miller", callback=_miller, default="1,1,1", show_default=True,
              metavar="H,K,L", help="Surface: the plane.")
@click.option("--layers", type=click.IntRange(min=1), default=4, show_default=True,
              help="Surface: layers of the plane in the slab.")
@click.option("--vacuum", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Surface: vacuum on each side of the slab (A).")
@config_io
@click.pass_obj
def defects(settings, kind, copies, count, element, min_distance, miller, layers, vacuum,
            files, output, failed_output):
    """Vacancies, antisites, interstitials (seeded) and surface slabs of each input.

    \b
    Example:
      wfl defects --kind vacancy -n 5 --count 2 supercells.xyz > vacancies.xyz
      wfl defects --kind surface --miller 1,1,1 --layers 4 --vacuum 10 bulk.xyz

    Point defects are placed at random (from --seed and each config's content); each
    output carries config_type and info['defect'] (the kind), info['defect_atoms'] (indices removed,
    swapped or added) and info['defect_copy']. A slab carries info['miller'] and is
    periodic in the plane only. An input where the defect cannot be made (too few atoms,
    one species for antisites, no room for an interstitial) fails with the reason.
    """
    from ase.data import atomic_numbers

    from wflcli.verbs.defects import DefectTask

    if element is not None and element not in atomic_numbers:
        raise click.UsageError(f"--element: unknown element {element!r}")
    task = DefectTask(kind, copies, count, element, min_distance, miller, layers, vacuum,
                      settings.seed)
    return run_per_config(settings, task, files, output, failed_output)
