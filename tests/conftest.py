"""Shared fixtures: running ``wfl`` in process or as the installed program, and test data."""

from __future__ import annotations

import numbers
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from wflcli.cli.main import run


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory, monkeypatch):
    """Every test gets its own store (outside its tmp_path, which stays the test's own):
    nothing is read from or left in the user's ~/.wflcli."""
    monkeypatch.setenv("WFLCLI_HOME", str(tmp_path_factory.mktemp("wflcli-home")))


@pytest.fixture
def wfl():
    """Run ``wfl ARGS`` in this process with stdin given; stdout and stderr kept apart."""

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            code = run([str(a) for a in args])
        return Result(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


HERE = Path(__file__).parent


@pytest.fixture
def calc_log(tmp_path, monkeypatch):
    """Counts calls of the test calculators (tests/helpers_calc.py, importable as
    ``python:helpers_calc:...``) made by in-process and subprocess runs."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CALC_LOG", str(log))
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def calls() -> int:
        count = len(log.read_text().splitlines()) if log.exists() else 0
        log.unlink(missing_ok=True)
        return count

    return calls


WFL_PROGRAM = shutil.which("wfl", path=os.path.dirname(sys.executable)) or "wfl"


@pytest.fixture
def wfl_program():
    """Run the installed ``wfl`` as a subprocess (start-up, signals, pipes, exit codes)."""

    def invoke(*args: str, input: bytes | None = None, timeout: float = 120, **kwargs):
        return subprocess.run([WFL_PROGRAM, *map(str, args)], input=input, capture_output=True,
                              timeout=timeout, **kwargs)

    return invoke


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


@pytest.fixture
def cu_file(tmp_path):
    """20 rattled 32-atom Cu cells written by ASE."""
    import ase.io

    path = tmp_path / "cu.xyz"
    ase.io.write(path, rattled_cells(20))
    return path


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
