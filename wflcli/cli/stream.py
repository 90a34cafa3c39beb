"""Stream utilities: ``wfl cat``, ``wfl head``, ``wfl count``, ``wfl info``."""

from __future__ import annotations

import io
import itertools
import json
import sys

import click

from wflcli.cli.options import output_option
from wflcli.cli.whole import write_configs, write_text
from wflcli.errors import ExitStatus


def _configs(files):
    from wflcli.io.reader import read_configs

    return read_configs(files or ["-"], sys.stdin.buffer)


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-f", "--format", "fmt", metavar="FORMAT",
              help="Read FILEs with ASE in this format (traj, vasp-xdatcar, cif, ...); "
                   "calculator results become plain info/arrays keys.")
@output_option()
def cat(files, fmt, output):
    """Concatenate configs, converting from any format ASE reads (streams).

    \b
    Example:
      wfl cat a.xyz b.xyz.gz > all.xyz
      wfl cat -f traj md.traj -o md.xyz
    """
    write_configs(_ase_configs(files, fmt) if fmt else _configs(files), output)
    return ExitStatus.OK


def _ase_configs(files, fmt):
    import ase.io

    from wflcli.errors import InputError, UsageError
    from wflcli.verbs.results import results_annotation

    from ase.io.formats import ioformats

    if fmt not in ioformats or not ioformats[fmt].can_read:
        raise UsageError(f"-f {fmt}: not a format ASE can read (`ase info --formats` "
                         "lists them)")
    binary = ioformats[fmt].isbinary
    for path in files or ["-"]:
        source = path
        if path == "-":
            source = sys.stdin.buffer if binary else io.TextIOWrapper(sys.stdin.buffer, "utf-8")
        try:
            for atoms in ase.io.iread(source, index=":", format=fmt):
                if atoms.calc is not None:
                    found = results_annotation(len(atoms), dict(atoms.calc.results), "")
                    atoms.calc = None
                    atoms.info.update(found["info"])
                    atoms.arrays.update(found["arrays"])
                yield atoms
        except (OSError, ValueError, KeyError, IndexError, StopIteration) as exc:
            raise InputError(path, None, f"ASE cannot read it as {fmt}: {exc}") from None


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-n", "count", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many configs.")
def head(files, count):
    """The first N configs (reads no further).

    \b
    Example:
      wfl head -n 5 big.xyz | wfl calc --calc emt
    """
    write_configs(itertools.islice(_configs(files), count), None)
    return ExitStatus.OK


@click.command()
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--by", default="config_type", show_default=True, metavar="KEY",
              help="Count configs per value of info[KEY].")
def count(files, as_json, by):
    """Count configs, atoms, elements and config types (reads the whole input).

    \b
    Example:
      wfl count train.xyz
      wfl count --json *.xyz | jq .configs
    """
    from collections import Counter

    configs = atoms_total = 0
    species: Counter = Counter()
    groups: Counter = Counter()
    for atoms in _configs(files):
        configs += 1
        atoms_total += len(atoms)
        species.update(atoms.get_chemical_symbols())
        groups[str(atoms.info.get(by, "-"))] += 1
    report = {"configs": configs, "atoms": atoms_total, "species": dict(sorted(species.items())),
              by: dict(sorted(groups.items()))}
    if as_json:
        write_text(json.dumps(report) + "\n")
        return ExitStatus.OK
    lines = [f"configs  {configs}", f"atoms    {atoms_total}",
             "species  " + " ".join(f"{s}:{n}" for s, n in report["species"].items()),
             f"{by}:"] + [f"  {name:20} {n}" for name, n in report[by].items()]
    write_text("\n".join(lines) + "\n")
    return ExitStatus.OK


@click.command()
@click.argument("keys", nargs=-1, required=True)
@click.option("-i", "--input", "files", multiple=True, metavar="FILE",
              help="Read this file (repeatable; default stdin).")
@click.option("--no-header", is_flag=True, help="Leave out the line of key names.")
def info(keys, files, no_header):
    """Print info values as tab-separated columns, one config a line (streams).

    \b
    Example:
      wfl info config_type REF_energy natoms -i train.xyz | sort -k2 -g | head

    Besides info keys: natoms, formula, index. Vectors print space-separated; a
    missing value prints as an empty field.
    """
    from wflcli.io.keyvalue import format_scalar

    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        try:
            import numpy as np

            array = np.asarray(value)
            if array.dtype.kind in "ifb":
                return " ".join(format_scalar(v) for v in array.ravel().tolist())
        except (TypeError, ValueError):
            pass
        return json.dumps(value)

    if not no_header:
        write_text("\t".join(keys) + "\n")
    for index, atoms in enumerate(_configs(list(files))):
        derived = {"natoms": len(atoms), "formula": atoms.get_chemical_formula(),
                   "index": index}
        write_text("\t".join(text(atoms.info.get(k, derived.get(k))) for k in keys) + "\n")
    return ExitStatus.OK
