"""``wfl random --buildcell SEED``: random structures from AIRSS's ``buildcell``, which
reads a seed file (CASTEP .cell syntax with AIRSS directives) on stdin and writes one
structure as a .cell file on stdout."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from wflcli.exec.contracts import TaskDefaults

PROGRAM = "buildcell"


def buildcell_path() -> str | None:
    return shutil.which(PROGRAM)


@dataclass(frozen=True)
class BuildcellTask(TaskDefaults):
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
    path = buildcell_path()
    if path is None:
        raise FileNotFoundError(f"{PROGRAM} (AIRSS) is not on PATH")
    done = subprocess.run([path], input=seed_text, capture_output=True, text=True, check=False,
                          timeout=600)
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"buildcell failed (exit {done.returncode}): {' | '.join(tail)}")
    return read_cell(done.stdout)


def read_cell(text: str):
    """The structure of a .cell file as buildcell writes it: LATTICE_CART and
    POSITIONS_FRAC (or POSITIONS_ABS) blocks, in angstrom. (ASE's CASTEP reader would try
    to run CASTEP to check the keywords.)"""
    from ase import Atoms

    blocks = _blocks(text)
    if "LATTICE_CART" not in blocks or not {"POSITIONS_FRAC", "POSITIONS_ABS"} & set(blocks):
        raise ValueError("buildcell's output has no LATTICE_CART and POSITIONS_FRAC/ABS blocks")
    cell = [[float(x) for x in row[:3]] for row in blocks["LATTICE_CART"]]
    kind = "POSITIONS_FRAC" if "POSITIONS_FRAC" in blocks else "POSITIONS_ABS"
    rows = blocks[kind]
    symbols = [row[0] for row in rows]
    coordinates = [[float(x) for x in row[1:4]] for row in rows]
    if kind == "POSITIONS_FRAC":
        return Atoms(symbols, scaled_positions=coordinates, cell=cell, pbc=True)
    return Atoms(symbols, positions=coordinates, cell=cell, pbc=True)


def _blocks(text: str) -> dict[str, list[list[str]]]:
    """%BLOCK NAME ... %ENDBLOCK NAME contents, comments (# !) and a units line dropped."""
    blocks: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        words = line.split("#")[0].split("!")[0].split()
        if not words:
            continue
        head = words[0].upper()
        if head == "%BLOCK" and len(words) > 1:
            current = blocks.setdefault(words[1].upper(), [])
        elif head == "%ENDBLOCK":
            current = None
        elif current is not None and not (len(words) == 1 and words[0].lower() in
                                           ("ang", "angstrom")):
            current.append(words)
    return blocks
