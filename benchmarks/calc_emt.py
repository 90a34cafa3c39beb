"""Scenario: ``wfl calc --calc emt`` on rattled 32-atom Cu cells, against a plain ASE loop
(iread, a fresh EMT per config, write each) and the compute-only limit."""

from __future__ import annotations

from benchmarks.common import WORK, Measurement, python_script, timed, wfl

GENERATE = """
import sys
from ase.build import bulk
from wflcli.io.writer import format_config
with open(sys.argv[1], "w") as out:
    for i in range({count}):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 2, 2)
        atoms.rattle(stdev=0.05, seed=i)
        out.write(format_config(atoms))
"""

PLAIN_LOOP = """
import sys, ase.io
from ase.calculators.emt import EMT
with open(sys.argv[2], "w") as out:
    for atoms in ase.io.iread(sys.argv[1]):
        atoms.calc = EMT()
        atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()
        ase.io.write(out, atoms, format="extxyz")
"""

COMPUTE_ONLY = """
import sys, time, ase.io
from ase.calculators.emt import EMT
configs = ase.io.read(sys.argv[1], ":")
started = time.perf_counter()
for atoms in configs:
    atoms.calc = EMT()
    atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()
print(time.perf_counter() - started)
"""


def inputs(count: int):
    path = WORK / f"cu32_{count}.xyz"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        timed(python_script(GENERATE.format(count=count)) + [str(path)])
    return path


def run(count: int, repeat: int) -> list[Measurement]:
    source = inputs(count)
    out = WORK / "calc_out.xyz"
    contenders = {
        "plain ASE loop": python_script(PLAIN_LOOP) + [str(source), str(out)],
        "wfl calc (serial)": wfl("calc", "--calc", "emt", str(source), "-o", str(out)),
        "wfl calc --parallel 2": wfl("--parallel", "2", "calc", "--calc", "emt", str(source),
                                     "-o", str(out)),
    }
    results = {name: Measurement(name, items=count) for name in contenders}
    limit = Measurement("compute only (EMT on atoms in memory)", items=count)
    for _ in range(repeat):  # interleaved, so drifts of a shared machine hit all alike
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
        limit.seconds.append(_compute_only(source))
    return [*results.values(), limit]


def _compute_only(source) -> float:
    import subprocess

    from benchmarks.common import ENV

    output = subprocess.run(python_script(COMPUTE_ONLY) + [str(source)], env=ENV,
                            capture_output=True, check=True)
    return float(output.stdout)
