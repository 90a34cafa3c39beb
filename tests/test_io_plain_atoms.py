"""The reader's Atoms, made without Atoms.__init__ (io/plain_atoms.py), are exactly what
ASE's constructor makes of the same values, and the constructor is used where that cannot
be shown."""

from __future__ import annotations

import io

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule

from wflcli.io import plain_atoms as module
from wflcli.io.plain_atoms import plain_atoms
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config

CELL = np.array([[4.0, 0.0, 0.0], [0.5, 4.0, 0.0], [0.0, 0.25, 4.5]])
VALUES = [  # numbers, positions, cell, pbc, info: kinds the reader gives
    (np.array([29, 1, 8]), np.arange(9.0).reshape(3, 3), CELL.T, True, {"e": -1.5}),
    (np.array([1]), np.zeros((1, 3)), None, False, {}),
    (np.array([6, 6]), np.ones((2, 3)) * 1e-300, CELL, [True, False, True],
     {"a": np.arange(3), "s": "x"}),
    (np.array([], dtype=int), np.zeros((0, 3)), None, [False] * 3, {}),
]


def _state(atoms) -> dict:
    """Every attribute, arrays as (dtype, shape, C/F layout, bytes): what must be equal."""
    def described(value):
        if isinstance(value, np.ndarray):
            return (value.dtype, value.shape, value.flags.c_contiguous,
                    value.flags.f_contiguous, value.tobytes())
        if isinstance(value, dict):
            return [(k, described(v)) for k, v in value.items()]
        if type(value).__name__ == "Cell":
            return ("Cell", described(value.array))
        return (type(value), value)
    return [(key, described(value)) for key, value in vars(atoms).items()]


@pytest.mark.parametrize("values", VALUES)
def test_same_state_as_the_constructor(values):
    numbers, positions, cell, pbc, info = values
    ours = plain_atoms(numbers, positions, cell, pbc, info)
    theirs = Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc, info=info)
    assert type(ours) is Atoms
    assert _state(ours) == _state(theirs)
    assert ours.info is not info and ours.arrays["positions"] is not positions


def test_made_without_the_constructor_when_ase_agrees(monkeypatch):
    assert module._same_as_ase()
    calls = []
    real = Atoms.__init__
    monkeypatch.setattr(Atoms, "__init__", lambda self, *a, **k: calls.append(1) or real(
        self, *a, **k))
    plain_atoms(*VALUES[0])
    assert calls == []


def test_a_different_ase_gets_its_own_constructor(monkeypatch):
    """Stands in for an ASE version whose Atoms hold other state: the sample check sees it
    and every config is then made by the constructor."""
    real = Atoms.__init__

    def future_init(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self._future_state = {}

    monkeypatch.setattr(Atoms, "__init__", future_init)
    module._same_as_ase.cache_clear()
    try:
        atoms = plain_atoms(*VALUES[0])
        assert not module._same_as_ase()
        assert "_future_state" in vars(atoms)
    finally:
        module._same_as_ase.cache_clear()


@pytest.mark.parametrize("pbc", [np.array([True, False, True]), "T", 1, [True, False]])
def test_other_kinds_of_values_go_to_the_constructor(pbc):
    numbers, positions, cell, _, info = VALUES[0]
    try:
        theirs = Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc, info=info)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)):
            plain_atoms(numbers, positions, cell, pbc, info)
        return
    assert _state(plain_atoms(numbers, positions, cell, pbc, info)) == _state(theirs)


def test_read_configs_are_what_the_constructor_gives():
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    cu.info["energy"] = 1.5
    slab = bulk("Al", "fcc", a=4.05) * (2, 1, 1)
    slab.pbc = [True, True, False]
    text = "".join(map(format_config, [cu, molecule("H2O"), slab]))
    for atoms in FrameReader(io.BytesIO(text.encode()), "t.xyz"):
        made = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell.array,
                     pbc=atoms.pbc.tolist(), info=atoms.info)
        assert _state(atoms) == _state(made)
