"""``wfl phonons displace|collect|sample``: harmonic phonons with phonopy."""

from __future__ import annotations

import os

import click

from wflcli.cli.lazy import LazyGroup
from wflcli.cli.options import output_option, repeats
from wflcli.cli.perconfig import config_io, run_per_config
from wflcli.errors import ExitStatus, UsageError, WflError


@click.group(cls=LazyGroup, lazy_commands={})
def phonons():
    """Harmonic phonons with phonopy: displaced supercells, force constants, samples.

    \b
    Example:
      wfl phonons displace --supercell 2x2x2 cu.xyz | wfl calc --calc emt --prefix REF_ \\
        | wfl phonons collect --forces REF_forces -d phonons -o fc.xyz
      wfl phonons sample -T 300 -n 20 fc.xyz > thermal.xyz

    Any calculator, local or --remote, can label the displaced supercells between
    displace and collect.
    """


def _require_phonopy() -> None:
    from wflcli.optional_packages import require

    require("phonopy", "phonopy", "phonons", "wfl phonons")


@phonons.command()
@click.option("--supercell", callback=repeats, default="2x2x2", show_default=True,
              metavar="AxBxC", help="Repeats of the input cell.")
@click.option("--amplitude", type=click.FloatRange(min=0, min_open=True), default=0.01,
              show_default=True, help="Displacement (A).")
@config_io
@click.pass_obj
def displace(settings, supercell, amplitude, files, output, failed_output):
    """Phonopy's displaced supercells of each input (symmetry-reduced, finite differences).

    \b
    Example:
      wfl phonons displace --supercell 2x2x2 --amplitude 0.01 cu.xyz > displaced.xyz

    Each supercell carries info['phonon_setup'] (the unit cell and supercell matrix),
    info['phonon_id'] (one per input), info['phonon_displacement'] (its number),
    info['phonon_atom'] and info['phonon_vector'] (what moved): all that
    `wfl phonons collect` needs besides the forces. An input phonopy rejects (an
    element it has no data for, no periodic cell) fails with the reason.
    """
    from wflcli.verbs.phonons import DisplaceTask

    _require_phonopy()
    return run_per_config(settings, DisplaceTask(supercell, amplitude), files, output,
                          failed_output)


def _qpoint(ctx, param, values):
    points = []
    for value in values:
        try:
            point = [float(part) for part in value.split(",")]
        except ValueError:
            point = []
        if len(point) != 3:
            raise click.BadParameter(f"{value!r} is not three numbers, as in 0.5,0,0.5")
        points.append(point)
    return points


@phonons.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--forces", "forces_key", metavar="KEY",
              help="The arrays key of the forces [default: the input's one *_forces array].")
@click.option("--q", "qpoints", multiple=True, callback=_qpoint, metavar="QX,QY,QZ",
              default=["0,0,0", "0.5,0,0", "0.5,0.5,0", "0.5,0.5,0.5", "0,0,0"],
              show_default=True, help="q-points, in the reciprocal basis of phonopy's "
              "primitive cell, for the table and (in order) the band path; repeat the option.")
@click.option("-d", "--dir", "folder", default="phonons", show_default=True, metavar="DIR",
              help="Folder for the table, the plots and phonopy's yaml files.")
@click.option("--mesh", type=click.IntRange(min=1), default=20, show_default=True,
              help="q-point mesh (N x N x N) of the density of states.")
@output_option(help="Write the supercells with force constants here instead of stdout.")
@click.pass_obj
def collect(settings, files, forces_key, qpoints, folder, mesh, output):
    """Force constants from labelled displaced supercells (reads the whole input).

    \b
    Example:
      wfl phonons collect --forces REF_forces -d phonons labelled.xyz -o fc.xyz

    The supercells of each input of `wfl phonons displace` (one phonon_id) give its
    force constants. In DIR: frequencies.tsv (THz at each --q, every input), and for
    each input NAME-phonopy.yaml (phonopy's own file, with force constants),
    NAME-band.png (the bands along the --q path) and NAME-dos.png. The output holds
    one supercell per input with arrays['phonon_force_constants'], for
    `wfl phonons sample`.
    """
    from wflcli.optional_packages import require
    from wflcli.cli.whole_input import read_all, write_configs
    from wflcli.verbs.upstream import without_failed

    _require_phonopy()
    require("matplotlib", "matplotlib", "phonons", "wfl phonons collect (its plots)")
    if settings.remote.system:
        raise UsageError("wfl phonons collect runs here (only displace and sample take "
                         "--remote)")
    configs, failed = without_failed(read_all(files))
    if failed and not settings.quiet:
        click.echo(f"wfl phonons collect: left out {failed} configs that failed upstream",
                   err=True)
    groups: dict = {}
    for atoms in configs:
        if "phonon_id" not in atoms.info:
            raise WflError("an input config has no info['phonon_id']: give the output of "
                           "wfl phonons displace, labelled")
        groups.setdefault(atoms.info["phonon_id"], []).append(atoms)
    if not groups:
        raise WflError("no displaced supercells in the input")
    forces_key = forces_key or _forces_key(configs[0])
    os.makedirs(folder, exist_ok=True)
    write_configs(_collected(groups, forces_key, qpoints, folder, mesh), output)
    return ExitStatus.OK


def _forces_key(atoms) -> str:
    keys = [key for key in atoms.arrays if key.endswith("forces")]
    if len(keys) != 1:
        raise UsageError(f"name the forces with --forces (the input has {len(keys)} *forces "
                         f"arrays: {', '.join(keys) or 'none'})")
    return keys[0]


def _collected(groups: dict, forces_key: str, qpoints, folder: str, mesh: int) -> list:
    from wflcli.io.output import atomic_file
    from wflcli.report.phonons import band_plot, dos_plot
    from wflcli.verbs.phonons import force_constants, frequencies, with_force_constants

    labels = [",".join(f"{x:g}" for x in q) for q in qpoints]
    rows, outputs = ["name\tq\tband\tfrequency_THz\n"], []
    for phonon_id, group in groups.items():
        try:
            phonon = force_constants(group, forces_key)
        except ValueError as exc:
            raise WflError(str(exc)) from None
        name = f"{group[0].get_chemical_formula()}-{phonon_id}"
        for label, values in zip(labels, frequencies(phonon, qpoints)):
            rows += [f"{name}\t{label}\t{band}\t{float(value)!r}\n"
                     for band, value in enumerate(values)]
        phonon.save(os.path.join(folder, f"{name}-phonopy.yaml"),
                    settings={"force_constants": True})
        if len(qpoints) > 1:
            band_plot(phonon, qpoints, labels, os.path.join(folder, f"{name}-band.png"))
        dos_plot(phonon, mesh, os.path.join(folder, f"{name}-dos.png"))
        outputs.append(with_force_constants(phonon, group[0].info["phonon_setup"], name))
    with atomic_file(os.path.join(folder, "frequencies.tsv")) as stream:
        stream.write("".join(rows).encode())
    return outputs


@phonons.command()
@click.option("-T", "--temperature", type=click.FloatRange(min=0, min_open=True),
              required=True, help="Temperature (K) of the harmonic distribution.")
@click.option("-n", "--samples", type=click.IntRange(min=1), default=20, show_default=True,
              help="Displaced supercells per input.")
@config_io
@click.pass_obj
def sample(settings, temperature, samples, files, output, failed_output):
    """Thermally displaced supercells drawn from force constants (phonopy).

    \b
    Example:
      wfl phonons sample -T 300 -n 20 fc.xyz | wfl calc --calc emt --prefix REF_

    Input: the output of `wfl phonons collect`. Displacements follow the harmonic
    distribution at the temperature (phonopy's random displacements), seeded by
    --seed and each input's content; each sample carries info['phonon_sample'] and
    info['phonon_temperature'].
    """
    from wflcli.verbs.phonons import SampleTask

    _require_phonopy()
    return run_per_config(settings, SampleTask(temperature, samples, settings.seed), files,
                          output, failed_output)
