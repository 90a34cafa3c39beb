"""Making structures: smiles, atoms, rattle and normal-modes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from ase.build import molecule

from helpers_data import rattled_cells, read_text
from helpers_wfl import wfl_program
from test_cli import run_without
from wflcli.io.writer import format_config


def bond_lengths(atoms, a: str, b: str) -> list[float]:
    from ase.neighborlist import natural_cutoffs, neighbor_list

    i, j, d = neighbor_list("ijd", atoms, natural_cutoffs(atoms))
    symbols = atoms.get_chemical_symbols()
    return [dist for p, q, dist in zip(i, j, d) if {symbols[p], symbols[q]} == {a, b}
            and (a != b or symbols[p] == symbols[q] == a)]


def test_smiles_gives_sensible_molecules(wfl):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    result = wfl("smiles", "CCO", "c1ccccc1", "C")
    assert result.code == 0, result.stderr
    mols = read_text(result.stdout)
    assert [len(m) for m in mols] == [9, 12, 5]
    assert [m.info["smiles"] for m in mols] == ["CCO", "c1ccccc1", "C"]
    assert all(m.info["config_type"] == "smiles" for m in mols)
    for m in mols:
        assert all(1.0 <= d <= 1.2 for d in bond_lengths(m, "C", "H"))
        assert all(1.3 <= d <= 1.6 for d in bond_lengths(m, "C", "C"))
    assert len(bond_lengths(mols[1], "C", "C")) == 12  # six ring bonds, counted both ways


def test_smiles_is_deterministic_and_parallel_safe(tmp_path):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    args = ["--no-cache", "smiles", "CCO", "c1ccccc1", "CCCC", "CC(=O)O"]
    env = dict(os.environ, WFLCLI_HOME=str(tmp_path / "a"))
    first = wfl_program(*args, env=env)
    again = wfl_program(*args, env=env)
    parallel = wfl_program("--parallel", "2", "--chunk", "1", *args, env=env)
    assert first.returncode == 0 and first.stdout == again.stdout == parallel.stdout


def test_butane_conformers_are_distinct(wfl):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    result = wfl("smiles", "--conformers", "3", "CCCC")
    confs = read_text(result.stdout)
    assert len(confs) == 3 and [c.info["conformer"] for c in confs] == [0, 1, 2]
    dihedrals = [abs(c.get_dihedral(0, 1, 2, 3)) for c in confs]
    dihedrals = [min(d, 360 - d) for d in dihedrals]
    assert max(dihedrals) > 150  # anti
    assert min(dihedrals) < 90   # gauche
    signed = sorted(round(c.get_dihedral(0, 1, 2, 3)) for c in confs)
    assert len(set(signed)) == 3


def test_a_rigid_molecule_gives_the_conformers_it_has(wfl):
    """Water and methane have one distinct conformer: asked for 4, that one comes back,
    with conformers_found, and the run succeeds (on main both failed, exit 3)."""
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    result = wfl("smiles", "--conformers", "4", "O", "C", "CCCC")
    assert result.code == 0, result.stderr
    confs = read_text(result.stdout)
    found = [(c.info["smiles"], c.info["conformer"], c.info["conformers_found"]) for c in confs]
    assert found[:2] == [("O", 0, 1), ("C", 0, 1)]
    butane = [entry for entry in found if entry[0] == "CCCC"]
    assert 3 <= len(butane) <= 4 and {n for _, _, n in butane} == {len(butane)}
    assert "wfl_error" not in "".join(str(c.info) for c in confs)


def test_smiles_from_file_with_names_and_invalid_entries(wfl, tmp_path):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    listing = tmp_path / "mols.smi"
    listing.write_text("# a comment\nCCO ethanol\n\nC1CC broken ring\nO water\n")
    result = wfl("smiles", "-i", listing)
    assert result.code == 3
    mols = read_text(result.stdout)
    assert [m.info.get("name") for m in mols] == ["ethanol", "broken ring", "water"]
    assert "unclosed ring" in mols[1].info["wfl_error"]["message"]
    assert "invalid SMILES 'C1CC'" in result.stderr


def test_a_triple_bond_in_a_smiles_file_is_not_a_comment(wfl, tmp_path):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    listing = tmp_path / "mols.smi"
    listing.write_text("C#N hydrogen cyanide # a comment\n#C#C not read\nC#C\n")
    mols = read_text(wfl("smiles", "-i", listing).stdout)
    assert [(m.info["smiles"], m.info.get("name")) for m in mols] == \
        [("C#N", "hydrogen cyanide"), ("C#C", None)]
    assert [m.get_chemical_formula() for m in mols] == ["CHN", "C2H2"]


def test_smiles_from_stdin(wfl):
    pytest.importorskip("rdkit", reason="rdkit is the smiles extra; CI installs it")
    result = wfl("smiles", input="C methane\nN\n")
    assert [len(m) for m in read_text(result.stdout)] == [5, 4]


def test_smiles_help_without_rdkit_and_the_extra_to_install():
    assert run_without(["smiles", "--help"]).returncode == 0
    result = run_without(["smiles", "CCO"])
    assert result.returncode == 1 and b"pip install 'wflcli[smiles]'" in result.stderr


def test_isolated_atoms_feed_tblite(wfl):
    pytest.importorskip("tblite", reason="tblite is the xtb extra; CI installs it")
    made = wfl("atoms", "H", "C", "O")
    atoms = read_text(made.stdout)
    assert [a.get_chemical_symbols() for a in atoms] == [["H"], ["C"], ["O"]]
    assert all(a.info["config_type"] == "isolated_atom" and not a.pbc.any() for a in atoms)
    labelled = wfl("calc", "--calc", "tblite", input=made.stdout)
    assert labelled.code == 0, labelled.stderr
    energies = [a.info["tblite_energy"] for a in read_text(labelled.stdout)]
    assert len(energies) == 3 and all(e < 0 for e in energies)


def test_isolated_atoms_in_a_box(wfl):
    (atom,) = read_text(wfl("atoms", "--box", "20", "Cu").stdout)
    assert np.allclose(atom.cell.lengths(), 20) and np.allclose(atom.positions, 10)
    assert wfl("atoms", "Xx").code == 2


def test_rattle_statistics_match_stdev(wfl, tmp_path):
    base = rattled_cells(1, "Cu", (3, 3, 3), stdev=0.0)[0]
    src = tmp_path / "in.xyz"
    src.write_text(format_config(base))
    result = wfl("rattle", "-n", "20", "--stdev", "0.1", src)
    copies = read_text(result.stdout)
    assert len(copies) == 20 and [c.info["rattle_copy"] for c in copies] == list(range(20))
    shifts = np.concatenate([(c.positions - base.positions).ravel() for c in copies])
    assert shifts.size == 20 * 108 * 3
    assert abs(shifts.mean()) < 0.005
    assert shifts.std() == pytest.approx(0.1, rel=0.03)


def test_rattle_strain_supercell_and_determinism(wfl, tmp_path):
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in rattled_cells(2, "Cu", (1, 1, 1))))
    args = ["rattle", "-n", "3", "--strain", "0.02", "--supercell", "2x1x1", src]
    first, second = wfl(*args), wfl("--no-cache", *args)
    assert first.stdout == second.stdout
    out = read_text(first.stdout)
    assert len(out) == 6 and all(len(a) == 8 for a in out)
    for a in out:
        lengths = a.cell.lengths()
        assert np.all(np.abs(lengths / [7.22, 3.61, 3.61] - 1) <= 0.021)
    other_seed = wfl("--seed", "7", *args)
    assert other_seed.stdout != first.stdout


@pytest.mark.slow
def test_normal_modes_of_water_match_ase_vibrations(wfl, tmp_path):
    pytest.importorskip("tblite", reason="tblite is the xtb extra; CI installs it")
    from ase import units
    from ase.optimize import BFGS
    from ase.vibrations import Vibrations
    from tblite.ase import TBLite

    water = molecule("H2O")
    water.calc = TBLite(method="GFN2-xTB", verbosity=0)
    BFGS(water, logfile=None).run(fmax=1e-4)
    vib = Vibrations(water, name=str(tmp_path / "vib"))
    vib.run()
    expected = np.real(vib.get_frequencies())[-3:]
    relaxed = water.copy()
    relaxed.calc = None
    src = tmp_path / "water.xyz"
    src.write_text(format_config(relaxed))

    result = wfl("normal-modes", "--calc", "tblite", "-n", "200", "--temperature", "300", src)
    assert result.code == 0, result.stderr
    reference, *samples = read_text(result.stdout)
    assert reference.info["config_type"] == "normal_modes"
    assert np.allclose(reference.info["nm_frequencies_cm"], expected, rtol=0.05)
    assert len(samples) == 200

    e0 = water.get_potential_energy()
    rises = []
    for sample in samples:
        sample.calc = TBLite(method="GFN2-xTB", verbosity=0)
        rises.append(sample.get_potential_energy() - e0)
    expected_rise = 3 / 2 * units.kB * 300  # (3N - 6) / 2 kT for N = 3
    assert np.mean(rises) == pytest.approx(expected_rise, rel=0.2)
