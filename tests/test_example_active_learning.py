"""The active-learning example (examples/active-learning/): two rounds of committee MD,
uncertainty selection, EMT labels and refits, run from scratch with make -j2, and judged
on the held-out test errors of each generation of models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers_data import read_text
from helpers_wfl import PROGRAM

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "active-learning"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    if shutil.which("make") is None:
        pytest.skip("needs make; CI has it")
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    folder = tmp_path_factory.mktemp("active-learning")
    for name in ("Makefile", "cu.xyz"):
        shutil.copy(EXAMPLE / name, folder / name)
    env = dict(os.environ, WFL=PROGRAM, WFLCLI_HOME=str(folder / ".wflcli"))
    done = make(folder, env, "-j2", "all", "errors0.json", "errors1.json", "errors2.json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder, env


def make(folder, env, *args):
    return subprocess.run(["make", *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=1200, check=False)


def rmse(folder, generation, prop):
    report = json.loads((folder / f"errors{generation}.json").read_text())
    return report["properties"][prop]["overall"]["rmse"]


def test_each_round_of_active_learning_lowers_the_test_error(workflow):
    folder, _ = workflow
    for prop in ("energy/atom", "forces"):
        first, second, third = (rmse(folder, g, prop) for g in (0, 1, 2))
        assert second < first, prop       # the first round helps
        assert third <= second, prop      # and the second is not worse
    summary = (folder / "errors.txt").read_text()
    assert "generation 2: gap2_1.xml, 16 training configs" in summary


def test_the_frames_picked_are_those_the_committee_disagrees_on_most(workflow):
    folder, _ = workflow
    for generation in (0, 1):
        scored = read_text((folder / f"scored{generation}.xyz").read_text())
        spread = sorted((a.info["COMM_forces_std_max"] for a in scored), reverse=True)
        assert spread[0] > spread[-1] > 0  # the members differ, more on some frames
        picked = read_text((folder / f"picked{generation}.xyz").read_text())
        assert sorted((a.info["COMM_forces_std_max"] for a in picked), reverse=True) == \
            spread[:len(picked)]
        assert all("REF_forces" in a.arrays for a in picked)


def test_a_second_make_does_nothing(workflow):
    folder, env = workflow
    assert make(folder, env, "-q", "all").returncode == 0
