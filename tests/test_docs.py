"""Man pages and shell completions: generated from the click definitions, and current."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import generate_docs  # noqa: E402  (the project's generator, from scripts/)
from helpers_wfl import PROGRAM


def test_man_pages_and_completions_are_current():
    expected = generate_docs.generated()
    stale = [str(p.relative_to(ROOT)) for p, text in expected.items()
             if not p.exists() or p.read_text() != text]
    assert not stale, f"regenerate with `python scripts/generate_docs.py`: {stale}"
    on_disk = {p for folder in ("man", "completions") for p in (ROOT / folder).iterdir()}
    assert on_disk == set(expected), "files that the generator no longer writes"


def test_every_command_has_a_man_page():
    from wflcli.cli.main import COMMANDS

    for name in COMMANDS:
        assert (ROOT / "man" / f"wfl-{name}.1").exists()


def test_man_pages_have_exit_status_environment_files_and_see_also():
    page = (ROOT / "man" / "wfl-calc.1").read_text()
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
        assert f".SH {section}" in page, section
    assert "\\fB3\\fR\nfinished, but some configs failed" in page
    assert "\\fBWFL_PARALLEL\\fR\nthe default of \\-\\-parallel" in page
    assert "wfl\\-remote\\-ls(1)" in (ROOT / "man" / "wfl-remote-show.1").read_text()


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff renders man pages; CI has it")
def test_man_pages_render_cleanly():
    for page in sorted((ROOT / "man").glob("*.1")):
        result = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
                                capture_output=True, text=True)
        assert result.returncode == 0 and result.stderr == "", (page.name, result.stderr)
    text = subprocess.run(["groff", "-man", "-Tutf8", str(ROOT / "man" / "wfl-calc.1")],
                          capture_output=True, text=True).stdout
    assert "wfl calc --calc emt" in text.replace("\u2010", "-")


def test_completion_command_prints_the_scripts(wfl):
    for shell in ("bash", "zsh", "fish"):
        result = wfl("completion", shell)
        assert result.code == 0
        assert result.stdout == (ROOT / "completions" / f"wfl.{shell}").read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_verbs_and_options(tmp_path):
    script = ROOT / "completions" / "wfl.bash"

    def complete(*words: str) -> list[str]:
        line = " ".join(words)
        driver = (f"source '{script}'; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                  "_wfl_completion wfl; printf '%s\\n' \"${COMPREPLY[@]}\"")
        env = dict(os.environ, PATH=f"{Path(PROGRAM).parent}{os.pathsep}"
                   f"{os.environ['PATH']}")
        return subprocess.run(["bash", "-c", driver], capture_output=True, text=True,
                              env=env, timeout=60).stdout.split()

    assert complete("wfl", "ca") == ["cache", "calc", "cat"]
    assert "--calc-kwargs" in complete("wfl", "calc", "--calc-")
    assert complete("wfl", "md", "--ensemble", "n") == ["nve", "nose-hoover", "npt-berendsen",
                                                        "npt-mtk"]
