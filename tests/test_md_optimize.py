"""``wfl md`` and ``wfl optimize`` against ASE's own integrators and optimizers."""

from __future__ import annotations

import os

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.optimize import BFGS, FIRE, LBFGS
from ase.optimize.precon import PreconLBFGS

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program


def total_energy(frame, prefix="emt_"):
    kinetic = 0.5 * np.sum(frame.arrays["momenta"] ** 2 / frame.get_masses()[:, None])
    return frame.info[prefix + "energy"] + kinetic


@pytest.mark.slow
def test_nve_conserves_energy_over_1000_steps(wfl, tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(1, "Cu", (2, 2, 2)))
    result = wfl("md", "--calc", "emt", "-T", "300", "--steps", "1000", "--every", "50", src)
    assert result.code == 0, result.stderr
    frames = read_text(result.stdout)
    assert [f.info["MD_step"] for f in frames] == list(range(0, 1001, 50))
    energies = np.array([total_energy(f) for f in frames])
    drift = np.abs(energies - energies[0]).max() / len(frames[0])
    assert drift < 1e-3  # stated tolerance: 1 meV/atom over 1 ps at 1 fs
    assert frames[0].info["MD_temperature_K"] > 100  # it did start hot


@pytest.mark.slow
def test_langevin_holds_300_k(wfl, tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(1, "Cu", (3, 3, 3)))
    result = wfl("md", "--calc", "emt", "--ensemble", "langevin", "-T", "300", "--friction",
                 "0.05", "--steps", "2000", "--every", "10", src)
    frames = read_text(result.stdout)
    temperatures = [f.info["MD_temperature_K"] for f in frames if f.info["MD_step"] >= 400]
    assert np.mean(temperatures) == pytest.approx(300, rel=0.10)


def test_same_seed_same_frames_under_parallel_and_chunking(tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(4, "Cu", (1, 1, 1)))
    args = ["md", "--calc", "emt", "--ensemble", "langevin", "-T", "500", "--steps", "40",
            "--every", "20", src]
    env = dict(os.environ, WFLCLI_HOME=str(tmp_path / "s"))
    serial = wfl_program("--no-cache", *args, env=env)
    parallel = wfl_program("--no-cache", "--parallel", "2", "--chunk", "3", *args, env=env)
    assert serial.returncode == 0 and serial.stdout == parallel.stdout
    other = wfl_program("--no-cache", "--seed", "5", *args, env=env)
    assert other.stdout != serial.stdout
    frames = read_text(serial.stdout.decode())
    assert [f.info["MD_source"] for f in frames] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_md_matches_ase_velocity_verlet(wfl, tmp_path):
    from ase import units
    from ase.md.verlet import VelocityVerlet

    atoms = rattled_cells(1, "Cu", (1, 1, 1))[0]
    atoms.set_momenta(np.random.default_rng(3).normal(0, 0.3, (4, 3)))
    result = wfl("md", "--calc", "emt", "--keep-velocities", "--steps", "20", "--every", "20",
                 write_configs(tmp_path / "cu.xyz", [atoms]))
    last = read_text(result.stdout)[-1]
    direct = atoms.copy()
    direct.calc = EMT()
    VelocityVerlet(direct, 1.0 * units.fs).run(20)
    assert np.allclose(last.positions, direct.positions, atol=1e-10)


def test_abort_conditions_keep_earlier_frames(wfl, tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(2, "Cu", (1, 1, 1)))
    hot = wfl("md", "--calc", "emt", "--ensemble", "berendsen", "-T", "300:20000", "--tau",
              "5", "--steps", "100", "--every", "10", "--max-temperature", "1000", src)
    assert hot.code == 3
    frames = read_text(hot.stdout)  # no --failed: the failed frame follows the good ones
    assert "above --max-temperature" in hot.stderr
    for source in (0, 1):
        trajectory = [f for f in frames if f.info["MD_source"] == source]
        assert len(trajectory) >= 2
        assert ["wfl_error" in f.info for f in trajectory] == [False] * (len(trajectory) - 1) + [True]
        assert trajectory[-1].info["MD_temperature_K"] > 1000
    close = wfl("md", "--calc", "emt", "--steps", "10", "--every", "5", "--min-distance", "5",
                src, "--failed", tmp_path / "failed.xyz")
    assert close.code == 3 and close.stdout == ""
    failed = read_text((tmp_path / "failed.xyz").read_text())
    assert len(failed) == 2 and "closer than --min-distance" in failed[0].info["wfl_error"]["message"]
    assert failed[0].info["MD_step"] == 0


def test_per_config_overrides(wfl, tmp_path):
    configs = rattled_cells(3, "Cu", (1, 1, 1))
    configs[1].info["wfl_md"] = {"temperature": 1000, "steps": 30}
    configs[2].info["wfl_md"] = {"ensemble": "berendsen", "temperature": "100:500"}
    result = wfl("md", "--calc", "emt", "--ensemble", "langevin", "-T", "10", "--steps", "20",
                 "--every", "10", write_configs(tmp_path / "cu.xyz", configs))
    assert result.code == 0, result.stderr
    frames = read_text(result.stdout)
    by_source = {}
    for frame in frames:
        by_source.setdefault(frame.info["MD_source"], []).append(frame)
    assert [f.info["MD_step"] for f in by_source[1]] == [0, 10, 20, 30]
    assert by_source[1][0].info["MD_temperature_K"] > 5 * by_source[0][0].info["MD_temperature_K"]
    bad = configs[0].copy()
    bad.info["wfl_md"] = {"tempreature": 5}
    broken = wfl("md", "--calc", "emt", "-T", "10", "--ensemble", "langevin", "--steps", "2",
                 write_configs(tmp_path / "bad.xyz", [bad]))
    assert broken.code == 3 and "unknown options: ['tempreature']" in broken.stderr


def test_md_usage_errors(wfl, tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(1, "Cu", (1, 1, 1)))
    assert "needs a temperature" in wfl("md", "--calc", "emt", "--ensemble", "langevin",
                                         src).stderr
    assert "needs a pressure" in wfl("md", "--calc", "emt", "--ensemble", "npt-berendsen",
                                     "-T", "300", src).stderr
    assert "ramp needs" in wfl("md", "--calc", "emt", "--ensemble", "bussi", "-T", "3:9",
                               src).stderr


@pytest.mark.parametrize("ensemble", ["bussi", "nose-hoover", "npt-berendsen", "npt-mtk"])
def test_other_ensembles_run(wfl, tmp_path, ensemble):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(1, "Cu", (2, 2, 2)))
    result = wfl("md", "--calc", "emt", "--ensemble", ensemble, "-T", "300", "--pressure", "0",
                 "--steps", "20", "--every", "10", src)
    assert result.code == 0, result.stderr
    assert len(read_text(result.stdout)) == 3


@pytest.mark.parametrize("name,optimizer", [("bfgs", BFGS), ("lbfgs", LBFGS), ("fire", FIRE),
                                            ("precon-lbfgs", PreconLBFGS)])
def test_optimize_equals_a_direct_ase_run(wfl, tmp_path, name, optimizer):
    atoms = rattled_cells(1, "Cu", (2, 2, 2), stdev=0.1)[0]
    result = wfl("optimize", "--calc", "emt", "--optimizer", name, "--fmax", "0.01",
                 write_configs(tmp_path / "cu.xyz", [atoms]))
    assert result.code == 0, result.stderr
    (relaxed,) = read_text(result.stdout)
    direct = atoms.copy()
    direct.calc = EMT()
    opt = optimizer(direct, logfile=None)
    assert opt.run(fmax=0.01, steps=1000)
    assert relaxed.info["optimize_converged"] is True
    assert relaxed.info["optimize_steps"] == opt.nsteps
    assert np.abs(relaxed.positions - direct.positions).max() < 1e-8
    assert np.abs(relaxed.arrays["emt_forces"]).max() < 0.01


def test_cell_relaxation_finds_the_emt_lattice_constant(wfl, tmp_path):
    from ase.filters import FrechetCellFilter

    reference = bulk("Cu", "fcc", a=3.6, cubic=True)
    reference.calc = EMT()
    BFGS(FrechetCellFilter(reference), logfile=None).run(fmax=1e-5)
    a_emt = reference.cell.lengths()[0]
    strained = bulk("Cu", "fcc", a=3.6 * 1.04, cubic=True)
    result = wfl("optimize", "--calc", "emt", "--cell", "--fmax", "1e-5",
                 write_configs(tmp_path / "cu.xyz", [strained]))
    (relaxed,) = read_text(result.stdout)
    assert np.allclose(relaxed.cell.lengths(), a_emt, atol=1e-3)


def test_symmetry_is_kept(wfl, tmp_path):
    import spglib

    cell = bulk("Cu", "fcc", a=3.7, cubic=True) * (2, 1, 1)
    result = wfl("optimize", "--calc", "emt", "--cell", "--symmetry", "--fmax", "1e-4",
                 write_configs(tmp_path / "cu.xyz", [cell]))
    (relaxed,) = read_text(result.stdout)

    def group(a):
        return spglib.get_spacegroup((a.cell[:], a.get_scaled_positions(), a.numbers),
                                     symprec=1e-5)

    assert group(relaxed) == group(cell) == "Fm-3m (225)"


def test_fixed_atoms_stay_fixed_and_trajectories(wfl, tmp_path):
    from ase.constraints import FixAtoms

    atoms = rattled_cells(1, "Cu", (2, 2, 2), stdev=0.1)[0]
    atoms.set_constraint(FixAtoms(indices=[0, 1, 2]))
    result = wfl("optimize", "--calc", "emt", "--fmax", "0.02", "--traj-every", "5",
                 write_configs(tmp_path / "cu.xyz", [atoms]))
    frames = read_text(result.stdout)
    assert len(frames) >= 2 and frames[0].info["optimize_step"] == 0
    final = frames[-1]
    assert "optimize_converged" in final.info and "optimize_converged" not in frames[0].info
    assert np.array_equal(final.positions[:3], atoms.positions[:3])
    assert not np.allclose(final.positions[3:], atoms.positions[3:])
    assert final.constraints[0].get_indices().tolist() == [0, 1, 2]


def test_require_converged(wfl, tmp_path):
    src = write_configs(tmp_path / "cu.xyz", rattled_cells(1, "Cu", (2, 2, 2), stdev=0.1))
    loose = wfl("optimize", "--calc", "emt", "--steps", "2", src)
    assert loose.code == 0 and read_text(loose.stdout)[0].info["optimize_converged"] is False
    strict = wfl("optimize", "--calc", "emt", "--steps", "2", "--require-converged", src)
    assert strict.code == 3 and "not converged" in strict.stderr
