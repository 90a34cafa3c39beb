"""Scenarios on rattled 32-atom Cu cells with EMT: ``wfl calc`` against a plain ASE loop
(iread, a fresh EMT per config, write each) and the compute-only limit; then a rerun
served from the cache against the first run and a bare ASE read and write."""

from __future__ import annotations

from benchmarks import libatoms
from benchmarks.common import (WORK, Measurement, fresh_store, measured, python_script,
                               timed, wfl)

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

READ_WRITE = """
import sys, ase.io
with open(sys.argv[2], "w") as out:
    for atoms in ase.io.iread(sys.argv[1]):
        ase.io.write(out, atoms, format="extxyz")
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


NATURAL_LOOP = """
import sys, ase.io
from ase.calculators.emt import EMT
calc = EMT()
with open(sys.argv[2], "w") as out:
    for atoms in ase.io.iread(sys.argv[1]):
        atoms.calc = calc
        atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()
        ase.io.write(out, atoms, format="extxyz")
"""


def inputs(count: int, name: str = "cu32", script: str = GENERATE):
    """``count`` configs that ``script`` writes, made once and kept in WORK."""
    path = WORK / f"{name}_{count}.xyz"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        timed(python_script(script.format(count=count)) + [str(path)])
    return path


def run(count: int, repeat: int) -> list[Measurement]:
    """Scenario 1: every wfl run starts from an empty store (the cache is written, not read)."""
    source = inputs(count)
    out = WORK / "calc_out.xyz"
    contenders = {
        "plain ASE loop": python_script(PLAIN_LOOP) + [str(source), str(out)],
        "wfl calc (serial)": wfl("calc", "--calc", "emt", str(source), "-o", str(out)),
        "wfl calc --parallel 2": wfl("--parallel", "2", "calc", "--calc", "emt", str(source),
                                     "-o", str(out)),
    }
    if libatoms.python():
        theirs = WORK / "libatoms_out.xyz"
        contenders["libAtoms wfl calculate (serial)"] = libatoms.calculate_command(source,
                                                                                   theirs)
        contenders["libAtoms wfl calculate, 2 subprocesses"] = libatoms.calculate_command(
            source, theirs, subprocesses=2)
    results = {name: Measurement(name, items=count) for name in contenders}
    limit = Measurement("compute only (EMT on atoms in memory)", items=count)
    for _ in range(repeat):  # interleaved, so drifts of a shared machine hit all alike
        for name, command in contenders.items():
            results[name].seconds.append(timed(command, store=fresh_store()))
        limit.seconds.append(_compute_only(source))
    return [*results.values(), limit]


def run_cache(count: int, repeat: int) -> list[Measurement]:
    """Scenario 4: the same command again, every config a cache hit."""
    source = inputs(count)
    out = WORK / "calc_out.xyz"
    command = wfl("calc", "--calc", "emt", str(source), "-o", str(out))
    first = Measurement("wfl calc, first run", items=count)
    rerun = Measurement("wfl calc, rerun (all cached)", items=count)
    bare = Measurement("plain ASE read + write", items=count)
    for _ in range(repeat):
        store = fresh_store()
        first.seconds.append(timed(command, store=store))
        rerun.seconds.append(timed(command, store=store))
        bare.seconds.append(timed(python_script(READ_WRITE) + [str(source), str(out)]))
    return [first, rerun, bare]


def run_reuse(count: int, repeat: int) -> list[Measurement]:
    """Scenario 1b: the loop a user writes first, one EMT reused for every config, against
    wfl calc's clean state per config (the default) and --reuse-state."""
    source, out = inputs(count), WORK / "calc_out.xyz"
    calc = ["calc", "--calc", "emt", str(source), "-o", str(out)]
    return measured({
        "natural ASE loop, one EMT reused": python_script(NATURAL_LOOP) + [str(source),
                                                                           str(out)],
        "wfl calc (serial, clean state per config)": wfl(*calc),
        "wfl calc --reuse-state (serial)": wfl(*calc, "--reuse-state"),
        "wfl --parallel 2 calc --reuse-state": wfl("--parallel", "2", *calc, "--reuse-state"),
    }, count, repeat)


def _compute_only(source) -> float:
    import subprocess

    from benchmarks.common import ENV

    output = subprocess.run(python_script(COMPUTE_ONLY) + [str(source)], env=ENV,
                            capture_output=True, check=True)
    return float(output.stdout)
