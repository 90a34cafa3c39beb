"""File-based codes run for real: Debian's NWChem and CP2K (scripts/install_codes.sh),
driven by ``wfl calc`` with a folder per config, against the same calculation run directly
through ASE."""

from __future__ import annotations

import json
import os
import shutil
import stat

import numpy as np
import pytest
from ase.build import molecule
from ase.calculators.cp2k import CP2K
from ase.calculators.nwchem import NWChem

from helpers_data import read_text, write_configs

pytestmark = pytest.mark.slow

needs_nwchem = pytest.mark.skipif(shutil.which("nwchem") is None,
                                  reason="NWChem is not installed: scripts/install_codes.sh")
needs_cp2k = pytest.mark.skipif(shutil.which("cp2k_shell") is None,
                                reason="CP2K is not installed: scripts/install_codes.sh")

NWCHEM = {"theory": "dft", "xc": "PBE", "basis": "3-21G"}
NWCHEM_SPEC = "nwchem:theory=dft,xc=PBE,basis=3-21G"


def molecules(*names, rattle=0.02):
    configs = []
    for number, name in enumerate(names):
        atoms = molecule(name)
        atoms.rattle(rattle, seed=number)
        configs.append(atoms)
    return configs


def direct(calculator_class, atoms, folder, **parameters):
    """Energy and forces of the same calculation run through ASE alone."""
    atoms = atoms.copy()
    atoms.calc = calculator_class(directory=str(folder), **parameters)
    try:
        return atoms.get_potential_energy(), atoms.get_forces()
    finally:
        getattr(atoms.calc, "close", lambda: None)()


@needs_nwchem
def test_nwchem_in_parallel_matches_ase_and_keeps_a_failure(tmp_path, wfl):
    configs = molecules("H2O", "NH3", "CH4", "H2")
    configs[1].info["wfl_calc"] = {"basis": "6-31G"}     # a per-config override
    configs[3].info["wfl_calc"] = {"dft": {"mult": 2}}  # 2 electrons, a doublet: impossible
    write_configs(tmp_path / "in.xyz", configs)
    out, failed = tmp_path / "ref.xyz", tmp_path / "failed.xyz"

    result = wfl("--parallel", "2", "calc", "--calc", NWCHEM_SPEC, "--prefix", "REF_",
                 "--overrides", "basis,dft.mult", tmp_path / "in.xyz", "-o", out,
                 "--failed", failed)

    assert result.code == 3, result.stderr
    assert "1 of 4 configs failed" in result.stderr and "config 3" in result.stderr
    done = read_text(out.read_text())
    assert len(done) == 3
    for index, atoms in enumerate(done):  # config 1 matches 6-31G only: the override held
        parameters = {**NWCHEM, **configs[index].info.get("wfl_calc", {})}
        energy, forces = direct(NWChem, configs[index], tmp_path / f"direct-{index}",
                                **parameters)
        assert atoms.info["REF_energy"] == pytest.approx(energy, abs=1e-8)
        np.testing.assert_allclose(atoms.arrays["REF_forces"], forces, atol=1e-8)

    [bad] = read_text(failed.read_text())
    error = bad.info["wfl_error"]
    assert error["type"] == "CodeRunFailed" and error["folder"] in error["message"]
    assert "multiplicity not compatible" in error["output_tail"]
    kept = sorted(os.listdir(error["folder"]))
    assert "nwchem.nwi" in kept and "nwchem.nwo" in kept and "nwchem" in kept  # all kept

    folders = tmp_path / "ref-files"
    assert sorted(os.listdir(folders)) == [f"config-{i:06d}" for i in range(4)]
    for index in range(3):  # each config ran in its own folder, pruned to input and output
        folder = folders / f"config-{index:06d}"
        assert sorted(os.listdir(folder)) == ["nwchem.nwi", "nwchem.nwo"]
        text = (folder / "nwchem.nwi").read_text()  # this config's own input, not another's
        geometry = text.split("geometry")[1].split("end")[0].splitlines()[1:]
        assert [line.split()[0] for line in geometry] == configs[index].get_chemical_symbols()
        assert str(folder) in text  # NWChem's own scratch and permanent folders too


@needs_nwchem
def test_nwchem_override_changes_the_result_and_the_cache_key(tmp_path, wfl):
    [water] = molecules("H2O")
    swept = [water.copy(), water.copy()]
    swept[1].info["wfl_calc"] = json.dumps({"basis": "STO-3G"})  # JSON text works too
    write_configs(tmp_path / "in.xyz", swept)
    args = ("calc", "--calc", NWCHEM_SPEC, "--overrides", "basis", "--keep-files", "none",
            tmp_path / "in.xyz")

    first = wfl(*args, "-o", tmp_path / "a.xyz")
    assert first.code == 0, first.stderr
    a, b = read_text((tmp_path / "a.xyz").read_text())
    sto3g, _ = direct(NWChem, water, tmp_path / "direct", **{**NWCHEM, "basis": "STO-3G"})
    assert b.info["nwchem_energy"] == pytest.approx(sto3g, abs=1e-8)
    assert abs(a.info["nwchem_energy"] - b.info["nwchem_energy"]) > 1.0
    assert not (tmp_path / "a-files").exists()  # --keep-files none leaves nothing behind

    again = wfl(*args, "-o", tmp_path / "b.xyz")  # both from the cache: no new folder, same text
    assert again.code == 0 and (tmp_path / "b.xyz").read_text() == (tmp_path / "a.xyz").read_text()


@needs_nwchem
def test_threads_reach_the_code_command_and_environment(tmp_path, wfl, monkeypatch):
    """WFL_NWCHEM_COMMAND with {threads}: a wrapper records what it was given, then runs
    the real NWChem."""
    wrapper = tmp_path / "nwchem-wrapper"
    wrapper.write_text('#!/bin/sh\necho "$1 OMP_NUM_THREADS=$OMP_NUM_THREADS" > threads.txt\n'
                       'shift\nexec nwchem "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("WFL_NWCHEM_COMMAND", f"{wrapper} np={{threads}}")
    write_configs(tmp_path / "in.xyz", molecules("H2"))

    before = os.environ.get("OMP_NUM_THREADS")
    result = wfl("calc", "--calc", NWCHEM_SPEC, "--threads", "3", "--keep-files", "all",
                 "--scratch", tmp_path / "scratch", tmp_path / "in.xyz")

    assert result.code == 0, result.stderr
    record = (tmp_path / "scratch" / "config-000000" / "threads.txt").read_text()
    assert record == "np=3 OMP_NUM_THREADS=3\n"
    assert os.environ.get("OMP_NUM_THREADS") == before  # set for the code alone


@needs_nwchem
def test_nwchem_refuses_a_folder_with_spaces_clearly(tmp_path, wfl):
    """NWChem's input cannot quote its scratch path: said per config, nothing left behind."""
    write_configs(tmp_path / "in.xyz", molecules("H2"))
    result = wfl("calc", "--calc", NWCHEM_SPEC, "--scratch", tmp_path / "my scratch",
                 tmp_path / "in.xyz")
    assert result.code == 3 and "white space" in result.stderr
    assert not (tmp_path / "my scratch").exists()


@pytest.mark.parametrize("command, message", [
    ("{tmp}/no-such-orca", "no-such-orca' is not found; install orca or set WFL_ORCA_COMMAND"),
    ("'{tmp}/orca", "is not a command line (No closing quotation)"),
])
def test_a_missing_program_is_one_clear_error_before_any_work(tmp_path, wfl, monkeypatch,
                                                              command, message):
    monkeypatch.setenv("WFL_ORCA_COMMAND", command.format(tmp=tmp_path))
    write_configs(tmp_path / "in.xyz", molecules("H2"))
    result = wfl("calc", "--calc", "orca", tmp_path / "in.xyz", "-o", tmp_path / "out.xyz")
    assert result.code == 1 and result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out.xyz").exists()


@needs_cp2k
def test_cp2k_in_parallel_matches_ase(tmp_path, wfl):
    configs = molecules("H2O", "NH3", "CH4")
    for atoms in configs:
        atoms.cell = [6, 6, 6]
        atoms.center()
    configs[2].info["wfl_calc"] = {"charge": 1}  # an odd electron count without UKS: fails
    write_configs(tmp_path / "in.xyz", configs)
    parameters = {"xc": "PBE", "cutoff": 2700, "max_scf": 30}

    result = wfl("--parallel", "2", "calc", "--calc", "cp2k:xc=PBE,cutoff=2700,max_scf=30",
                 "--overrides", "charge", "--properties", "energy,forces", tmp_path / "in.xyz",
                 "-o", tmp_path / "out.xyz")

    assert result.code == 3, result.stderr
    done = read_text((tmp_path / "out.xyz").read_text())
    assert "wfl_error" in done[2].info and os.path.isdir(done[2].info["wfl_error"]["folder"])
    for index in range(2):
        energy, forces = direct(CP2K, configs[index], tmp_path / f"direct-{index}",
                                command="cp2k_shell", **parameters)
        assert done[index].info["cp2k_energy"] == pytest.approx(energy, abs=1e-8)
        np.testing.assert_allclose(done[index].arrays["cp2k_forces"], forces, atol=1e-8)
        folder = tmp_path / "out-files" / f"config-{index:06d}"
        assert sorted(os.listdir(folder)) == ["cp2k.inp", "cp2k.out"]  # the .wfn went


@needs_nwchem
def test_nwchem_through_remote_runs_in_the_job_folder_with_the_systems_env(tmp_path, wfl):
    """``--remote`` with the local scheduler: the system's env table reaches the job, each
    job runs cores / --threads calculations at once, and the files stay in the job folder."""
    from helpers_remote import system_toml, write_config

    wrapper = tmp_path / "nwchem-wrapper"
    wrapper.write_text('#!/bin/sh\necho "$1 OMP_NUM_THREADS=$OMP_NUM_THREADS" > threads.txt\n'
                       'shift\nexec nwchem "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False) +
                 f"[systems.here.env]\nWFL_NWCHEM_COMMAND = '{wrapper} np={{threads}}'\n")
    write_configs(tmp_path / "in.xyz", molecules("H2O", "H2"))

    remote = wfl("--remote", "here", "--cores", "2", "calc", "--calc", NWCHEM_SPEC,
                 "--threads", "2", "--keep-files", "all", "--scratch", tmp_path / "back",
                 tmp_path / "in.xyz")
    local = wfl("--no-cache", "calc", "--calc", NWCHEM_SPEC, "--keep-files", "none",
                "--scratch", tmp_path / "local-files", tmp_path / "in.xyz")

    assert remote.code == 0, remote.stderr
    assert remote.stdout == local.stdout  # same numbers, however they were run
    [job] = (tmp_path / "runs").iterdir()
    assert "--parallel 1 " in (job / "job.sh").read_text()  # 2 cores / 2 threads
    for index in range(2):
        for folder in (job / "wfl-calc-files" / f"config-{index:06d}",
                       tmp_path / "back" / f"config-{index:06d}"):  # and brought back
            assert (folder / "threads.txt").read_text() == "np=2 OMP_NUM_THREADS=2\n"
            assert (folder / "nwchem.nwo").is_file()


@pytest.mark.parametrize("output, folder", [
    ("ref.xyz", "ref-files"), ("out/run.v2.xyz.gz", "out/run.v2-files"),
    (None, "wfl-calc-files"), ("-", "wfl-calc-files")])
def test_default_scratch_sits_beside_the_output(output, folder):
    from wflcli.calculators.scratch import default_scratch

    assert default_scratch(output) == folder


def test_config_folders_never_reuse_a_kept_one(tmp_path):
    from wflcli.calculators.scratch import new_folder

    first = new_folder(str(tmp_path / "runs"), 7)
    (first / "kept.out").write_text("from an earlier run")
    second = new_folder(str(tmp_path / "runs"), 7)
    assert (first.name, second.name) == ("config-000007", "config-000007.1")
    assert (first / "kept.out").read_text() == "from an earlier run"
