"""``wfl committee``: each member's results, and the committee's mean and spread, against
the same calculators called directly with ASE and the statistics taken with numpy."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.calculators.morse import MorsePotential
from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program

HERE = Path(__file__).parent
MEMBERS = ("emt", "lj:sigma=2.3,epsilon=0.4,rc=6", "morse:r0=2.5,epsilon=0.5,rho0=5")
COUNTING = "python:helpers_calc:CountingEMT"


def direct_calculators():
    """The members, built with ASE itself."""
    return [EMT(), LennardJones(sigma=2.3, epsilon=0.4, rc=6),
            MorsePotential(r0=2.5, epsilon=0.5, rho0=5)]


def members_args(*specs):
    return [word for spec in specs for word in ("--calc", spec)]


@pytest.fixture
def cells(tmp_path):
    configs = rattled_cells(4, repeat=(2, 2, 1), stdev=0.1)
    configs[1].pbc = False  # a cluster: no stress
    return configs, write_configs(tmp_path / "cells.xyz", configs)


def test_mean_and_std_equal_numpy_on_the_separate_predictions(wfl, cells):
    configs, src = cells
    result = wfl("committee", *members_args(*MEMBERS), "--prefix", "COMM_", src)
    assert result.code == 0, result.stderr
    outputs = read_text(result.stdout)
    assert len(outputs) == len(configs)
    for atoms, out in zip(configs, outputs):
        energies, forces, stresses = [], [], []
        for index, calculator in enumerate(direct_calculators()):
            own = atoms.copy()
            own.calc = calculator
            energies.append(own.get_potential_energy())
            forces.append(own.get_forces())
            assert out.info[f"COMM_{index}_energy"] == pytest.approx(energies[-1], abs=1e-12)
            assert np.allclose(out.arrays[f"COMM_{index}_forces"], forces[-1], rtol=0,
                               atol=1e-12)
            if atoms.pbc.all():
                stresses.append(own.get_stress())
        energies, forces = np.array(energies), np.array(forces)
        natoms = len(atoms)
        close = {"rtol": 0, "atol": 1e-12}
        np.testing.assert_allclose(out.info["COMM_energy"], energies.mean(), **close)
        np.testing.assert_allclose(out.info["COMM_energy_per_atom_std"],
                                   np.std(energies / natoms, ddof=1), **close)
        np.testing.assert_allclose(out.arrays["COMM_forces"], forces.mean(axis=0), **close)
        # per atom: sqrt(sum over x, y, z of the sample variance over members)
        per_atom = np.array([np.sqrt(sum(np.var(forces[:, i, c], ddof=1) for c in range(3)))
                             for i in range(natoms)])
        np.testing.assert_allclose(out.arrays["COMM_forces_std"], per_atom, **close)
        np.testing.assert_allclose(out.info["COMM_forces_std_max"], per_atom.max(), **close)
        assert out.info["COMM_forces_std_max"] > 0.01  # the members do disagree
        if stresses:
            stresses = np.array(stresses)
            np.testing.assert_allclose(out.info["COMM_stress"], stresses.mean(axis=0), **close)
            np.testing.assert_allclose(out.info["COMM_stress_std"],
                                       np.std(stresses, axis=0, ddof=1), **close)
        else:
            assert "COMM_stress" not in out.info and "COMM_0_stress" not in out.info


def test_committee_only_writes_the_statistics_alone(wfl, cells):
    src = cells[1]
    full = read_text(wfl("committee", *members_args(*MEMBERS[:2]), src).stdout)
    only = read_text(wfl("committee", *members_args(*MEMBERS[:2]), "--committee-only",
                         src).stdout)
    for a, b in zip(full, only):
        assert "committee_0_energy" in a.info and "committee_1_forces" in a.arrays
        assert not any(k.startswith(("committee_0_", "committee_1_"))
                       for k in (*b.info, *b.arrays))
        assert b.info["committee_energy"] == a.info["committee_energy"]
        assert np.array_equal(b.arrays["committee_forces_std"], a.arrays["committee_forces_std"])


def test_each_model_is_built_once_per_worker(wfl, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    log = tmp_path / "builds.log"
    monkeypatch.setenv("BUILD_LOG", str(log))
    src = write_configs(tmp_path / "in.xyz", rattled_cells(24, repeat=(1, 1, 1)))
    specs = [f"python:helpers_calc:BuildLoggingEMT:label={name}" for name in "abc"]
    parallel = wfl("--parallel", "2", "--chunk", "2", "committee", *members_args(*specs), src)
    assert parallel.code == 0, parallel.stderr
    builds = Counter(tuple(line.split()) for line in log.read_text().splitlines())
    workers = {pid for pid, _ in builds} - {str(os.getpid())}  # the parent checks each once
    assert len(workers) == 2
    for pid in workers:
        assert {label: builds[(pid, label)] for label in "abc"} == {"a": 1, "b": 1, "c": 1}
    serial = wfl("--no-cache", "committee", *members_args(*specs), src)
    assert serial.stdout == parallel.stdout  # byte-identical whichever way it ran


def test_rerun_comes_from_the_cache_and_failed_configs_pass_through(wfl, tmp_path,
                                                                   monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CALC_LOG", str(log))
    configs = rattled_cells(5, repeat=(1, 1, 1))
    configs[2].info["wfl_error"] = {"verb": "md", "type": "RuntimeError", "message": "boom",
                                    "where": ""}
    src = write_configs(tmp_path / "in.xyz", configs)
    first = wfl("committee", "--calc", COUNTING, "--calc", "emt", src)
    assert first.code == 3 and "1 of 5 configs failed" in first.stderr
    assert len(log.read_text().splitlines()) == 4  # the four that did not fail upstream
    log.unlink()
    second = wfl("committee", "--calc", COUNTING, "--calc", "emt", src)
    assert second.stdout == first.stdout and not log.exists()


@pytest.mark.parametrize("args, message", [
    (["--calc", "emt"], "at least two --calc"),
    (["--calc", "emt", "--calc", "nwchem"], "file-based code cannot be a committee member"),
    (["--calc", "emt", "--calc", "nosuch"], "unknown calculator"),
])
def test_bad_committees_are_usage_errors(wfl, cells, args, message):
    result = wfl("committee", *args, cells[1])
    assert result.code == 2 and message in result.stderr and not result.stdout


@pytest.mark.slow
def test_remote_committee_equals_the_local_run(tmp_path):
    """--remote with the local scheduler: every --calc reaches the batch task."""
    from helpers_remote import system_toml, write_config

    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    src = write_configs(tmp_path / "in.xyz", rattled_cells(6, repeat=(1, 1, 1)))
    args = ["committee", *members_args(*MEMBERS), "--prefix", "COMM_", str(src)]
    local = wfl_program("--no-cache", *args, timeout=120,
                           check=False)
    remote = wfl_program("--no-cache", "--remote", "here", "--per-job", "3", *args, timeout=300,
                         check=False)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and b"COMM_2_energy" in remote.stdout
    assert b"1 job(s) with 2 task(s) submitted" in remote.stderr


@pytest.mark.slow
def test_a_committee_of_gaps_equals_quippy_called_directly(wfl, tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    from quippy.potential import Potential

    cells = rattled_cells(6, repeat=(2, 1, 1), stdev=0.1)
    for atoms in cells:
        atoms.calc = EMT()
        atoms.info["REF_energy"] = atoms.get_potential_energy()
        atoms.arrays["REF_forces"] = atoms.get_forces()
        atoms.calc = None
    train = write_configs(tmp_path / "train.xyz", cells)
    models = []
    for seed in (1, 2):  # the same data, different random sparse points
        model = tmp_path / f"gap{seed}.xml"
        fitted = wfl("--seed", seed, "fit-gap", train, "--ref", "REF_", "--e0", "Cu:0",
                     "--gap", "soap cutoff=4 l_max=3 n_max=4 atom_sigma=0.5 delta=0.1 zeta=2 "
                     "covariance_type=dot_product sparse_method=random n_sparse=12",
                     "-o", model)
        assert fitted.code == 0, fitted.stderr
        models.append(model)
    probe = rattled_cells(3, repeat=(2, 1, 1), stdev=0.15)
    src = write_configs(tmp_path / "probe.xyz", probe)
    result = wfl("committee", *members_args(*(f"gap:{m}" for m in models)), "--prefix", "C_",
                 src)
    assert result.code == 0, result.stderr
    for atoms, out in zip(probe, read_text(result.stdout)):
        energies, forces = [], []
        for model in models:
            own = atoms.copy()
            own.calc = Potential("IP GAP", param_filename=str(model))
            energies.append(own.get_potential_energy())
            forces.append(own.get_forces())
        energies, forces = np.array(energies), np.array(forces)
        close = {"rtol": 0, "atol": 1e-12}
        np.testing.assert_allclose(out.info["C_1_energy"], energies[1], **close)
        np.testing.assert_allclose(out.info["C_energy"], energies.mean(), **close)
        np.testing.assert_allclose(out.info["C_energy_per_atom_std"],
                                   np.std(energies / len(atoms), ddof=1), **close)
        np.testing.assert_allclose(out.arrays["C_forces_std"],
                                   np.sqrt(np.var(forces, axis=0, ddof=1).sum(axis=1)), **close)
        assert out.info["C_forces_std_max"] > 0
