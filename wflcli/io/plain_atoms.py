"""The reader's ``Atoms``, made without ``Atoms.__init__``: its checks and setters cost
about 15 us a config, more than all the rest of making one from arrays already checked.

``plain_atoms`` gives what ``Atoms(numbers=, positions=, cell=, pbc=, info=)`` gives for
the values the reader has checked (1-D ints, (n, 3) floats, a 3x3 float cell or none,
pbc as one bool or three): the same attributes, each of the same type, dtype, shape and
memory layout. Whether that holds for the installed ASE is tried once, on a sample, against
the real constructor; where it does not (another ASE keeps other state), and for any other
kind of value, the real constructor is used.
"""

from __future__ import annotations

import functools

import numpy as np


def plain_atoms(numbers: np.ndarray, positions: np.ndarray, cell, pbc, info: dict):
    """``Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc, info=info)``."""
    from ase import Atoms

    if _known_kinds(numbers, positions, cell, pbc) and _same_as_ase():
        return _made(numbers, positions, cell, pbc, info)
    return Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc, info=info)


def _known_kinds(numbers, positions, cell, pbc) -> bool:
    return (type(numbers) is np.ndarray and numbers.ndim == 1 and numbers.dtype.kind == "i"
            and type(positions) is np.ndarray and positions.dtype == np.float64
            and positions.shape == (len(numbers), 3)
            and (cell is None or (type(cell) is np.ndarray and cell.shape == (3, 3)
                                  and cell.dtype == np.float64))
            and (type(pbc) is bool or (type(pbc) is list and len(pbc) == 3
                                       and all(type(p) is bool for p in pbc))))


def _made(numbers, positions, cell, pbc, info):
    from ase import Atoms
    from ase.cell import Cell

    array = np.zeros((3, 3))
    if cell is not None:
        array[:] = cell
    flags = np.zeros(3, bool)
    flags[:] = pbc
    atoms = Atoms.__new__(Atoms)
    atoms.__dict__.update(
        _cellobj=Cell(array), _pbc=flags,
        arrays={"numbers": np.array(numbers, int, order="C"),
                "positions": np.array(positions, float, order="C")},
        _celldisp=np.zeros((3, 1)), _constraints=[], info=dict(info), _calc=None)
    return atoms


@functools.cache
def _same_as_ase() -> bool:
    """Whether ``_made`` gives what the installed ASE's constructor gives, on a sample."""
    from ase import Atoms

    sample = (np.array([29, 1]), np.array([[0.5, 1.5, -2.0], [3.0, 0.25, 1e-9]]),
              np.array([[4.0, 0.0, 0.0], [0.5, 4.0, 0.0], [0.0, 0.25, 4.5]]).T,
              [True, False, True], {"energy": -1.5, "config_type": "bulk"})
    return _same(_made(*sample), Atoms(numbers=sample[0], positions=sample[1],
                                       cell=sample[2], pbc=sample[3], info=sample[4]))


def _same(ours, theirs) -> bool:
    mine, real = vars(ours), vars(theirs)
    if type(ours) is not type(theirs) or list(mine) != list(real):
        return False
    return all(_same_value(mine[key], real[key]) for key in real)


def _same_value(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and a.flags.c_contiguous
                == b.flags.c_contiguous and a.flags.f_contiguous == b.flags.f_contiguous
                and np.array_equal(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same_value, a, b))
    if type(a).__name__ == "Cell":
        return _same_value(a.array, b.array) and vars(a).keys() == vars(b).keys()
    return a == b
