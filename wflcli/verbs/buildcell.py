"""``wfl random --buildcell SEED``: random structures from AIRSS's ``buildcell``, which
reads a seed file (CASTEP .cell syntax with AIRSS directives) on stdin and writes one
structure as a .cell file on stdout."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

PROGRAM = "buildcell"


def buildcell_path() -> str | None:
    return shutil.which(PROGRAM)


@dataclass(frozen=True)
class BuildcellTask:
    """The seed file's text travels in each placeholder, so the cache key is its content."""

    verb = "random-buildcell"

    def parameters(self) -> dict:
        return {}

    def start(self):
        def build(placeholder, context):
            atoms = run_buildcell(placeholder.info["buildcell_seed"])
            atoms.info.update(config_type="random", random_number=placeholder.info[
                "random_number"], random_seed_file=placeholder.info["random_seed_file"])
            return [atoms]

        return build


def run_buildcell(seed_text: str):
    import io

    import ase.io

    path = buildcell_path()
    if path is None:
        raise FileNotFoundError(f"{PROGRAM} (AIRSS) is not on PATH")
    done = subprocess.run([path], input=seed_text, capture_output=True, text=True, check=False,
                          timeout=600)
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"buildcell failed (exit {done.returncode}): {' | '.join(tail)}")
    atoms = ase.io.read(io.StringIO(done.stdout), format="castep-cell")
    atoms.calc = None
    return atoms
