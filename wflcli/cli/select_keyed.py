"""``wfl select-top``, ``select-flat`` and ``select-hull``: configs chosen by the value of
a key (an expression, as in ``wfl filter``) rather than by descriptors."""

from __future__ import annotations

import click

from wflcli.cli.options import files_argument, output_option
from wflcli.cli.outputs import output_file_option
from wflcli.cli.whole_input import read_valid, write_configs
from wflcli.errors import ExitStatus, UsageError, WflError

_FLAT_STREAM = 0xF1A7  # the stream of random numbers of select-flat, beside --seed


def keyed_options(key_help: str):
    """FILE..., -o, --rest and the key (an expression)."""

    def decorate(command):
        command = output_file_option("--rest", help="Write the configs not selected "
                                     "here.")(command)
        command = output_option("Write the selection here (atomically) instead of "
                                "stdout.")(command)
        if key_help:
            command = click.option("--key", metavar="EXPR", required=True,
                                   help=key_help)(command)
        return files_argument(command)

    return decorate


def _expression(text: str, option: str):
    from wflcli.verbs.expression import Expression, ExpressionError

    try:
        return Expression(text)
    except ExpressionError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _values(settings, verb: str, configs, text: str, option: str, vector: bool = False):
    """(indices, values) of the configs that have the key; the others are counted."""
    from wflcli.verbs.select_keyed import key_values

    try:
        indices, values, missing = key_values(_expression(text, option), configs, vector)
    except ValueError as exc:
        raise WflError(f"{option} {text!r} on {exc}") from None
    if configs and not indices:
        raise UsageError(f"{option} {text!r}: no config has "
                         f"{' or '.join(map(repr, missing))}")
    if not settings.quiet:
        for name, count in missing.items():
            click.echo(f"wfl {verb}: {count} configs have no {name!r} (not selected)",
                       err=True)
    return indices, values


def keyed_there(settings, verb: str) -> int:
    """With --remote: the selection as one job there."""
    from wflcli.cli.remote_whole import run_there

    return run_there(settings, verb, outputs=("output", "rest"))


def _write(configs, chosen, output, rest):
    chosen = set(chosen)
    write_configs([a for i, a in enumerate(configs) if i in chosen], output)
    if rest:
        write_configs([a for i, a in enumerate(configs) if i not in chosen], rest)
    return ExitStatus.OK


@click.command("select-top")
@keyed_options("The value to rank by, e.g. COMM_forces_std_max or 'REF_energy / natoms'.")
@click.option("-n", "count", type=click.IntRange(min=1), required=True,
              help="How many configs to select (per group with --by).")
@click.option("--by", metavar="KEY", help="Select N per group of info[KEY] (e.g. config_type).")
@click.option("--lowest", is_flag=True, help="The smallest values instead of the largest.")
@click.pass_obj
def select_top(settings, files, key, output, rest, count, by, lowest):
    """Select the N configs with the largest (or smallest) value of a key (reads the
    whole input).

    \b
    Example:
      wfl committee --calc gap:A.xml --calc gap:B.xml --prefix COMM_ md.xyz \\
        | wfl select-top --key COMM_forces_std_max -n 20 -o uncertain.xyz
      wfl select-top --key 'max(norm(REF_forces))' -n 5 --by config_type pool.xyz

    KEY is an expression of the wfl filter language that gives one number per config.
    Ties go to the config that comes first; configs without the key are not selected.
    The output keeps input order.
    """
    import numpy as np

    from wflcli.verbs.select_keyed import top

    if settings.remote.system:
        return keyed_there(settings, "select-top")
    configs = read_valid(files, "select-top", settings.quiet)
    indices, values = _values(settings, "select-top", configs, key, "--key")
    groups: dict = {}
    for position, index in enumerate(indices):
        groups.setdefault(configs[index].info.get(by) if by else None, []).append(position)
    chosen = [indices[members[p]] for members in groups.values()
              for p in top(values[np.array(members)], count, lowest)]
    return _write(configs, chosen, output, rest)


def _bins(text: str):
    """A number of bins, or the name of one of numpy's rules."""
    from wflcli.verbs.select_keyed import BIN_RULES

    if text in BIN_RULES:
        return text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise UsageError(f"--bins {text}: give a number of bins, or one of numpy's rules "
                     f"({', '.join(BIN_RULES)})")


@click.command("select-flat")
@keyed_options("The value to flatten, e.g. 'REF_energy / natoms'.")
@click.option("-n", "count", type=click.IntRange(min=1), required=True,
              help="How many configs to select.")
@click.option("--kT", "kT", type=click.FloatRange(min=0, min_open=True), metavar="X",
              help="Bias each bin by exp(-(centre - lowest centre) / X), X in the key's "
                   "units [default: no bias].")
@click.option("--bins", default="auto", show_default=True, metavar="B",
              help="Number of histogram bins, or a numpy rule (auto, fd, sturges, ...).")
@click.pass_obj
def select_flat(settings, files, key, output, rest, count, kT, bins):
    """Select N configs spread evenly over the histogram of a key, optionally biased by
    a Boltzmann factor (reads the whole input).

    \b
    Example:
      wfl select-flat --key 'REF_energy / natoms' -n 50 --kT 0.1 md.xyz -o flat.xyz

    Bins the values; each bin gives min(its population, A * exp(-(centre - lowest
    centre) / kT)) configs, rounded down, for the smallest A that makes N in all, and
    the configs of a bin are drawn at random (seeded by --seed: the same seed, the same
    selection). This is the by-bin flat-histogram method of libAtoms wfl
    (wfl.select.flat_histogram), with its shares rounded down and ties broken at
    random, so it does not repeat wfl's picks exactly. Configs without the key are not
    selected; the output keeps input order.
    """
    import numpy as np

    from wflcli.verbs.select_keyed import flat_histogram

    chosen_bins = _bins(bins)
    if settings.remote.system:
        return keyed_there(settings, "select-flat")
    configs = read_valid(files, "select-flat", settings.quiet)
    indices, values = _values(settings, "select-flat", configs, key, "--key")
    rng = np.random.default_rng([settings.seed, _FLAT_STREAM])
    picks = flat_histogram(values, count, rng, kT, chosen_bins)
    return _write(configs, [indices[p] for p in picks], output, rest)


@click.command("select-hull")
@keyed_options("")
@click.option("--energy-key", required=True, metavar="EXPR",
              help="The config's total energy (divided by natoms here), e.g. REF_energy.")
@click.option("--composition-key", metavar="EXPR",
              help="Composition coordinates (a number or a row of them) from the config "
                   "[default: the atomic fraction of each element].")
@click.option("--volume", is_flag=True, help="Volume per atom as one more coordinate.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="E", help="Also select configs up to E eV/atom above the hull.")
@click.pass_obj
def select_hull(settings, files, output, rest, energy_key, composition_key, volume,
                tolerance):
    """Select the configs on (or within E of) the lower convex hull of energy per atom
    over composition, and volume per atom with --volume (reads the whole input).

    \b
    Example:
      wfl select-hull --energy-key REF_energy --tolerance 0.01 alloys.xyz -o stable.xyz

    Coordinates: the atomic fractions of the elements in the input (or
    --composition-key), volume / natoms with --volume, and energy / natoms; the hull is
    scipy's (Qhull). A config is selected when its energy per atom is at most E above
    the lower hull at its coordinates. Configs without the keys are not selected; the
    output keeps input order.
    """
    import numpy as np

    from wflcli.verbs.hull import composition, on_hull

    if settings.remote.system:
        return keyed_there(settings, "select-hull")
    configs = read_valid(files, "select-hull", settings.quiet)
    indices, energies = _values(settings, "select-hull", configs, energy_key, "--energy-key")
    if composition_key:
        placed, coords = _values(settings, "select-hull", configs, composition_key,
                                 "--composition-key", vector=True)
        energy_of = dict(zip(indices, energies))
        keep = [p for p, index in enumerate(placed) if index in energy_of]
        indices, coords = [placed[p] for p in keep], coords[keep]
        energies = np.array([energy_of[index] for index in indices])
    else:
        coords = composition([configs[i] for i in indices])[1]
    if volume:
        if any(configs[i].cell.rank < 3 for i in indices):
            raise UsageError("--volume: every config needs a cell with a volume")
        coords = np.column_stack([coords, [configs[i].get_volume() / len(configs[i])
                                           for i in indices]])
    if not indices:
        raise UsageError("no config has both keys, to place it on a hull")
    natoms = np.array([len(configs[i]) for i in indices])
    try:
        picks = on_hull(np.column_stack([coords, energies / natoms]), tolerance)
    except ValueError as exc:
        raise WflError(f"select-hull: {exc}") from None
    return _write(configs, [indices[p] for p in picks], output, rest)
