"""Files that are not extxyz: which format a file is (by its name, then by ASE's look at its
content), reading it through ASE, and what ``-o`` writes for a name (extxyz, compressed
extxyz, or any format ASE writes, with the results where ASE users look for them).

extxyz stays the fast path: our reader and writer, plain or compressed. Anything else goes
through ASE, results becoming plain info/arrays keys on the way in (as ``wfl calc`` writes
them) and a SinglePointCalculator on the way out (so ``ase gui`` and ``ase db`` show them).
"""

from __future__ import annotations

import os

from wflcli.errors import InputError, UsageError
from wflcli.io.sources import COMPRESSORS

_EXTXYZ = {"extxyz", "xyz"}
_EXTXYZ_SUFFIXES = (".xyz", ".extxyz")
_RESULTS = ("energy", "free_energy", "forces", "stress", "energies", "magmoms", "charges")


def extension(path: str) -> tuple[str, str]:
    """(format suffix, compression suffix) of a file name, lower case: ``a.XYZ.gz`` gives
    (".xyz", ".gz")."""
    base, last = os.path.splitext(path.lower())
    if last in COMPRESSORS:
        return os.path.splitext(base)[1], last
    return last, ""


def read_format(path: str) -> str | None:
    """The ASE format to read ``path`` with, or None when it is extxyz (our reader)."""
    suffix, compressed = extension(path)
    if path == "-" or suffix in _EXTXYZ_SUFFIXES or compressed:
        return None
    from ase.io.formats import UnknownFileTypeError, filetype

    try:
        found = filetype(path)
    except (UnknownFileTypeError, OSError, ValueError):
        return None  # our reader says what is wrong with it
    return None if found in _EXTXYZ else found


def read_with_ase(source, fmt: str, name: str | None = None):
    """The configs of ``source`` (a path, or a file object called ``name``) as ASE reads
    them in ``fmt``; a calculator's results become plain info/arrays keys (no prefix), as
    they are in an extxyz file ASE wrote."""
    import ase.io

    from wflcli.verbs.results import results_annotation

    path = name or source
    try:
        for atoms in ase.io.iread(source, index=":", format=fmt):
            if atoms.calc is not None:
                found = results_annotation(len(atoms), dict(atoms.calc.results), "")
                atoms.calc = None
                atoms.info.update(found["info"])
                atoms.arrays.update(found["arrays"])
            yield atoms
    except (OSError, ValueError, KeyError, IndexError, StopIteration, AssertionError) as exc:
        raise InputError(path, None, f"ASE cannot read it as {fmt}: {exc}") from None


def write_format(path: str) -> str | None:
    """The ASE format ``-o path`` writes, or None for extxyz (ours, compressed or not)."""
    suffix, compressed = extension(path)
    if suffix in _EXTXYZ_SUFFIXES or (compressed and suffix in ("", ".xyz", ".extxyz")):
        return None
    if not suffix:
        return None  # no extension: extxyz, as always
    from ase.io.formats import UnknownFileTypeError, filetype, ioformats

    try:
        name = filetype(path, read=False)  # ASE's choice for the name
    except (UnknownFileTypeError, ValueError):
        return None
    if name in _EXTXYZ or name not in ioformats:
        return None
    if not ioformats[name].can_write:
        raise UsageError(f"-o {path}: ASE reads {name} files but cannot write them")
    return name


def write_with_ase(configs: list, path: str, fmt: str, shown: str | None = None) -> None:
    """Write ``configs`` to ``path`` in ASE's ``fmt``, the results of one prefix (the last
    added with an energy) as each config's SinglePointCalculator. ``shown``: the name to
    give in messages (the user's, for a temporary ``path``)."""
    import ase.io
    from ase.io.formats import ioformats

    if ioformats[fmt].single and len(configs) > 1:
        raise UsageError(f"-o {shown or path}: a {fmt} file holds one config, and there are "
                         f"{len(configs)} (write .xyz, .traj or .db, or one file each)")
    ase.io.write(path, [with_results(atoms) for atoms in configs], format=fmt)


def with_results(atoms):
    """``atoms`` with a SinglePointCalculator holding the results of its newest prefix."""
    from ase.calculators.singlepoint import SinglePointCalculator

    prefixes = [key[: -len("energy")] for key in atoms.info
                if key.endswith("energy") and not key.endswith("free_energy")]
    prefix = prefixes[-1] if prefixes else None  # the newest: what the last verb computed
    if prefix is None:
        return atoms
    results = {}
    for name in _RESULTS:
        value = atoms.info.get(prefix + name, atoms.arrays.get(prefix + name))
        if value is not None:
            results[name] = value
    atoms = atoms.copy()
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms
