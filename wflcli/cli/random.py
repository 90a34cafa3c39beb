"""``wfl random``: random crystal structures of given compositions."""

from __future__ import annotations

import click

from wflcli.cli.options import failed_option, output_option
from wflcli.cli.perconfig import run_per_config


def _space_groups(ctx, param, value):
    groups = []
    for part in value.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        try:
            span = range(int(low), int(high or low) + 1)
        except ValueError:
            span = range(0)
        if not span or span.start < 1 or span.stop > 231:
            raise click.BadParameter(f"{part!r}: space groups are 1 to 230, as in 1-230 or "
                                     "225,227")
        groups += [g for g in span if g not in groups]
    return tuple(groups)


def _separations(ctx, param, values):
    from ase.data import atomic_numbers

    found = []
    for value in values:
        pair, equals, number = value.rpartition("=")
        ends = pair.split("-") if equals else ["*", "*"]
        try:
            distance = float(number)
        except ValueError:
            distance = -1.0
        named = ends == ["*", "*"] or all(e in atomic_numbers for e in ends)
        if len(ends) != 2 or distance <= 0 or not named:
            raise click.BadParameter(f"{value!r} is not like 2.0 or Na-Cl=2.4")
        found.append((*ends, distance))
    return tuple(found)


@click.command("random")
@click.argument("compositions", nargs=-1)
@click.option("-n", "--count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Structures per composition.")
@click.option("--space-groups", callback=_space_groups, default="1-230", show_default=True,
              metavar="LIST", help="Space groups to draw from, as 1-230 or 2,12,225-230.")
@click.option("--volume", type=click.FloatRange(min=0, min_open=True), metavar="A3",
              help="Volume per atom (A^3) [default: pyxtal's estimate from atomic radii].")
@click.option("--min-distance", "separations", multiple=True, callback=_separations,
              metavar="[A-B=]D", help="Minimum separation (A), for every pair or one pair; "
              "repeat the option [default: pyxtal's atomic tolerances].")
@click.option("--tries", type=click.IntRange(min=1), default=10, show_default=True,
              help="Attempts per structure (space groups in turn) before it fails.")
@click.option("--buildcell", "seed_file", type=click.Path(exists=True, dir_okay=False),
              metavar="SEED", help="Use AIRSS's buildcell on this seed file instead of "
              "pyxtal (buildcell must be on PATH).")
@output_option()
@failed_option("Write failed structures here instead of into the output.")
@click.pass_obj
def random_(settings, compositions, count, space_groups, volume, separations, tries,
            seed_file, output, failed_output):
    """Random crystal structures: pyxtal's, in random space groups, or AIRSS's buildcell.

    \b
    Example:
      wfl random Si8 Na4Cl4 -n 10 --space-groups 2-230 --volume 20 --min-distance 2.0 \\
        --tries 50
      wfl random --buildcell Si.cell -n 50 | wfl optimize --calc emt

    Each structure draws its space group from the list (another is tried when the
    composition does not fit, up to --tries), its lattice (of the given volume) and
    its sites, seeded by --seed and its composition and number. It carries
    config_type=random, random_composition, random_number and random_space_group.
    With --buildcell the seed file says everything; its randomness is buildcell's own.
    """
    from wflcli.optional_packages import require
    from wflcli.verbs.placeholder import placeholder

    if seed_file:
        return _buildcell(settings, seed_file, count, compositions, output, failed_output)
    require("pyxtal", "pyxtal", "random", "wfl random")
    from wflcli.verbs.random_structures import RandomTask, check_room, counts_of

    if not compositions:
        raise click.UsageError("name the compositions (as Si8 or Na4Cl4), or --buildcell")
    task = RandomTask(space_groups, volume, separations, tries, settings.seed)
    for composition in compositions:
        try:
            counts = counts_of(composition)
            if volume and all(task.distance(s, s) for s in counts):
                check_room(counts, volume, task.distance)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    configs = (placeholder(random_composition=c, random_number=k)
               for c in compositions for k in range(count))
    return run_per_config(settings, task, (), output, failed_output, configs=configs)


def _buildcell(settings, seed_file, count, compositions, output, failed_output):
    from wflcli.verbs.buildcell import PROGRAM, BuildcellTask, buildcell_path
    from wflcli.verbs.placeholder import placeholder

    if compositions:
        raise click.UsageError("with --buildcell the seed file gives the composition")
    if buildcell_path() is None:
        raise click.UsageError(f"--buildcell needs AIRSS's {PROGRAM} on PATH (it is not): "
                               "install AIRSS, or leave out --buildcell to use pyxtal")
    with open(seed_file, encoding="utf-8") as stream:
        text = stream.read()
    configs = (placeholder(buildcell_seed=text, random_seed_file=seed_file, random_number=k)
               for k in range(count))
    return run_per_config(settings, BuildcellTask(), (), output, failed_output,
                          configs=configs)
