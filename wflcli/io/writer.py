"""extxyz text of a config: full-precision floats, deterministic, readable by ASE.

Arrays are written with shortest round-trip floats (ASE's own writer rounds them to 8
decimals), so ``read -> write -> read`` gives back exactly the same numbers.
"""

from __future__ import annotations

import functools

import numpy as np

from wflcli.io.floats import float_rows, float_texts
from wflcli.io.keyvalue import UnwritableValue, format_comment_line, quote
from wflcli.io.periodic import MAX_ATOMIC_NUMBER, periodic_without_cell

_FILE_NAMES = {"positions": "pos", "numbers": "Z", "charges": "charge", "symbols": "species"}
_TYPE_LETTERS = {"f": "R", "i": "I", "u": "I", "b": "L", "U": "S", "O": "S"}
_RESERVED_INFO = frozenset({"Lattice", "Properties", "pbc"})


@functools.cache
def _symbols() -> dict[int, str]:
    """Symbol of each atomic number (a dict, not ASE's list, in which -1 is Og)."""
    from ase.data import chemical_symbols  # deferred: keeps `wfl --help` light

    return dict(enumerate(chemical_symbols[:MAX_ATOMIC_NUMBER + 1]))


def format_config(atoms) -> str:
    """The extxyz frame of one ``Atoms`` (results must be in info/arrays, not a calculator)."""
    natoms = len(atoms)
    numbers = atoms.numbers.tolist()
    known = _symbols()
    try:
        symbols = [known[z] for z in numbers]
    except KeyError:
        raise UnwritableValue(f"atomic numbers {sorted(set(numbers))} include one that is no "
                              f"element (0 to {MAX_ATOMIC_NUMBER})") from None
    problem = periodic_without_cell(atoms)
    if problem:
        raise UnwritableValue(f"a config {problem}")
    names = ["species", "pos"]
    types = ["S", "R"]
    widths = [1, 3]
    columns = [symbols,
               _texts(atoms.arrays["positions"], "positions")]
    extra = [(k, v) for k, v in atoms.arrays.items() if k not in ("numbers", "positions")]
    move_mask = _move_mask(atoms)
    if move_mask is not None:
        extra.insert(0, ("move_mask", move_mask))
    for key, values in extra:
        if values.ndim > 2 or values.dtype.kind not in _TYPE_LETTERS:
            raise UnwritableValue(f"array {key!r} of shape {values.shape} and type "
                                  f"{values.dtype} cannot be written to extxyz")
        name = _FILE_NAMES.get(key, key)
        if not name or ":" in name:  # Properties would not read back (quoting is no help)
            raise UnwritableValue(f"array {key!r}: an extxyz array name must be a non-empty "
                                  "name without ':'")
        names.append(name)
        types.append(_TYPE_LETTERS[values.dtype.kind])
        widths.append(1 if values.ndim == 1 else values.shape[1])
        columns.append(_texts(values, key))

    header = {}
    if atoms.cell.array.any():
        header["Lattice"] = np.asarray(atoms.cell).T
    properties = ":".join(f"{quote(n)}:{t}:{w}" for n, t, w in zip(names, types, widths))
    info = {k: v for k, v in atoms.info.items() if k not in _RESERVED_INFO}
    comment = _header_text(header)
    comment = (comment + " " if comment else "") + f"Properties={properties}"
    if info:
        comment += " " + format_comment_line(info)
    comment += ' pbc="' + " ".join("T" if p else "F" for p in atoms.pbc.tolist()) + '"'
    rows = map(" ".join, zip(*columns)) if natoms else ()
    return f"{natoms}\n{comment}\n" + "".join(row + "\n" for row in rows)


def _header_text(header: dict) -> str:
    """The Lattice pair, or nothing: a float64 cell's text is remembered."""
    lattice = header.get("Lattice")
    if lattice is None or lattice.dtype != np.float64:
        return format_comment_line(header)
    return _lattice_text(lattice.tobytes())


@functools.lru_cache(maxsize=256)
def _lattice_text(lattice: bytes) -> str:
    """``Lattice="..."`` of the 9 float64s of a Lattice value (row by row), remembered:
    the cell of a file repeats frame after frame, and its text costs more than the atoms
    of a small config."""
    return format_comment_line({"Lattice": np.frombuffer(lattice).reshape(3, 3)})


def _texts(values: np.ndarray, key: str) -> list[str]:
    """One string per atom holding that atom's values of one array."""
    kind = values.dtype.kind
    if kind == "f" and values.ndim == 2 and values.shape[1]:
        return float_rows(values.tolist())
    flat = values.ravel().tolist()
    if kind in "UO":
        flat = [str(v) for v in flat]
        for text in flat:
            if not text or text.split() != [text]:
                raise UnwritableValue(f"array {key!r} holds {text!r}: extxyz text columns "
                                      "must be single words")
    elif kind == "b":
        flat = ["T" if v else "F" for v in flat]
    elif kind == "f":
        flat = float_texts(flat)  # shortest round-trip text of each number (repr's)
    else:
        flat = list(map(repr, flat))
    if values.ndim == 1:
        return flat
    return list(map(" ".join, zip(*[iter(flat)] * values.shape[1])))


def _move_mask(atoms):
    """ASE's move_mask column (True = free) for FixAtoms/FixCartesian, or None if all free.

    Other constraints have no extxyz form and are not written, as in ASE.
    """
    if not atoms.constraints:
        return None
    from ase.constraints import FixAtoms, FixCartesian

    fixes = [c for c in atoms.constraints if isinstance(c, (FixAtoms, FixCartesian))]
    if not fixes:
        return None
    cartesian = any(isinstance(c, FixCartesian) for c in fixes)
    mask = np.ones((len(atoms), 3) if cartesian else len(atoms), dtype=bool)
    for c in fixes:
        if isinstance(c, FixAtoms):
            mask[c.index] = False
        else:
            mask[c.index] &= ~c.mask
    return None if mask.all() else mask
