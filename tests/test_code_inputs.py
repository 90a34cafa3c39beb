"""Codes that cannot be installed here (Quantum ESPRESSO, ORCA, VASP, CASTEP, FHI-aims are
licensed or not packaged for Debian): what wflcli makes them write is compared with golden
files, and what they print is parsed from captured outputs of the real codes that ASE
ships with its tests (read from the installed ASE, not copied here). A stand-in program
(tests/codes/standin.sh) takes the code's place: it records how it was called and gives
back the captured output, or fails.

Regenerate the golden files after a deliberate change with
WFL_UPDATE_GOLDEN=1 pytest tests/test_code_inputs.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.io import read

from helpers_data import read_text, write_configs

GOLDEN = Path(__file__).parent / "golden" / "codes"
STANDIN = Path(__file__).parent / "codes" / "standin.sh"
ASE_DATA = Path(pytest.importorskip("ase.test").__file__).parent / "testdata"

# code -> (--calc, --calc-kwargs, the input files it writes)
INPUTS = {
    "espresso": ("espresso", '{"input_data": {"ecutwfc": 30}, "kpts": [4, 4, 4], '
                 '"pseudopotentials": {"N": "N.upf", "Na": "Na.upf", "Cl": "Cl.upf"}}',
                 ["espresso.pwi"]),
    "orca": ("orca:orcasimpleinput=PBE def2-SVP,charge=0,mult=1", None, ["orca.inp"]),
    "vasp": ("vasp:xc=PBE,encut=300", '{"kpts": [4, 4, 4]}', ["INCAR", "KPOINTS", "POSCAR"]),
    "castep": ("castep:param.cut_off_energy=300,param.xc_functional=PBE,"
               "cell.kpoint_mp_grid=4 4 4", None, ["castep.cell", "castep.param"]),
    "aims": ("aims:xc=pbe", '{"k_grid": [4, 4, 4]}', ["control.in", "geometry.in"]),
}


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """Every code's command is the stand-in; fake pseudopotential and species files (the
    real ones are licensed or large) where ASE reads them while writing inputs."""
    for code in INPUTS:
        monkeypatch.setenv(f"WFL_{code.upper()}_COMMAND", str(STANDIN))
    monkeypatch.setenv("WFL_VASP_GAMMA_COMMAND", f"{STANDIN} gamma")
    monkeypatch.setenv("ESPRESSO_PSEUDO", "/pseudo")
    monkeypatch.setenv("CASTEP_PP_PATH", "/pp")
    potentials, species = tmp_path / "potpaw_PBE", tmp_path / "species"
    species.mkdir()
    for number, element in ((7, "N"), (11, "Na"), (14, "Si"), (17, "Cl"), (28, "Ni")):
        (potentials / element).mkdir(parents=True)
        (potentials / element / "POTCAR").write_text(f"fake POTCAR for {element}\n")
        (species / f"{number:02d}_{element}_default").write_text(
            f"  species {element}\n    nucleus {number}\n")
    monkeypatch.setenv("VASP_PP_PATH", str(tmp_path))
    monkeypatch.setenv("AIMS_SPECIES_DIR", str(species))
    monkeypatch.delenv("WFL_CAPTURED", raising=False)
    monkeypatch.delenv("WFL_CAPTURED_FILES", raising=False)
    return monkeypatch


def _stable(text: str, tmp_path) -> str:
    """Without what changes from run to run or machine to machine: the folders, and the
    time FHI-aims' writer stamps on its files."""
    text = text.replace(str(tmp_path), "TMP").replace(str(STANDIN), "STANDIN")
    return re.sub(r"(?m)^#.*\d\d:\d\d:\d\d.*$", "# (time stamp)", text)


def two_configs(path):
    nitrogen = molecule("N2")
    nitrogen.center(vacuum=3.0)  # a molecule in a box: not periodic
    write_configs(path, [nitrogen, bulk("NaCl", "rocksalt", a=5.64)])


@pytest.mark.parametrize("code", sorted(INPUTS))
def test_input_files_match_golden_files(code, tmp_path, wfl, stand_in):
    spec, kwargs, files = INPUTS[code]
    two_configs(tmp_path / "in.xyz")
    extra = ["--calc-kwargs", kwargs] if kwargs else []

    result = wfl("calc", "--calc", spec, *extra, "--threads", "2", "--scratch",
                 tmp_path / "runs", tmp_path / "in.xyz")

    assert result.code == 3  # the stand-in has no output to give: both fail, folders kept
    for index, failed in enumerate(read_text(result.stdout)):
        folder = Path(failed.info["wfl_error"]["folder"])
        assert folder == tmp_path / "runs" / f"config-{index:06d}"
        if code != "castep":  # CASTEP writes its own log files; the stand-in cannot
            assert "no captured output" in failed.info["wfl_error"]["output_tail"]
        assert (folder / "standin-env.txt").read_text() == (
            "MKL_NUM_THREADS=2\nOMP_NUM_THREADS=2\nOPENBLAS_NUM_THREADS=2\n")
        for name in files:
            text = _stable((folder / name).read_text(), tmp_path)
            golden = GOLDEN / code / f"config-{index}" / name
            if os.environ.get("WFL_UPDATE_GOLDEN"):
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_text(text)
            assert text == golden.read_text(), f"{code} {name} differs from {golden}"


def test_vasp_runs_the_gamma_build_for_a_molecule(tmp_path, wfl, stand_in):
    two_configs(tmp_path / "in.xyz")
    wfl("calc", "--calc", "vasp:xc=PBE", "--scratch", tmp_path / "runs", tmp_path / "in.xyz")
    called = [(tmp_path / "runs" / f"config-{i:06d}" / "standin-argv.txt").read_text()
              for i in range(2)]
    assert called == ["standin.sh gamma\n", "standin.sh \n"]
    kpoints = (tmp_path / "runs" / "config-000000" / "KPOINTS").read_text().split("\n")
    assert kpoints[2:4] == ["Gamma", "1 1 1"]



def _called(folder) -> str:
    return (folder / "config-000000" / "standin-argv.txt").read_text()


def test_nodes_cores_and_threads_reach_the_command_line(tmp_path, wfl, stand_in):
    """Here {nodes} is 1 and {cores} the calculation's threads; a job of --nodes 2 with
    --cores 2 gives it 2 nodes and their 4 cores (the local scheduler runs that job)."""
    from helpers_remote import system_toml, write_config

    stand_in.setenv("WFL_VASP_COMMAND", f"{STANDIN} -n {{cores}} -N {{nodes}} -t {{threads}}")
    write_configs(tmp_path / "in.xyz", [bulk("NaCl", "rocksalt", a=5.64)])
    spec = ["calc", "--calc", "vasp:xc=PBE", "--threads", "2"]
    wfl(*spec, "--scratch", tmp_path / "here", tmp_path / "in.xyz")
    assert _called(tmp_path / "here") == "standin.sh -n 2 -N 1 -t 2\n"

    command = f"{STANDIN} -n {{cores}} -N {{nodes}} -t {{threads}}"
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False) +
                 f"[systems.here.env]\nWFL_VASP_COMMAND = '{command}'\n"
                 f"VASP_PP_PATH = '{tmp_path}'\n")
    remote = wfl("--remote", "here", "--nodes", "2", "--cores", "2", *spec,
                 "--scratch", tmp_path / "fetched", tmp_path / "in.xyz")
    assert remote.code == 3, remote.stderr  # the stand-in has no output to give back
    [job] = (tmp_path / "runs").iterdir()
    assert _called(job / "wfl-calc-files") == "standin.sh -n 4 -N 2 -t 2\n"  # the job's scratch
    assert _called(tmp_path / "fetched") == "standin.sh -n 4 -N 2 -t 2\n"  # and brought back
    assert "--parallel 1 " in (job / "job.sh").read_text()  # one config at a time


def _espresso(tmp_path):
    from ase.test.fio.test_espresso import pw_output_text  # a pw.x output ASE ships

    path = tmp_path / "captured.pwo"
    path.write_text(pw_output_text)
    return {"WFL_CAPTURED": str(path)}, read(path, format="espresso-out")


def _orca(tmp_path):
    """ORCA's output and gradient files as captured in ASE's own test of its reader (they
    live in that test's source: read from it, not copied here)."""
    import ast
    import inspect

    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io.orca import read_orca_outputs
    from ase.test.fio import test_orca

    texts = {node.targets[0].id: node.value.value
             for node in ast.walk(ast.parse(inspect.getsource(test_orca.test_read_orca_outputs)))
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}
    (tmp_path / "captured.out").write_text(texts["sample_outputfile"])
    (tmp_path / "captured.engrad").write_text(texts["sample_engradfile"])
    water = molecule("H2O")  # the geometry of the captured gradient, in Angstrom
    water.positions = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    water.calc = SinglePointCalculator(water, **{
        key: value for key, value in read_orca_outputs(tmp_path, tmp_path / "captured.out")
        .items() if key in ("energy", "forces")})
    return ({"WFL_CAPTURED": str(tmp_path / "captured.out"),
             "WFL_CAPTURED_FILES": f"{tmp_path / 'captured.engrad'}=orca.engrad"}, water)


def _vasp(tmp_path):
    """vasprun.xml (energy, forces) of a VASP run ASE ships, and a captured converged
    OUTCAR excerpt for the convergence check (ASE ships no OUTCAR of the same run)."""
    files = (f"{ASE_DATA / 'vasp' / 'vasprun_dfpt.xml'}=vasprun.xml "
             f"{ASE_DATA / 'vasp' / 'convergence_OUTCAR_y_y'}=OUTCAR")
    return ({"WFL_CAPTURED_FILES": files},
            read(ASE_DATA / "vasp" / "vasprun_dfpt.xml", index=-1))


def _shipped(name, fmt, written_as=None):
    def captured(_):
        path = ASE_DATA / name
        given = ({"WFL_CAPTURED_FILES": f"{path}={written_as}"} if written_as
                 else {"WFL_CAPTURED": str(path)})
        return given, read(path, format=fmt, index=-1)

    return captured


# code -> (--calc, --calc-kwargs, how to get the stand-in's settings and the Atoms that
# ASE's reader makes of the captured output)
CAPTURED = {
    "espresso": ("espresso", '{"pseudopotentials": {"Fe": "Fe.upf", "H": "H.upf"}}',
                 _espresso),
    "orca": ("orca", None, _orca),
    "vasp": ("vasp:xc=PBE", None, _vasp),
    "aims": ("aims:xc=pbe", '{"k_grid": [2, 2, 2]}', _shipped("aims/relax.out", "aims-output")),
    "castep": ("castep", None, _shipped("castep/md.castep", "castep-castep", "castep.castep")),
}


@pytest.mark.filterwarnings("ignore")  # ASE's readers warn about the captured runs' own notes
@pytest.mark.parametrize("code", sorted(CAPTURED))
def test_results_are_parsed_from_a_captured_output(code, tmp_path, wfl, stand_in):
    """The captured run's structure goes in; wfl's results equal what ASE's reader
    finds in the captured output."""
    spec, kwargs, captured = CAPTURED[code]
    settings, reference = captured(tmp_path)
    config = reference.copy()
    config.calc, config.constraints = None, []
    write_configs(tmp_path / "in.xyz", [config])
    for name, value in settings.items():
        stand_in.setenv(name, value)
    extra = ["--calc-kwargs", kwargs] if kwargs else []

    result = wfl("calc", "--calc", spec, *extra, "--properties", "energy,forces",
                 "--scratch", tmp_path / "runs", tmp_path / "in.xyz")

    assert result.code == 0, result.stderr
    [done] = read_text(result.stdout)
    assert done.info[f"{code}_energy"] == pytest.approx(reference.get_potential_energy(),
                                                        abs=1e-9)
    np.testing.assert_allclose(done.arrays[f"{code}_forces"], reference.get_forces(),
                               atol=1e-9)
    kept = os.listdir(tmp_path / "runs" / "config-000000")
    assert "standin-argv.txt" not in kept  # --keep-files outputs: the code's files only
