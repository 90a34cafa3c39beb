"""Whether a filter expression holds is what numpy's ``all`` says of its value, for every kind
of value (plain bools, numpy bools, numbers, NaN, arrays, tuples, strings), and a name a
config lacks is a missing name, not a truth value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.build import bulk, molecule

from wflcli.verbs.expression import AtomsNames, Expression, MissingName

NAMES = {
    "x": 1.5, "n": math.nan, "i": 3, "zero": 0, "yes": True, "no": False,
    "a": np.array([1.0, 2.0, math.nan]), "b": np.array([[True, False], [True, True]]),
    "empty": np.array([]), "f": np.float64(-2.0), "t": (1, 2), "s": "md", "blank": "",
}

# expressions whose meaning is Python's (and numpy's), evaluated by Python for reference
PYTHON_ALIKE = [
    "x < 2", "x > 2", "n < 1", "n != n", "n == n", "i == 3", "zero", "i", "yes", "no",
    "a < 3", "a > 0", "a", "b", "empty", "empty > 0", "f < 0", "f", "t", "t == (1, 2)",
    "t < (1, 3)", "s", "blank", 's == "md"', 's in ("md", "opt")', '"m" in s', "s != s",
    "x", "n", "a == a", "-x", "not x", "not zero", "a * 0", "i - 3", "(x, 0)", "(x, n)", "()",
]


def _python(text: str) -> bool:
    """The reference: Python evaluates the test's own text, numpy's ``all`` judges it."""
    return bool(np.all(eval(text, {}, dict(NAMES))))


@pytest.mark.parametrize("text", PYTHON_ALIKE)
def test_holds_is_numpy_all_of_the_value(text):
    expected = _python(text)
    assert Expression(text).holds(NAMES) is expected


@pytest.mark.parametrize("parts,joiner", [
    (["x < 2", "a > 0", "s"], "and"), (["x < 2", "a < 5", "t"], "and"),
    (["n < 1", "empty", "b"], "or"), (["no", "zero", "a > 5", "blank"], "or"),
    (["a < 3", "n != n"], "or"), (["x", "f < 0"], "and"),
])
def test_and_or_take_each_part_as_a_whole(parts, joiner):
    each = [_python(part) for part in parts]
    expected = all(each) if joiner == "and" else any(each)
    assert Expression(f" {joiner} ".join(parts)).holds(NAMES) is expected


@pytest.mark.parametrize("text,links", [
    ("0 < x < 2", ["0 < x", "x < 2"]), ("0 < x < 1", ["0 < x", "x < 1"]),
    ("0 < a < 3", ["0 < a", "a < 3"]), ("-1 < i < 4 < 5", ["-1 < i", "i < 4", "4 < 5"]),
    ("0 < f < 1", ["0 < f", "f < 1"]), ("x <= x <= x", ["x <= x", "x <= x"]),
    ("b == b != a[:2]", ["b == b", "b != a[:2]"]),
])
def test_comparison_chains_hold_where_every_link_holds_everywhere(text, links):
    expected = all(_python(link) for link in links)
    assert Expression(text).holds(NAMES) is expected


@pytest.mark.parametrize("text", ["nosuch", "x < nosuch", "nosuch and x", "x or nosuch"])
def test_a_missing_name_is_raised_unless_or_has_its_answer(text):
    if text == "x or nosuch":  # ``or`` stops at its first part that holds
        assert Expression(text).holds(NAMES) is True
        return
    with pytest.raises(MissingName):
        Expression(text).holds(NAMES)


def _eager_names(atoms) -> dict:
    """The names as ASE gives them, all made at once: derived, then arrays, then info
    (each later one taking the place of an earlier of its name)."""
    names = {"natoms": len(atoms), "symbols": tuple(atoms.get_chemical_symbols()),
             "formula": atoms.get_chemical_formula()}
    if atoms.cell.rank == 3:
        names["volume"] = atoms.get_volume()
    return {**names, **atoms.arrays, **atoms.info}


def _configs() -> list:
    cu = bulk("Cu", "fcc", a=3.61, cubic=True)
    cu.info.update(REF_energy=-1.5, natoms=99, nothing=None)  # info before derived names
    cu.arrays["formula"] = np.arange(4.0)  # an array before a derived name
    cu.arrays["REF_forces"] = np.ones((4, 3))
    slab = bulk("Al", "fcc", a=4.05) * (2, 1, 1)
    slab.cell[2] = 0.0  # a 2D cell: no volume
    slab.info["symbols"] = "mine"
    return [cu, slab, molecule("H2O")]


@pytest.mark.parametrize("atoms", _configs(), ids=["clashing names", "2D cell", "no cell"])
def test_names_made_when_asked_are_all_the_names_ase_gives(atoms):
    expected = _eager_names(atoms)
    names = AtomsNames(atoms)
    assert list(names) == list(expected) and len(names) == len(expected)
    for name, value in expected.items():
        assert name in names
        assert type(names[name]) is type(value) and np.array_equal(names[name], value)
    for absent in ("nosuch", "volume") if "volume" not in expected else ("nosuch",):
        assert absent not in names
        with pytest.raises(MissingName):
            Expression(f"{absent} > 0").matches(atoms)
