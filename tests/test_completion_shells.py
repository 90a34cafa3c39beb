"""TAB completion as a person meets it: bash, zsh and fish, each on a pseudo-terminal with
the script from completions/ loaded, typed at, and the screen read back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers_pty import SHELLS, Shell
from helpers_wfl import PROGRAM

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=sorted(SHELLS))
def shell(request, tmp_path):
    name = request.param
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (scripts/install_codes.sh installs it)")
    for file in ("cu.xyz", "cu.cif", "GAP.xml"):
        (tmp_path / file).write_text("")
    (tmp_path / ".wflcli").mkdir()
    (tmp_path / ".wflcli" / "config.toml").write_text(
        '[systems.hpc-one]\nscheduler = "local"\nrundir = "runs"\n')
    env = dict(os.environ, PATH=f"{Path(PROGRAM).parent}{os.pathsep}{os.environ['PATH']}",
               WFLCLI_HOME=str(tmp_path / "home"))
    session = Shell(name, tmp_path, env, ROOT / "completions" / f"wfl.{name}")
    yield session
    session.close()


@pytest.mark.slow
def test_files_are_completed_after_the_options(shell):
    shown = shell.complete("wfl calc --calc emt cu.")
    assert "cu.cif" in shown and "cu.xyz" in shown
    assert "cu.xyz" in shell.complete("wfl calc --calc emt -o cu.x")


@pytest.mark.slow
def test_calculators_then_their_model_files(shell):
    assert "tblite" in shell.complete("wfl calc --calc tbl")
    shown = shell.complete("wfl md --calc ga")
    assert "gap:" in shown and "gap: " not in shown  # no space: the model file follows
    assert "gap:GAP.xml" in shell.complete("wfl calc --calc gap:GA")


@pytest.mark.slow
def test_verbs_choices_and_systems(shell):
    shown = shell.complete("wfl ca")
    assert all(verb in shown for verb in ("cache", "calc", "cat"))
    assert "nose-hoover" in shell.complete("wfl md --ensemble nos")
    assert "hpc-one" in shell.complete("wfl --remote hpc")
    assert "hpc-one" in shell.complete("wfl remote doctor hp")

