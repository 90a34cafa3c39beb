"""A config that failed upstream (``info['wfl_error']``) never gets results downstream:
per-config verbs pass it on as failed (exit 3), whole-input verbs leave it out and say so.
Real parts: RDKit's SMILES parser makes the failure, tblite, EMT and gap_fit compute."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program

LEFT_OUT = "left out 1 config that failed upstream"


@pytest.fixture(scope="module")
def smiles_labelled(tmp_path_factory):
    """``wfl smiles 'C1CC' CCO OCCO | wfl calc --calc tblite --prefix REF_``, for real."""
    import os


    folder = tmp_path_factory.mktemp("upstream")
    env = dict(os.environ, WFLCLI_HOME=str(folder / "store"))
    smiles = wfl_program("smiles", "C1CC", "CCO", "OCCO", env=env)
    assert smiles.returncode == 3
    calc = wfl_program("calc", "--calc", "tblite", "--prefix", "REF_",
                          input=smiles.stdout, env=env)
    (folder / "smiles.xyz").write_bytes(smiles.stdout)
    (folder / "ref.xyz").write_bytes(calc.stdout)
    return folder, calc


def _fake_result(atoms_list):
    """What main wrote before the fix: the failed config with a made-up REF_energy."""
    for atoms in atoms_list:
        if "wfl_error" in atoms.info:
            atoms.info["REF_energy"] = 0.0
            atoms.info["GAP_energy"] = 0.0
    return atoms_list


def test_calc_passes_the_failed_config_on_without_results(smiles_labelled):
    folder, calc = smiles_labelled
    assert calc.returncode == 3
    failed, *valid = read_text(calc.stdout)
    assert "wfl_error" in failed.info and len(failed) == 0
    assert not any(key.startswith("REF_") for key in failed.info)
    assert all("REF_energy" in atoms.info for atoms in valid) and len(valid) == 2


@pytest.mark.slow
def test_md_writes_no_frames_for_a_failed_config(smiles_labelled, wfl):
    folder, _ = smiles_labelled
    result = wfl("md", "--calc", "tblite", "--steps", "4", "--every", "2",
                 folder / "smiles.xyz")
    assert result.code == 3
    frames = read_text(result.stdout)
    empty = [frame for frame in frames if len(frame) == 0]
    assert len(empty) == 1 and "wfl_error" in empty[0].info  # the failed config, as it came
    assert not any(key.startswith("tblite_") for key in empty[0].info)
    assert len(frames) == 1 + 2 * 3  # 3 frames (steps 0, 2, 4) of each valid molecule


def test_error_leaves_out_failed_configs(smiles_labelled, wfl, tmp_path):
    """On main: 'internal error: ZeroDivisionError'."""
    folder, _ = smiles_labelled
    configs = _fake_result(read_text((folder / "ref.xyz").read_text()))
    for atoms in configs:
        atoms.info.setdefault("GAP_energy", atoms.info["REF_energy"] + 0.01 * len(atoms))
    write_configs(tmp_path / "in.xyz", configs)
    result = wfl("error", "--ref", "REF_", "--pred", "GAP_", "--json", tmp_path / "in.xyz")
    assert result.code == 0, result.stderr
    assert LEFT_OUT in result.stderr
    energy = json.loads(result.stdout)["properties"]["energy/atom"]["overall"]
    assert energy["count"] == 2 and energy["missing"] == 0
    assert energy["max"] == pytest.approx(0.01)  # the fake 0.0 would not give this
    only_failed = tmp_path / "failed.xyz"
    write_configs(only_failed, configs[:1])
    nothing = wfl("error", "--ref", "REF_", "--pred", "GAP_", only_failed)
    assert nothing.code in (1, 2) and "internal error" not in nothing.stderr
    assert LEFT_OUT in nothing.stderr


def test_error_counts_a_valid_empty_config_as_missing(wfl, tmp_path):
    """A config with no atoms that did not fail is input like any other: it has no
    energy per atom (on main: ZeroDivisionError)."""
    empty = Atoms()
    empty.info.update(REF_energy=0.0, GAP_energy=0.0)
    [cell] = rattled_cells(1, repeat=(1, 1, 1))
    cell.info.update(REF_energy=-1.0, GAP_energy=-1.2)
    write_configs(tmp_path / "in.xyz", [empty, cell])
    result = wfl("error", "--ref", "REF_", "--pred", "GAP_", tmp_path / "in.xyz")
    assert result.code == 0, result.stderr
    assert "left out" not in result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("energy/atom"))
    assert row.split()[5:7] == ["1", "1"]  # one compared, one missing
    assert float(row.split()[2]) == pytest.approx(50.0)  # 0.2 eV / 4 atoms, in meV


@pytest.mark.parametrize("verb", ["select-cur", "select-fps"])
def test_selection_never_picks_a_failed_config(smiles_labelled, wfl, tmp_path, verb):
    folder, _ = smiles_labelled
    rest = tmp_path / "rest.xyz"
    result = wfl(verb, "-n", "3", "--species", "H,C,O", "--rest", rest, folder / "ref.xyz")
    assert result.code == 0, result.stderr
    assert LEFT_OUT in result.stderr
    chosen = read_text(result.stdout)
    assert len(chosen) == 2 and all(len(a) and "wfl_error" not in a.info for a in chosen)
    assert read_text(rest.read_text()) == []
    assert "RuntimeWarning" not in result.stderr


def test_split_and_count_leave_failed_configs_out(smiles_labelled, wfl, tmp_path):
    folder, _ = smiles_labelled
    train, test = tmp_path / "train.xyz", tmp_path / "test.xyz"
    result = wfl("split", "--every", "2", "--train", train, "--test", test, folder / "ref.xyz")
    assert result.code == 0 and LEFT_OUT in result.stderr
    both = read_text(train.read_text()) + read_text(test.read_text())
    assert len(both) == 2 and all("wfl_error" not in a.info for a in both)
    count = wfl("count", "--json", folder / "ref.xyz")
    assert LEFT_OUT in count.stderr
    assert json.loads(count.stdout)["configs"] == 2


def test_filter_passes_a_failed_config_on_unjudged(smiles_labelled, wfl, tmp_path):
    folder, _ = smiles_labelled
    result = wfl("filter", "natoms < 3", folder / "ref.xyz")
    assert result.code == 3
    [passed] = read_text(result.stdout)
    assert "wfl_error" in passed.info
    assert "passed on 1 configs that failed upstream" in result.stderr


@pytest.mark.slow
def test_fit_gap_fits_on_the_valid_configs(wfl, tmp_path):
    """On main the failed config (0 atoms, REF_energy=0.0) went into the fit."""
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    from ase.calculators.emt import EMT

    from wflcli.verbs.results import results_annotation

    configs = rattled_cells(6, "Cu", (1, 1, 1), stdev=0.1)
    isolated = Atoms("Cu")
    isolated.info["config_type"] = "isolated_atom"
    for atoms in [isolated, *configs]:
        atoms.calc = EMT()
        found = results_annotation(len(atoms), {"energy": atoms.get_potential_energy(),
                                                "forces": atoms.get_forces()}, "REF_")
        atoms.calc = None
        atoms.info.update(found["info"])
        atoms.arrays.update(found["arrays"])
    failed = Atoms()
    failed.info.update(wfl_error={"verb": "smiles", "type": "ValueError", "message": "x",
                                  "where": "-"}, REF_energy=0.0)
    write_configs(tmp_path / "train.xyz", [isolated, failed, *configs])
    gap = ("distance_2b cutoff=4 covariance_type=ard_se delta=0.5 theta_uniform=1 "
           "sparse_method=uniform n_sparse=10")
    result = wfl("fit-gap", tmp_path / "train.xyz", "--gap", gap, "-o", tmp_path / "GAP.xml")
    assert result.code == 0, result.stderr
    assert LEFT_OUT in result.stderr and "from 7 configs" in result.stderr
    assert (tmp_path / "GAP.xml").exists()

    write_configs(tmp_path / "only.xyz", [failed])
    none = wfl("fit-gap", tmp_path / "only.xyz", "--gap", gap, "-o", tmp_path / "N.xml")
    assert none.code == 1 and "no training configs" in none.stderr
    assert LEFT_OUT in none.stderr


def test_select_ignores_nothing_when_nothing_failed(wfl, tmp_path):
    """The rule touches only configs with info['wfl_error']: an empty config stays."""
    empty = Atoms()
    empty.info["soap"] = np.zeros(3)
    others = []
    for value in (1.0, 2.0):
        atoms = Atoms("H")
        atoms.info["soap"] = np.array([value, 0.0, 1.0])
        others.append(atoms)
    write_configs(tmp_path / "in.xyz", [empty, *others])
    result = wfl("select-fps", "-n", "3", tmp_path / "in.xyz")
    assert result.code == 0 and "left out" not in result.stderr
    assert len(read_text(result.stdout)) == 3


def test_a_valid_empty_config_has_the_zero_descriptor(wfl, tmp_path):
    """No atoms, no environments: its average SOAP is zero, not NaN (main: NaN and a
    numpy RuntimeWarning on stderr)."""
    pytest.importorskip("featomic", reason="featomic is the descriptors extra; CI installs it")
    write_configs(tmp_path / "in.xyz", [Atoms(), Atoms("H2", positions=[[0, 0, 0],
                                                                          [0, 0, 0.74]])])
    result = wfl("descriptor", "--species", "H", tmp_path / "in.xyz")
    assert result.code == 0, result.stderr
    empty, hydrogen = read_text(result.stdout)
    assert np.all(empty.info["soap"] == 0) and empty.info["soap"].shape == \
        hydrogen.info["soap"].shape
    assert "RuntimeWarning" not in result.stderr
