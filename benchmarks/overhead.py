"""Scenario 13: what wflcli itself costs per config when the calculator costs little
(2-atom LJ, 8-atom EMT), and a cache rerun against a bare ASE read + write of the file.

Overhead per config = (wall time of ``wfl calc``, serial, cache on, from an empty store,
less the calculator's compute-only time on the same configs in memory) / configs; the
same from CPU times beside it, since a shared machine stretches wall times."""

from __future__ import annotations

import statistics
import subprocess

from benchmarks.calc_emt import GENERATE, READ_WRITE, inputs
from benchmarks.common import (ENV, WORK, Measurement, fresh_store, measured, python_script,
                               wfl)

TWO_ATOM_DIMERS = """
import sys
from ase import Atoms
from wflcli.io.writer import format_config
with open(sys.argv[1], "w") as out:
    for i in range({count}):
        atoms = Atoms("Ar2", positions=[[0, 0, 0], [0, 0, 3.4 + 0.001 * (i % 100)]])
        atoms.rattle(stdev=0.01, seed=i)
        out.write(format_config(atoms))
"""

EIGHT_ATOM_CELLS = GENERATE.replace("* (2, 2, 2)", "* (2, 1, 1)")

# what wfl calc computes per config: a fresh calculator, energy and forces (and stress for
# a periodic cell) from one calculation; wall and CPU seconds of the loop alone, and the
# wall seconds of importing the calculator's module after numpy and ase.atoms (which wfl
# imports anyway), which wfl pays in a run that computes and the loop's time leaves out
COMPUTE_ONLY = """
import sys, time
import numpy, ase.atoms
began = time.perf_counter()
from ase.calculators.{module} import {calculator} as Calculator
imported = time.perf_counter() - began
import ase.io
configs = ase.io.read(sys.argv[1], ":")
wall, cpu = time.perf_counter(), time.process_time()
for atoms in configs:
    atoms.calc = Calculator()
    atoms.get_potential_energy(); atoms.get_forces()
    if atoms.pbc.all():
        atoms.get_stress()
print(time.perf_counter() - wall, time.process_time() - cpu, imported)
"""

CALCULATORS = {"lj": ("lj", "LennardJones"), "emt": ("emt", "EMT")}


def run_lj(count: int, repeat: int) -> list[Measurement]:
    """Scenario 16a: 2-atom LJ dimers."""
    return _overhead("lj", inputs(count, "ar2", TWO_ATOM_DIMERS), count, repeat)


def run_emt(count: int, repeat: int) -> list[Measurement]:
    """Scenario 16b: 8-atom periodic Cu cells with EMT."""
    return _overhead("emt", inputs(count, "cu8", EIGHT_ATOM_CELLS), count, repeat)


def _overhead(calc: str, source, count: int, repeat: int) -> list[Measurement]:
    out = WORK / "overhead_out.xyz"
    name = f"serial, cache on: wfl calc --calc {calc}"
    [run] = measured({name: wfl("calc", "--calc", calc, str(source), "-o", str(out))},
                     count, repeat)
    compute = Measurement(f"compute only ({calc} in memory)", items=count)
    imports = []
    for _ in range(repeat):
        wall, cpu, imported = _compute_only(calc, source)
        compute.seconds.append(wall)
        compute.cpu.append(cpu)
        imports.append(imported)
    compute.note = f"CPU {statistics.median(compute.cpu):.2f} s"
    per_config = Measurement(f"overhead per config, {calc}", unit="us",
                             seconds=[1e6 * (run.median - compute.median) / count])
    cpu = statistics.median(run.cpu) - statistics.median(compute.cpu)
    imported = statistics.median(imports)
    per_config.note = (f"from CPU times: {1e6 * cpu / count:.0f} us; of it, importing the "
                       f"calculator ({imported:.2f} s, outside the loop's time): "
                       f"{1e6 * imported / count:.0f} us")
    return [run, compute, per_config]


def _compute_only(calc: str, source) -> tuple[float, float, float]:
    """Wall and CPU seconds of the loop, and wall seconds of the calculator's import."""
    module, calculator = CALCULATORS[calc]
    script = COMPUTE_ONLY.format(module=module, calculator=calculator)
    output = subprocess.run(python_script(script) + [str(source)], env=ENV,
                            capture_output=True, check=True)
    wall, cpu, imported = output.stdout.split()
    return float(wall), float(cpu), float(imported)


def run_rerun(count: int, repeat: int) -> list[Measurement]:
    """Scenario 16c: every config of 8-atom EMT cells found in the store."""
    source, out = inputs(count, "cu8", EIGHT_ATOM_CELLS), WORK / "overhead_out.xyz"
    store = WORK / "store_rerun"
    command = wfl("calc", "--calc", "emt", str(source), "-o", str(out))
    subprocess.run(command, env=dict(ENV, WFLCLI_HOME=str(fresh_store(store))), check=True,
                   stdout=subprocess.DEVNULL)
    return measured({
        "plain ASE read + write, 8-atom cells": python_script(READ_WRITE) + [str(source), str(out)],
        "wfl calc --calc emt, rerun (all cached)": command,
    }, count, repeat, store=lambda: store)
