"""Scenario 11: evaluating a MACE model with ``wfl calc --calc mace:`` (one at a time,
``--parallel 2``, batched) against a plain ASE loop with one ``MACECalculator``, on small
(4-atom) and larger (32-atom) Cu cells. The model is fitted here with ``wfl fit-mace``.

The device comes from WFL_BENCH_DEVICE (default auto: cuda when torch sees a GPU), so the
same scenario runs unchanged on a GPU machine.
"""

from __future__ import annotations

import os

from benchmarks.common import WORK, Measurement, python_script, timed, wfl

DEVICE = os.environ.get("WFL_BENCH_DEVICE", "auto")
SIZES = {"4-atom": (1, 1, 1), "32-atom": (2, 2, 2)}
# a small model of the kind people fit (32 channels, L=1, 2 interactions, correlation 3)
MODEL = ["--r-max", "5", "--channels", "32", "--max-L", "1", "--correlation", "3",
         "--epochs", "1", "--batch-size", "10", "--E0s", "average"]

GENERATE = """
import sys
from ase.build import bulk
from ase.calculators.emt import EMT
from wflcli.io.writer import format_config
count, repeat, labelled = int(sys.argv[2]), tuple(map(int, sys.argv[3].split(","))), sys.argv[4]
with open(sys.argv[1], "w") as out:
    for i in range(count):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * repeat
        atoms.rattle(stdev=0.1, seed=i)
        if labelled == "1":
            atoms.calc = EMT()
            atoms.info["REF_energy"] = atoms.get_potential_energy()
            atoms.arrays["REF_forces"] = atoms.get_forces()
            atoms.calc = None
        out.write(format_config(atoms))
"""

PLAIN_LOOP = """
import sys, ase.io, torch
from mace.calculators import MACECalculator
device = sys.argv[4]
if device == "auto":
    device = "cuda" if torch.cuda.is_available() else "cpu"
calculator = MACECalculator(model_paths=sys.argv[1], device=device)
with open(sys.argv[3], "w") as out:
    for atoms in ase.io.iread(sys.argv[2]):
        atoms.calc = calculator
        atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()
        ase.io.write(out, atoms, format="extxyz")
"""


def configs(name: str, count: int, labelled: bool = False):
    path = WORK / f"mace_{name}_{count}{'_ref' if labelled else ''}.xyz"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        repeat = ",".join(map(str, SIZES[name]))
        timed(python_script(GENERATE) + [str(path), str(count), repeat, "1" if labelled
                                         else "0"])
    return path


def model() -> str:
    path = WORK / "mace_bench.model"
    if not path.exists():
        train = configs("4-atom", 40, labelled=True)
        timed(wfl("fit-mace", str(train), "-o", str(path), "--device", DEVICE, *MODEL))
    return str(path)


def run_small(count: int, repeat: int) -> list[Measurement]:
    return _run("4-atom", count, repeat)


def run_large(count: int, repeat: int) -> list[Measurement]:
    return _run("32-atom", count, repeat)


def _run(size: str, count: int, repeat: int) -> list[Measurement]:
    mace = model()
    source, out = str(configs(size, count)), str(WORK / "mace_out.xyz")
    spec = f"mace:{mace},device={DEVICE}"
    contenders = {
        "plain loop, one MACECalculator": python_script(PLAIN_LOOP) + [mace, source, out,
                                                                      DEVICE],
        "wfl calc, one at a time": wfl("calc", "--calc", spec, "--batch", "1", source, "-o",
                                       out),
        "wfl calc --parallel 2, one at a time": wfl("--parallel", "2", "calc", "--calc", spec,
                                                    "--batch", "1", source, "-o", out),
        "wfl calc, batched (default)": wfl("calc", "--calc", spec, source, "-o", out),
        "wfl calc --parallel 2, batched": wfl("--parallel", "2", "calc", "--calc", spec,
                                              source, "-o", out),
    }
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
    return list(results.values())
