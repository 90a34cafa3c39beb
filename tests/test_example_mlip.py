"""The MLIP workflow example (examples/mlip/): run from scratch with make -j2, judged on
its test-set errors; a second make does nothing; touching an input reruns what depends on
it only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers_wfl import PROGRAM


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mlip"
TARGETS = ["isolated.xyz", "molecules.xyz", "md.xyz", "pool.xyz", "selected.xyz", "train.xyz",
           "test.xyz", "ref_train.xyz", "ref_test.xyz", "GAP.xml", "pred_test.xyz",
           "errors.txt", "parity.png"]
# Thresholds set from measured runs (examples/mlip/README.md records one), with headroom.
MAX_ENERGY_RMSE = 0.020  # eV/atom
MAX_FORCE_RMSE = 0.60    # eV/A
# `make mace`: a tiny MACE (16 channels, L=0, 20 epochs) on the same 90 configs; measured
# 0.10 eV/atom and 0.27 eV/A (examples/mlip/README.md), bounds about 3x and 2x that
MACE_TARGETS = ["MACE.model", "MACE.model.log", "pred_mace_test.xyz", "errors_mace.txt",
                "parity_mace.png"]
MAX_MACE_ENERGY_RMSE = 0.30  # eV/atom
MAX_MACE_FORCE_RMSE = 0.60  # eV/A

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    for tool in ("make",):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}; CI has it")
    for module in ("tblite", "rdkit", "quippy", "featomic", "matplotlib"):
        pytest.importorskip(module, reason="the example needs every extra; CI installs them")
    folder = tmp_path_factory.mktemp("mlip")
    for name in ("Makefile", "molecules.smi"):
        shutil.copy(EXAMPLE / name, folder / name)
    env = dict(os.environ, WFL=PROGRAM, WFLCLI_HOME=str(folder / ".wflcli"))
    first = subprocess.run(["make", "-j2"], cwd=folder, env=env, capture_output=True,
                           text=True, timeout=1200)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return folder, env


def make(folder, env, *args):
    return subprocess.run(["make", *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=1200)


def test_every_target_is_made_and_the_errors_are_small(workflow):
    folder, env = workflow
    for target in TARGETS:
        assert (folder / target).stat().st_size > 0, target
    assert make(folder, env, "errors.json").returncode == 0
    report = json.loads((folder / "errors.json").read_text())["properties"]
    assert report["energy/atom"]["overall"]["rmse"] < MAX_ENERGY_RMSE
    assert report["forces"]["overall"]["rmse"] < MAX_FORCE_RMSE
    assert (folder / "parity.png").read_bytes()[:4] == b"\x89PNG"


def test_make_mace_fits_and_evaluates_a_mace_model(workflow):
    pytest.importorskip("mace", reason="make mace needs the mace extra; CI installs it")
    folder, env = workflow
    made = make(folder, env, "mace", "errors_mace.json")
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    for target in MACE_TARGETS:
        assert (folder / target).stat().st_size > 0, target
    report = json.loads((folder / "errors_mace.json").read_text())["properties"]
    assert report["energy/atom"]["overall"]["rmse"] < MAX_MACE_ENERGY_RMSE
    assert report["forces"]["overall"]["rmse"] < MAX_MACE_FORCE_RMSE
    assert (folder / "parity_mace.png").read_bytes()[:4] == b"\x89PNG"
    assert "up to date" not in made.stderr
    again = make(folder, env, "-q", "mace")
    assert again.returncode == 0  # nothing left to do


def test_a_second_make_does_nothing(workflow):
    folder, env = workflow
    assert make(folder, env, "-q", "all").returncode == 0
    before = {t: (folder / t).stat().st_mtime_ns for t in TARGETS}
    assert make(folder, env, "all").returncode == 0
    assert {t: (folder / t).stat().st_mtime_ns for t in TARGETS} == before


def test_touching_an_input_reruns_only_what_depends_on_it(workflow):
    folder, env = workflow
    os.utime(folder / "ref_test.xyz")
    planned = make(folder, env, "-n", "all").stdout
    assert "calc --calc gap:GAP.xml" in planned and " error --ref REF_" in planned
    for upstream in ("fit-gap", " md --calc", " smiles -i", " select-cur ", " atoms "):
        assert upstream not in planned, upstream
    assert make(folder, env, "all").returncode == 0
    assert make(folder, env, "-q", "all").returncode == 0
