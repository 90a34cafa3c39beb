"""extxyz round trips: what we write, ASE and we read back exactly; what ASE writes, we read
as ASE does."""

from __future__ import annotations

import io

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.constraints import FixAtoms, FixCartesian

from helpers_data import assert_same_atoms, rattled_cells
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config


def write_ours(configs) -> str:
    return "".join(format_config(a) for a in configs)


def read_ours(text: str, name: str = "t.xyz"):
    return list(FrameReader(io.BytesIO(text.encode()), name))


def read_ase(text: str):
    return ase.io.read(io.StringIO(text), ":", format="extxyz")


def rich_config(seed: int) -> Atoms:
    """A config with every kind of info and arrays value that extxyz can hold."""
    rng = np.random.default_rng(seed)
    atoms = Atoms("CuAlNiH", positions=rng.normal(size=(4, 3)) * 3,
                  cell=rng.normal(size=(3, 3)) + np.eye(3) * 8, pbc=[True, False, True])
    atoms.info.update({
        "REF_energy": float(rng.normal()) * 1e3,          # needs 17 digits
        "tiny": 1e-300, "huge": -1.2345678901234567e300,
        "count": 7, "negative": -3, "flag": True, "off": False,
        "label": "with spaces and \"quotes\" and 'apostrophes'",
        "backslash": "a\\b", "brackets": "[x]{y}", "equals": "a=b",
        "numeric_text": "42", "bool_text": "T", "json_text": "_JSON 1",
        "newline": "two\nlines", "unicode": "Å-ç-∑",
        "vec": rng.normal(size=3), "ivec": np.array([1, 2, 3]),
        "virial": rng.normal(size=(3, 3)), "matrix": rng.normal(size=(2, 4)),
        "nested": {"a": [1, 2], "b": "c"}, "none": None,
    })
    atoms.arrays["REF_forces"] = rng.normal(size=(4, 3))
    atoms.arrays["charge_like"] = rng.normal(size=4)
    atoms.arrays["kind"] = np.array(["a", "bb", "ccc", "d"])
    atoms.arrays["index"] = np.arange(4)
    atoms.arrays["selected"] = np.array([True, False, True, False])
    return atoms


def test_our_files_round_trip_exactly_through_our_reader():
    configs = [rich_config(i) for i in range(5)]
    back = read_ours(write_ours(configs))
    for original, read in zip(configs, back):
        assert_same_atoms(original, read)


def test_ase_reads_our_files_exactly():
    configs = rattled_cells(5)
    for i, atoms in enumerate(configs):
        atoms.info.update(REF_energy=np.pi * i, config_type="md", step=i)
        atoms.arrays["REF_forces"] = np.random.default_rng(i).normal(size=(len(atoms), 3))
    for original, read in zip(configs, read_ase(write_ours(configs))):
        assert_same_atoms(original, read)


def test_we_read_ase_files_as_ase_does(tmp_path):
    configs = [rich_config(i) for i in range(3)]
    for atoms in configs:  # values ASE itself cannot write back exactly
        for key in ("backslash", "numeric_text", "bool_text", "json_text", "newline", "none"):
            del atoms.info[key]
    path = tmp_path / "ase.xyz"
    ase.io.write(path, configs, format="extxyz")
    ours = read_ours(path.read_text())
    theirs = ase.io.read(path, ":")
    for a, b in zip(ours, theirs):
        assert_same_atoms(a, b)


def test_results_ase_keeps_in_a_calculator_stay_plain_keys(tmp_path):
    text = ('2\nenergy=-1.5 Properties=species:S:1:pos:R:3:forces:R:3 pbc="F F F"\n'
            "H 0 0 0 0.1 0.2 0.3\nH 0 0 0.7 -0.1 -0.2 -0.3\n")
    (atoms,) = read_ours(text)
    assert atoms.info["energy"] == -1.5
    assert atoms.arrays["forces"][1].tolist() == [-0.1, -0.2, -0.3]
    assert atoms.calc is None


@pytest.mark.parametrize("pbc", [[True, True, True], [False, False, False], [True, False, True]])
def test_cell_and_pbc(pbc):
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [1.1, 1.2, 1.3]],
                  cell=[[3.6, 0.1, 0], [0, 3.5, 0.2], [0.3, 0, 3.4]], pbc=pbc)
    (back,) = read_ours(write_ours([atoms]))
    assert_same_atoms(atoms, back)


def test_no_cell_and_no_pbc():
    atoms = Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    text = write_ours([atoms])
    assert "Lattice" not in text
    (back,) = read_ours(text)
    assert_same_atoms(atoms, back)


def test_fixed_atoms_survive():
    atoms = rattled_cells(1)[0]
    atoms.set_constraint(FixAtoms(indices=[0, 3, 5]))
    (back,) = read_ours(write_ours([atoms]))
    assert back.constraints[0].get_indices().tolist() == [0, 3, 5]
    (via_ase,) = read_ase(write_ours([atoms]))
    assert via_ase.constraints[0].get_indices().tolist() == [0, 3, 5]


def test_fixed_cartesian_directions_survive():
    atoms = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    atoms.set_constraint(FixCartesian(1, mask=[True, False, True]))
    (back,) = read_ours(write_ours([atoms]))
    moved = back.copy()
    forces = np.ones((2, 3))
    back.constraints[1].adjust_forces(moved, forces)
    assert forces[1].tolist() == [0.0, 1.0, 0.0]


def test_output_is_deterministic():
    configs = [rich_config(i) for i in range(3)]
    assert write_ours(configs) == write_ours([a.copy() for a in configs])


def test_full_float_precision():
    atoms = Atoms("H", positions=[[0.1 + 0.2, 1 / 3, 2 ** -40]])
    atoms.info["e"] = 0.1 + 0.2
    (back,) = read_ours(write_ours([atoms]))
    assert back.positions[0].tolist() == [0.1 + 0.2, 1 / 3, 2 ** -40]
    assert back.info["e"] == 0.1 + 0.2


def test_zero_atom_frame():
    (back,) = read_ours('0\nProperties=species:S:1:pos:R:3 name=empty pbc="F F F"\n')
    assert len(back) == 0 and back.info["name"] == "empty"


def test_crlf_line_endings_and_blank_lines_between_frames():
    text = write_ours(rattled_cells(2, repeat=(1, 1, 1)))
    crlf = text.replace("\n", "\r\n").replace("\r\n4\r\n", "\r\n\r\n4\r\n", 1)
    for original, back in zip(rattled_cells(2, repeat=(1, 1, 1)), read_ours(crlf)):
        assert np.array_equal(original.positions, back.positions)


def test_lowercase_species_are_capitalised_as_in_ase():
    (atoms,) = read_ours('1\nProperties=species:S:1:pos:R:3\ncu 0 0 0\n')
    assert atoms.get_chemical_symbols() == ["Cu"]


def test_unwritable_values_are_errors_not_corrupt_files():
    from wflcli.io.keyvalue import UnwritableValue

    atoms = Atoms("H")
    atoms.arrays["bad"] = np.array(["two words"])
    with pytest.raises(UnwritableValue, match="single words"):
        format_config(atoms)


@pytest.mark.parametrize("value", [5, 1.5, "x", [True, False], np.zeros(3), np.zeros(9, bool),
                                   [0.0] * 9, np.zeros((2, 2))])
def test_a_3x3_key_not_holding_9_numbers_is_an_error_not_a_corrupt_file(value):
    """Found by test_io_fast_paths: ``virial="T F"`` was written, which no reader reads
    back (a virial, stress or Lattice must be 9 numbers)."""
    from wflcli.io.keyvalue import UnwritableValue

    atoms = Atoms("H")
    atoms.info["virial"] = value
    with pytest.raises(UnwritableValue, match="must be 9 numbers"):
        format_config(atoms)


@pytest.mark.parametrize("name", ["a:b", ""])
def test_an_array_name_properties_cannot_hold_is_an_error_not_a_corrupt_file(name):
    """Properties is split at ':' (quotes do not protect one) and names no empty array:
    neither ASE nor our reader reads such a name back."""
    from wflcli.io.keyvalue import UnwritableValue

    atoms = Atoms("H")
    atoms.arrays[name] = np.zeros(1)
    with pytest.raises(UnwritableValue, match="array name must be a non-empty name"):
        format_config(atoms)


@pytest.mark.parametrize("name", ["mag mom", 'q"', "x=y", "[m]", "back\\slash",
                                  'a"b $(x) forces'])
def test_an_array_name_that_needs_quotes_is_quoted_and_read_back_by_both_readers(name):
    atoms = Atoms("H")
    atoms.arrays[name] = np.array([0.25])
    text = format_config(atoms)
    [ours] = FrameReader(io.BytesIO(text.encode()), "t")
    theirs = ase.io.read(io.StringIO(text), format="extxyz")
    assert ours.arrays[name].tolist() == theirs.arrays[name].tolist() == [0.25]
