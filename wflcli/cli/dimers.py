"""``wfl dimers``: two-atom configs over a range of distances, for pairs of species."""

from __future__ import annotations

import re

import click

from wflcli.cli.options import output_option
from wflcli.cli.perconfig import run_per_config


def _range(ctx, param, value):
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*", value)
    try:
        start, stop = (float(g) for g in match.groups())
    except (AttributeError, ValueError):
        raise click.BadParameter(f"{value!r} is not like 0.5:5.0") from None
    if not 0 < start <= stop:
        raise click.BadParameter(f"{value!r}: need 0 < START <= STOP")
    return start, stop


def _pairs(ctx, param, value):
    from ase.data import atomic_numbers

    if value is None:
        return None
    pairs = []
    for text in value.split(","):
        ends = [part.strip() for part in text.split("-")]
        if len(ends) != 2 or not all(ends):
            raise click.BadParameter(f"pair {text.strip()!r} does not name two elements, "
                                     "as in H-O")
        unknown = [e for e in ends if e not in atomic_numbers]
        if unknown:
            raise click.BadParameter(f"pair {text.strip()!r}: unknown element {unknown[0]!r}")
        pairs.append("-".join(ends))
    return list(dict.fromkeys(pairs))


@click.command()
@click.argument("species", nargs=-1)
@click.option("--pairs", callback=_pairs, metavar="A-B,...",
              help="Only these pairs [default: every pair of the SPECIES, A-A included].")
@click.option("--range", "span", callback=_range, default="0.5:5.0", show_default=True,
              metavar="START:STOP", help="Distances from START to STOP (A, or with "
              "--relative in units of the pair's covalent radii sum).")
@click.option("--step", type=click.FloatRange(min=0, min_open=True), default=0.1,
              show_default=True, help="Distance step (same units as --range).")
@click.option("--relative", is_flag=True,
              help="--range and --step in units of the sum of the pair's covalent radii.")
@click.option("--box", type=click.FloatRange(min=0, min_open=True), metavar="A",
              help="Put each dimer at the centre of a cubic cell of this edge (not periodic); "
                   "default: no cell.")
@output_option()
@click.pass_obj
def dimers(settings, species, pairs, span, step, relative, box, output):
    """Dimers: two atoms at each distance of a grid, for each pair of species.

    \b
    Example:
      wfl dimers H C O --range 0.5:5.0 --step 0.05 \\
        | wfl calc --calc tblite:electronic_temperature=5000 -o dimers.xyz
      wfl dimers --pairs H-H,C-O --relative --range 0.6:3 --step 0.1 --box 20

    Pulled apart, most pairs are two radicals whose SCF does not converge at tblite's
    300 K: a higher electronic temperature smears their occupations.

    Each config has config_type=dimer, dimer_pair (A-B), dimer_distance (A) and, with
    --relative, dimer_relative_distance; the first atom is at the origin (at the box
    centre with --box) and the second along x.
    """
    from ase.data import atomic_numbers

    from wflcli.verbs.dimers import DimerTask, all_pairs, covalent_sum, grid
    from wflcli.verbs.placeholder import placeholder

    unknown = [s for s in species if s not in atomic_numbers]
    if unknown:
        raise click.UsageError(f"unknown element(s): {', '.join(unknown)}")
    if not species and not pairs:
        raise click.UsageError("name the SPECIES, or the --pairs")
    if species and pairs:
        strays = [p for p in pairs if not set(p.split("-")) <= set(species)]
        if strays:
            raise click.UsageError(f"pair {strays[0]} names an element not among the SPECIES")
    pairs = pairs or all_pairs(species)
    distances = grid(*span, step)
    if box:
        longest = max(distances) * (max(covalent_sum(*p.split("-")) for p in pairs)
                                    if relative else 1)
        if longest >= box:
            raise click.UsageError(f"--box {box:g} is not larger than the longest distance "
                                   f"({longest:g} A)")
    configs = (placeholder(dimer_pair=pair) for pair in pairs)
    return run_per_config(settings, DimerTask(tuple(distances), relative, box), (), output, None,
                          configs=configs)
