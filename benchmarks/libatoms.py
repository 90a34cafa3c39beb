"""libAtoms wfl 0.3.5, the tool users compare us with, in a virtual environment the
benchmark makes for itself (benchmarks/_work/venv-libatoms-wfl).

The recipe is the one the project notes found to work with numpy 2: ASE 3.28 and
quippy-ase 0.10.3 (so it reads the GAP files we fit), then wfl and expyre-wfl without their
``numpy<2`` pin. If it cannot be installed (no network), the scenarios say so and go on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import WORK

VENV = WORK / "venv-libatoms-wfl"
DEPENDENCIES = ["ase==3.28.0", "quippy-ase==0.10.3", "numpy", "scipy", "pandas", "spglib",
                "pyyaml", "docstring_parser", "click", "matplotlib", "universalSOAP"]
WFL_PACKAGES = ["wfl==0.3.5", "expyre-wfl==0.1.6"]

# wfl's ``calculate`` with EMT, as its documentation shows it: input first, output last
CALCULATE = """
import sys
from ase.calculators.emt import EMT
from wfl.configset import ConfigSet, OutputSpec
from wfl.calculators.generic import calculate
calculate(ConfigSet(sys.argv[1]), OutputSpec(sys.argv[-1]), calculator=(EMT, [], {}),
          properties=["energy", "forces", "stress"], output_prefix="EMT_")
"""

_problem: str | None = None


def python() -> Path | None:
    """The venv's python, made on first use; None if it cannot be installed (see problem())."""
    global _problem
    executable = VENV / "bin" / "python"
    if (VENV / "installed").exists():
        return executable
    if _problem is not None:
        return None
    steps = [[sys.executable, "-m", "venv", "--clear", str(VENV)],
             [str(executable), "-m", "pip", "install", "-q", *DEPENDENCIES],
             [str(executable), "-m", "pip", "install", "-q", "--no-deps", *WFL_PACKAGES]]
    print("making the libAtoms wfl environment (once) ...", file=sys.stderr, flush=True)
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            _problem = f"libAtoms wfl could not be installed ({done.stderr.strip()[-300:]})"
            return None
    (VENV / "installed").write_text(" ".join(DEPENDENCIES + WFL_PACKAGES) + "\n")
    return executable


def problem() -> str:
    return _problem or ""


def program(name: str = "wfl") -> str:
    return str(VENV / "bin" / name)


def fresh_output(out: Path, command: list[str], subprocesses: int = 0) -> list[str]:
    """``command`` run after removing ``out`` (wfl would reuse a complete output file
    instead of computing), with WFL_NUM_PYTHON_SUBPROCESSES when asked; ``-o out`` added."""
    variables = [f"WFL_NUM_PYTHON_SUBPROCESSES={subprocesses}"] if subprocesses else []
    return ["bash", "-c", 'rm -f "$1"; shift; exec env "$@"', "fresh", str(out), *variables,
            *command, "-o", str(out)]


def calculate_command(source: Path, out: Path, subprocesses: int = 0) -> list[str]:
    return fresh_output(out, [str(python()), "-c", CALCULATE, str(source)], subprocesses)
