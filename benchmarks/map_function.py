"""``wfl map`` scenarios: a trivial function over many small configs against the plain
loop a user would write (``ase.io.iread`` -> f -> ``ase.io.write``), and a CPU-bound one
with ``--parallel 2`` against serial."""

from __future__ import annotations

from benchmarks.calc_emt import GENERATE, inputs
from benchmarks.common import ROOT, WORK, Measurement, measured, python_script, wfl

OPS = ROOT / "map_ops.py"

EIGHT_ATOM_CELLS = GENERATE.replace("* (2, 2, 2)", "* (2, 1, 1)")

PLAIN_LOOP = """
import sys, ase.io
sys.path.insert(0, {folder!r})
from map_ops import {function} as f
with open(sys.argv[2], "w") as out:
    for atoms in ase.io.iread(sys.argv[1]):
        ase.io.write(out, f(atoms), format="extxyz")
"""


def _plain(function: str, source, out) -> list[str]:
    return python_script(PLAIN_LOOP.format(folder=str(ROOT), function=function)) + [
        str(source), str(out)]


def run(count: int, repeat: int) -> list[Measurement]:
    """Scenario 11a: every wfl run from an empty store (results written to the cache)."""
    source, out = inputs(count, "cu8", EIGHT_ATOM_CELLS), WORK / "map_out.xyz"
    return measured({
        "plain loop: iread -> f -> write": _plain("tag", source, out),
        "wfl map (serial)": wfl("map", f"{OPS}:tag", str(source), "-o", str(out)),
        "wfl --no-cache map (serial)": wfl("--no-cache", "map", f"{OPS}:tag", str(source),
                                           "-o", str(out)),
    }, count, repeat)


def run_parallel(count: int, repeat: int) -> list[Measurement]:
    """Scenario 11b: a CPU-bound function, serial and on two workers."""
    source, out = inputs(count, "cu8", EIGHT_ATOM_CELLS), WORK / "map_busy_out.xyz"
    busy = [f"{OPS}:busy", str(source), "-o", str(out)]
    return measured({
        "plain loop: iread -> busy -> write": _plain("busy", source, out),
        "wfl map busy (serial)": wfl("map", *busy),
        "wfl --parallel 2 map busy": wfl("--parallel", "2", "map", *busy),
    }, count, repeat)
