"""Fitting and judging a potential: wfl fit-gap (the real gap_fit), --calc gap:, wfl error."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from helpers_data import rattled_cells, read_text
from helpers_wfl import PROGRAM, wfl_program
from wflcli.io.writer import format_config

pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")

TWO_BODY = ("distance_2b cutoff=4.5 covariance_type=ard_se delta=0.5 theta_uniform=1.0 "
            "sparse_method=uniform n_sparse=20")
SOAP = ("soap cutoff=4.5 l_max=4 n_max=6 atom_sigma=0.5 delta=0.1 zeta=4 "
        "covariance_type=dot_product sparse_method=cur_points n_sparse=60")


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """40 training and 10 held-out rattled Cu cells, and the isolated atom, with EMT."""
    import subprocess


    folder = tmp_path_factory.mktemp("gap")
    env = dict(os.environ, WFLCLI_HOME=str(folder / "store"))
    cells = []
    for i, atoms in enumerate(rattled_cells(50, "Cu", (2, 2, 2), stdev=0.1)):
        atoms.set_cell(atoms.cell * (0.98 + 0.04 * (i % 5) / 4), scale_atoms=True)
        atoms.info["config_type"] = "rattled"
        cells.append(atoms)
    raw = folder / "raw.xyz"
    raw.write_text("".join(format_config(a) for a in cells))
    isolated = subprocess.run(f"'{PROGRAM}' atoms Cu | '{PROGRAM}' calc --calc emt "
                              "--prefix REF_", shell=True, capture_output=True, env=env,
                              check=True).stdout
    labelled = wfl_program("calc", "--calc", "emt", "--prefix", "REF_", raw, env=env,
                           check=True).stdout
    configs = read_text(labelled.decode())
    (folder / "train.xyz").write_bytes(isolated + "".join(format_config(a)
                                                          for a in configs[:40]).encode())
    (folder / "test.xyz").write_text("".join(format_config(a) for a in configs[40:]))
    return folder


def fit(wfl, folder, *extra):
    return wfl("fit-gap", folder / "train.xyz", "--ref", "REF_", "--gap", TWO_BODY, "--gap",
               SOAP, "-o", folder / "GAP.xml", *extra)


@pytest.mark.slow
def test_fit_evaluate_and_judge_end_to_end(wfl, labelled, monkeypatch):
    monkeypatch.setenv("WFLCLI_HOME", str(labelled / "store"))
    result = fit(wfl, labelled, "--force")
    assert result.code == 0, result.stderr
    model = labelled / "GAP.xml"
    assert model.exists() and list(labelled.glob("GAP.xml.sparse*"))
    log = (labelled / "GAP.xml.log").read_text()
    assert log.startswith("# command: ") and "gap_fit" in log.splitlines()[0]
    assert not list(labelled.glob(".GAP.xml.fit-*"))  # the private folder is gone

    predicted = wfl("calc", "--calc", f"gap:{model}", "--prefix", "GAP_",
                    labelled / "test.xyz")
    assert predicted.code == 0, predicted.stderr
    (labelled / "pred.xyz").write_text(predicted.stdout)
    report = json.loads(wfl("error", "--ref", "REF_", "--pred", "GAP_", "--json",
                            labelled / "pred.xyz").stdout)
    energy = report["properties"]["energy/atom"]["overall"]
    forces = report["properties"]["forces"]["overall"]
    assert energy["count"] == 10 and energy["rmse"] < 0.005   # eV/atom
    assert forces["count"] == 10 * 32 * 3 and forces["rmse"] < 0.1  # eV/A


@pytest.mark.slow
def test_gap_calc_matches_quippy_directly(wfl, labelled, monkeypatch):
    from quippy.potential import Potential

    monkeypatch.setenv("WFLCLI_HOME", str(labelled / "store"))
    assert fit(wfl, labelled).code == 0
    model = labelled / "GAP.xml"
    result = wfl("--parallel", "2", "calc", "--calc", f"gap:{model}", "--prefix", "GAP_",
                 labelled / "test.xyz")
    direct = Potential("IP GAP", param_filename=str(model))
    for atoms in read_text(result.stdout):
        copy = atoms.copy()
        copy.calc = direct
        assert atoms.info["GAP_energy"] == pytest.approx(copy.get_potential_energy(), abs=1e-9)
        assert np.allclose(atoms.arrays["GAP_forces"], copy.get_forces(), atol=1e-9)


@pytest.mark.slow
def test_rerun_skips_and_a_new_sigma_refits(wfl, labelled, monkeypatch):
    monkeypatch.setenv("WFLCLI_HOME", str(labelled / "store"))
    assert fit(wfl, labelled).code == 0
    before = (labelled / "GAP.xml").stat().st_mtime_ns
    again = fit(wfl, labelled)
    assert again.code == 0 and "is up to date" in again.stderr
    assert (labelled / "GAP.xml").stat().st_mtime_ns == before
    refit = fit(wfl, labelled, "--sigma", "0.003,0.06,0.05,0")
    assert refit.code == 0 and "wrote" in refit.stderr
    assert (labelled / "GAP.xml").stat().st_mtime_ns != before


@pytest.mark.slow
def test_params_file_and_per_config_type_sigma(wfl, labelled, tmp_path):
    params = tmp_path / "fit.yaml"
    params.write_text(f"gap:\n  - {TWO_BODY}\nsparse_jitter: 1.0e-8\n")
    result = wfl("fit-gap", labelled / "train.xyz", "--params", params, "--config-type-sigma",
                 "rattled:0.001,0.04,0.05,0", "-o", tmp_path / "G.xml")
    assert result.code == 0, result.stderr
    command = (tmp_path / "G.xml.log").read_text().splitlines()[0]
    assert "sparse_jitter=1e-08" in command and "distance_2b" in command
    assert "config_type_sigma={rattled:0.001:0.04:0.05:0.0}" in command
    bad = tmp_path / "bad.yaml"
    bad.write_text("gap: [unclosed\n")
    assert wfl("fit-gap", labelled / "train.xyz", "--params", bad, "-o",
               tmp_path / "H.xml").code == 2


def test_fit_gap_errors(wfl, labelled, tmp_path):
    cells = tmp_path / "cells.xyz"
    cells.write_text(format_config(rattled_cells(1)[0]))
    missing = wfl("fit-gap", cells, "--gap", TWO_BODY, "-o", tmp_path / "G.xml")
    assert missing.code == 1 and "no config has REF_energy or REF_forces" in missing.stderr
    no_e0 = wfl("fit-gap", labelled / "test.xyz", "--gap", TWO_BODY, "-o", tmp_path / "G.xml")
    assert no_e0.code == 1 and "no isolated-atom config" in no_e0.stderr
    bad = wfl("fit-gap", labelled / "train.xyz", "--gap", "distance_2b cutof=4", "-o",
              tmp_path / "G.xml")
    assert bad.code == 1 and "gap_fit failed" in bad.stderr
    assert not (tmp_path / "G.xml").exists() and not list(tmp_path.glob(".G.xml.fit-*"))
    assert wfl("fit-gap", labelled / "train.xyz", "-o", tmp_path / "G.xml").code == 2


def test_error_numbers_equal_numpy(wfl, tmp_path):
    rng = np.random.default_rng(0)
    configs = rattled_cells(6, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info.update(REF_energy=rng.normal(), P_energy=rng.normal(),
                          config_type="a" if i < 4 else "b")
        atoms.arrays["REF_forces"] = rng.normal(size=(4, 3))
        atoms.arrays["P_forces"] = rng.normal(size=(4, 3))
    del configs[5].info["P_energy"]  # a missing prediction is counted, not dropped
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    report = json.loads(wfl("error", "--ref", "REF_", "--pred", "P_", "--by", "config_type",
                            "--json", src).stdout)
    e_err = np.array([(a.info["P_energy"] - a.info["REF_energy"]) / 4 for a in configs[:5]])
    f_err = np.concatenate([(a.arrays["P_forces"] - a.arrays["REF_forces"]).ravel()
                            for a in configs])
    energy = report["properties"]["energy/atom"]
    assert energy["overall"]["rmse"] == pytest.approx(np.sqrt(np.mean(e_err ** 2)))
    assert energy["overall"]["mae"] == pytest.approx(np.mean(np.abs(e_err)))
    assert energy["overall"]["max"] == pytest.approx(np.abs(e_err).max())
    assert energy["overall"]["missing"] == 1 and energy["groups"]["b"]["missing"] == 1
    assert energy["groups"]["a"]["rmse"] == pytest.approx(np.sqrt(np.mean(e_err[:4] ** 2)))
    forces = report["properties"]["forces"]["overall"]
    assert forces["rmse"] == pytest.approx(np.sqrt(np.mean(f_err ** 2)))
    assert forces["count"] == f_err.size

    table = wfl("error", "--ref", "REF_", "--pred", "P_", src).stdout
    header, first = table.splitlines()[:2]
    assert header.split()[:4] == ["property", "group", "RMSE", "MAE"]
    assert float(first.split()[2]) == pytest.approx(np.sqrt(np.mean(e_err ** 2)) * 1000, abs=1e-3)


def test_parity_plot_is_written(wfl, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is the plot extra; CI installs it")
    configs = rattled_cells(4, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info.update(REF_energy=float(i), P_energy=i + 0.1, config_type=str(i % 2))
        atoms.arrays["REF_forces"] = np.ones((4, 3)) * i
        atoms.arrays["P_forces"] = np.ones((4, 3)) * i * 1.1
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    for name in ("parity.png", "parity.pdf", "parity.svg"):
        result = wfl("error", "--ref", "REF_", "--pred", "P_", "--by", "config_type", src,
                     "--plot", tmp_path / name)
        assert result.code == 0, result.stderr
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "parity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    width, height = Image.open(tmp_path / "parity.png").size
    assert width > height  # two panels side by side above their histograms
    assert wfl("error", "--ref", "REF_", "--pred", "P_", src, "--plot", tmp_path / "x.gif").code == 2


UNIFORM_OO = ("distance_2b Z1=8 Z2=8 cutoff=3 covariance_type=ard_se delta=0.5 "
              "theta_uniform=1 sparse_method=uniform n_sparse=10")


def water_set(path):
    """Isolated H and O and five rattled water molecules (one O each: no O-O pair)."""
    from ase import Atoms
    from ase.build import molecule
    from ase.calculators.emt import EMT

    configs = []
    for symbol in "HO":
        atoms = Atoms(symbol)
        atoms.info["config_type"] = "isolated_atom"
        configs.append(atoms)
    for seed in range(5):
        atoms = molecule("H2O")
        atoms.rattle(0.05, seed=seed)
        configs.append(atoms)
    for atoms in configs:
        atoms.calc = EMT()
        atoms.info["REF_energy"] = atoms.get_potential_energy()
        atoms.arrays["REF_forces"] = atoms.get_forces()
        atoms.calc = None
    path.write_text("".join(format_config(a) for a in configs))
    return path


def test_gap_fit_errors_are_found_anywhere_in_its_output(tmp_path):
    """gap_fit's SYSTEM ABORT sits in the middle of its output, followed by reports: it is
    shown, with the path of the whole output (main showed the last 25 lines only)."""
    from wflcli.errors import WflError
    from wflcli.io.reader import read_configs
    from wflcli.verbs import fit_gap as fit

    configs = fit.training_configs(list(read_configs([str(water_set(tmp_path / "w.xyz"))],
                                                     None)), "REF_", [UNIFORM_OO])
    job = fit.GapFit("REF_", [UNIFORM_OO])
    text = "".join(format_config(a) for a in configs)
    model = tmp_path / "W.xml"
    with pytest.raises(WflError) as caught:
        fit.run_fit(text, job.arguments(configs), str(model), None, "x")
    message = str(caught.value)
    assert "SYSTEM ABORT: select_uniform: Descriptor is too large" in message
    log = tmp_path / "W.xml.failed.log"
    assert f"(its whole output: {log})" in message
    lines = log.read_text().splitlines()
    abort = next(i for i, line in enumerate(lines) if "SYSTEM ABORT" in line)
    assert len(lines) - abort > 25  # not within the tail main showed
    assert not model.exists()


def test_fit_gap_says_before_running_when_a_descriptor_has_no_data(wfl, tmp_path):
    train = water_set(tmp_path / "w.xyz")
    result = wfl("fit-gap", train, "--gap", UNIFORM_OO, "-o", tmp_path / "W.xml")
    assert result.code == 1
    assert "--gap 1 (distance_2b): no O-O pair within 3 A in any training config" in \
        result.stderr
    assert "gap_fit would stop on it" in result.stderr
    assert not (tmp_path / "W.xml.failed.log").exists()  # gap_fit never ran

    carbon = UNIFORM_OO.replace("sparse_method=uniform", "sparse_method=cur_points") \
        .replace("Z1=8 Z2=8", "add_species=F Z1=6 Z2=8")
    warned = wfl("fit-gap", train, "--gap", carbon, "-o", tmp_path / "C.xml")
    assert "species C (Z=6) is in no training config" in warned.stderr
    assert "no C-O pair" in warned.stderr


@pytest.mark.slow
def test_a_successful_fit_removes_an_earlier_failure_log(wfl, tmp_path):
    train = water_set(tmp_path / "w.xyz")
    bad = UNIFORM_OO.replace("cutoff=3", "cutof=3").replace("method=uniform", "method=cur_points")
    failed = wfl("fit-gap", train, "--gap", bad, "-o", tmp_path / "W.xml")
    assert failed.code == 1 and "Connection structure has no connectivity data" in failed.stderr
    assert (tmp_path / "W.xml.failed.log").exists()
    good = UNIFORM_OO.replace("method=uniform", "method=cur_points")
    assert wfl("fit-gap", train, "--gap", good, "-o", tmp_path / "W.xml").code == 0
    assert not (tmp_path / "W.xml.failed.log").exists() and (tmp_path / "W.xml").exists()


def test_parity_plot_names_methods_units_and_errors(wfl, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is the plot extra; CI installs it")
    configs = rattled_cells(6, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):  # P is REF + 0.1 eV per config (25 meV/atom)
        atoms.info.update(REF_energy=float(i), P_energy=i + 0.1, config_type=f"g{i % 2}",
                          REF_stress=np.full(6, 0.01 * i), P_stress=np.full(6, 0.011 * i))
        atoms.arrays["REF_forces"] = np.ones((4, 3)) * i
        atoms.arrays["P_forces"] = np.ones((4, 3)) * i * 1.1
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    svg = tmp_path / "p.svg"
    assert wfl("error", "--ref", "REF_", "--pred", "P_", "--by", "config_type", src,
               "--plot", svg).code == 0
    text = svg.read_text()
    for label in ("REF (eV/atom)", "P (eV/atom)", "REF (eV/Å)", "REF (GPa)", "P − REF (eV/Å)",
                  "Energy per atom", "Stress components", "g0", "g1", "MPa", "N    6"):
        assert label in text, label
    assert "RMSE 25 meV/atom" in text and "MAE  25 meV/atom" in text  # the table's numbers
    shifted = tmp_path / "s.svg"
    assert wfl("error", "--ref", "REF_", "--pred", "P_", src, "--plot", shifted,
               "--shift").code == 0
    assert "P (eV/atom) − 25 meV/atom" in shifted.read_text()


def test_a_missing_sparse_file_is_said_before_any_work(wfl, tmp_path):
    """The XML names its sparse points' file; without it quippy failed in every worker
    ("internal error: RuntimeError: gpCoordinates_startElement_handler ...")."""
    train = water_set(tmp_path / "w.xyz")
    model = tmp_path / "W.xml"
    two_body = UNIFORM_OO.replace("method=uniform", "method=cur_points")
    assert wfl("fit-gap", train, "--gap", two_body, "-o", model).code == 0
    assert wfl("calc", "--calc", f"gap:{model}", train).code == 0
    sparse = sorted(tmp_path.glob("W.xml.sparseX.*"))[-1]  # one of the model's files
    sparse.unlink()
    result = wfl("calc", "--calc", f"gap:{model}", train)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr == (f"wfl: error: --calc gap: {model} names {sparse.name} which is "
                             "missing (it must lie beside the XML)\n")

