"""Scenarios 3, 5 and 6: start-up time, peak memory against input size (streaming), and
molecular dynamics steps per second against a plain ASE Langevin loop."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import libatoms
from benchmarks.calc_emt import GENERATE, inputs
from benchmarks.common import ENV, WORK, Measurement, fresh_store, python_script, timed, wfl

PLAIN_MD = """
import sys, ase.io
from ase import units
from ase.calculators.emt import EMT
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
import numpy as np
with open(sys.argv[3], "w") as out:
    for i, atoms in enumerate(ase.io.iread(sys.argv[1])):
        atoms.calc = EMT()
        MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(i))
        dyn = Langevin(atoms, 1.0 * units.fs, temperature_K=300, friction=0.01 / units.fs,
                       fixcm=False, rng=np.random.default_rng(i))
        dyn.attach(lambda: ase.io.write(out, atoms, format="extxyz"), interval=10)
        dyn.run(int(sys.argv[2]))
"""

SMALL_CELLS = GENERATE.replace('* (2, 2, 2)', '')  # 4-atom cells: I/O-bound, fast to compute


def run_startup(count: int, repeat: int) -> list[Measurement]:
    """Wall time of commands that do (almost) nothing; ``count`` runs each, per repetition."""
    contenders = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import ase"': [sys.executable, "-c", "import ase"],
        "wfl --version": wfl("--version"),
        "wfl --help": wfl("--help"),
        "wfl calc --help": wfl("calc", "--help"),
    }
    if libatoms.python():
        contenders["libAtoms wfl --help"] = [libatoms.program(), "--help"]
    results = {name: Measurement(name) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            times = sorted(timed(command) for _ in range(count))
            results[name].seconds.append(times[len(times) // 2])
    return list(results.values())


def run_memory(count: int, repeat: int) -> list[Measurement]:
    """Peak RSS of `wfl calc --calc lj` on count and 10 x count 4-atom frames."""
    results = []
    for frames in (count, 10 * count):
        source = WORK / f"cu4_{frames}.xyz"
        if not source.exists():
            timed(python_script(SMALL_CELLS.format(count=frames)) + [str(source)])
        measurement = Measurement(f"wfl calc --calc lj, {frames} frames", unit="MiB")
        for _ in range(repeat):
            command = ["/usr/bin/time", "-f", "%M", *wfl("--no-cache", "calc", "--calc", "lj",
                                                         str(source))]
            done = subprocess.run(command, env=dict(ENV, WFLCLI_HOME=str(fresh_store())),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True,
                                  text=True)
            measurement.seconds.append(float(done.stderr.strip().splitlines()[-1]) / 1024)
        results.append(measurement)
    return results


def run_md(steps: int, repeat: int) -> list[Measurement]:
    """8 configs of 32-atom Cu, Langevin at 300 K with EMT, a frame every 10 steps."""
    source = WORK / "md_start.xyz"
    subprocess.run(wfl("head", "-n", "8", str(inputs(5000))), env=ENV, check=True,
                   stdout=open(source, "w"))
    out = WORK / "md_out.xyz"
    contenders = {
        "plain ASE Langevin loop": python_script(PLAIN_MD) + [str(source), str(steps), str(out)],
        "wfl md (serial)": wfl("md", "--calc", "emt", "--ensemble", "langevin", "-T", "300",
                               "--steps", str(steps), "--every", "10", str(source), "-o",
                               str(out)),
        "wfl md --parallel 2": wfl("--parallel", "2", "--chunk", "1", "md", "--calc", "emt",
                                   "--ensemble", "langevin", "-T", "300", "--steps",
                                   str(steps), "--every", "10", str(source), "-o", str(out)),
    }
    results = {name: Measurement(name, items=8 * steps) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
    return list(results.values())
