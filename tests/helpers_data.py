"""Test data and comparisons: configs to compute on, extxyz text read back, atoms compared
exactly (imported by the tests; conftest.py holds only fixtures)."""

from __future__ import annotations

import numbers
import os
import threading

import numpy as np

# names built to break shells: in file and folder names, prefixes, info values, run folders
HOSTILE = ["-leading dash", "space and 'single' \"double\"", "semi;colon && rm -rf x",
           "dollar $(touch injected) `touch injected`", "new\nline", "star * and ?",
           "percent %s %n {}"]

def rattled_cells(count: int, element: str = "Cu", repeat=(2, 2, 2), stdev: float = 0.05,
                  pbc: bool = True):
    """Rattled fcc cells, each with its own seed."""
    from ase.build import bulk

    configs = []
    for i in range(count):
        atoms = bulk(element, "fcc", cubic=True) * repeat
        atoms.rattle(stdev, seed=i)
        atoms.pbc = pbc
        configs.append(atoms)
    return configs


def read_text(text: str | bytes) -> list:
    """The configs of extxyz text (as wfl wrote it), read with wflcli's reader."""
    import io

    from wflcli.io.reader import FrameReader

    data = text.encode() if isinstance(text, str) else text
    return list(FrameReader(io.BytesIO(data), "output"))


def write_configs(path, configs):
    """Write configs with full precision, so those in memory are exactly those in the file."""
    from wflcli.io.writer import format_config

    path.write_text("".join(format_config(a) for a in configs))
    return path


def assert_same_atoms(a, b, exact: bool = True):
    """Positions, numbers, cell, pbc, info and arrays equal (exactly, unless exact=False)."""
    assert len(a) == len(b)
    assert (a.numbers == b.numbers).all()
    compare = np.array_equal if exact else np.allclose
    assert compare(a.positions, b.positions)
    assert compare(np.asarray(a.cell), np.asarray(b.cell))
    assert (a.pbc == b.pbc).all()
    assert set(a.info) == set(b.info)
    for key in a.info:
        assert _equal(a.info[key], b.info[key]), key
    assert set(a.arrays) == set(b.arrays)
    for key in a.arrays:
        assert np.array_equal(a.arrays[key], b.arrays[key]), key


def _equal(x, y) -> bool:
    """Equal values of the same kind; numpy and Python scalars of one kind count as equal."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        return np.array_equal(x, y, equal_nan=x.dtype.kind == "f") and x.dtype.kind == y.dtype.kind
    if isinstance(x, (bool, np.bool_)) or isinstance(y, (bool, np.bool_)):
        return isinstance(x, (bool, np.bool_)) and isinstance(y, (bool, np.bool_)) and x == y
    if isinstance(x, numbers.Number) and isinstance(y, numbers.Number):
        same_kind = isinstance(x, numbers.Integral) == isinstance(y, numbers.Integral)
        return same_kind and (x == y or (np.isnan(x) and np.isnan(y)))
    return x == y and type(x) is type(y)


def fifo_reader(path):
    """A FIFO at ``path`` and a thread reading it whole: ``(thread, received)``, where
    ``received`` gets the bytes once the writer closes it (a FIFO that a program replaced
    by a file would leave the thread waiting)."""
    os.mkfifo(path)
    received: list[bytes] = []
    thread = threading.Thread(target=lambda: received.append(path.read_bytes()), daemon=True)
    thread.start()
    return thread, received


def identical(a, b) -> bool:
    """The same value: the same type, and for numbers and arrays the same bits (a NaN is
    its own, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return np.float64(a).tobytes() == np.float64(b).tobytes()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(identical, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(identical(a[k], b[k]) for k in a)
    return a == b
