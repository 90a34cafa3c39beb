"""Scenario 2: extxyz reading and writing, 20,000 frames of 8-atom Cu with results, in
process: wflcli's reader and writer against ``ase.io`` and the ``extxyz`` C parser.
Scenario 2b: ``wfl cat``, ``head`` and ``filter`` of the same file as whole commands, against
ASE's read + write and the C parser's read."""

from __future__ import annotations

import subprocess

from benchmarks.common import (
    ENV,
    WORK,
    Measurement,
    measured,
    python_script,
    timed,
    wfl,
)

GENERATE = """
import sys
import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from wflcli.io.writer import format_config
with open(sys.argv[1], "w") as out:
    for i in range({count}):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True) * (2, 1, 1)
        atoms.rattle(0.05, seed=i)
        atoms.calc = EMT()
        atoms.info.update(REF_energy=atoms.get_potential_energy(), REF_stress=atoms.get_stress(),
                          config_type="rattled", idx=i)
        atoms.arrays["REF_forces"] = atoms.get_forces()
        atoms.calc = None
        out.write(format_config(atoms))
"""

# each prints the seconds of its timed part only (the import is not counted)
CONTENDERS = {
    "read: ase.io.iread": """
import sys, time, ase.io
t = time.perf_counter(); n = sum(1 for _ in ase.io.iread(sys.argv[1], format="extxyz"))
print(time.perf_counter() - t)""",
    "read: extxyz C parser (dicts, no Atoms)": """
import sys, time, extxyz
t = time.perf_counter(); n = sum(1 for _ in extxyz.iread_dicts(sys.argv[1]))
print(time.perf_counter() - t)""",
    "read: wflcli reader": """
import sys, time
from wflcli.io.reader import read_configs
t = time.perf_counter(); n = sum(1 for _ in read_configs([sys.argv[1]], None))
print(time.perf_counter() - t)""",
    "write: ase.io.write": """
import sys, time, ase.io
configs = ase.io.read(sys.argv[1], ":")
t = time.perf_counter()
with open(sys.argv[2], "w") as out:
    ase.io.write(out, configs, format="extxyz")
print(time.perf_counter() - t)""",
    "write: wflcli writer (full precision)": """
import sys, time
from wflcli.io.reader import read_configs
from wflcli.io.writer import format_config
configs = list(read_configs([sys.argv[1]], None))
t = time.perf_counter()
with open(sys.argv[2], "w") as out:
    for atoms in configs:
        out.write(format_config(atoms))
print(time.perf_counter() - t)""",
}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run(count: int, repeat: int) -> list[Measurement]:
    source = _source(count)
    results = {}
    for name, code in CONTENDERS.items():
        if "extxyz C" in name and not _installed("extxyz"):
            continue
        results[name] = Measurement(name, items=count)
    for _ in range(repeat):
        for name in results:
            output = subprocess.run(python_script(CONTENDERS[name]) +
                                    [str(source), str(WORK / "io_out.xyz")],
                                    env=ENV, capture_output=True, check=True, text=True)
            results[name].seconds.append(float(output.stdout))
    return list(results.values())


# whole commands, each reading the scenario's file and writing to stdout (/dev/null)
VERBS_ASE = """
import sys, ase.io
ase.io.write(sys.stdout, ase.io.iread(sys.argv[1], format="extxyz"), format="extxyz")"""
VERBS_C_PARSER = """
import sys, extxyz
n = sum(1 for _ in extxyz.iread_dicts(sys.argv[1]))"""


def run_verbs(count: int, repeat: int) -> list[Measurement]:
    """Scenario 2b: the verbs that pass frames on, as whole commands (start-up included)."""
    source = _source(count)
    contenders = {"ase.io.iread -> ase.io.write": python_script(VERBS_ASE) + [str(source)]}
    if _installed("extxyz"):
        contenders["extxyz C parser, read to dicts"] = python_script(VERBS_C_PARSER) + [
            str(source)]
    contenders.update({
        "wfl cat": wfl("cat", str(source)),
        "wfl head": wfl("head", "-n", str(count), str(source)),
        "wfl filter 'REF_energy < 1e9' (keeps all)": wfl("filter", "REF_energy < 1e9",
                                                         str(source)),
        "wfl filter 'max(norm(REF_forces)) < 1e9' (an array: read from the rows)": wfl(
            "filter", "max(norm(REF_forces)) < 1e9", str(source)),
        "wfl cat of ASE's output (formatted, not passed on)": wfl("cat", str(_ase_copy(source))),
    })
    return measured(contenders, count, repeat)


def _source(count: int):
    source = WORK / f"io_{count}.xyz"
    if not source.exists():  # made under another name first: an interrupted run leaves none
        WORK.mkdir(parents=True, exist_ok=True)
        partial = source.with_suffix(".part")
        timed(python_script(GENERATE.format(count=count)) + [str(partial)])
        partial.rename(source)
    return source


def _ase_copy(source):
    """The same frames as ASE writes them (8 decimals, padded): not wfl's written form."""
    copy = source.with_name(source.stem + "_ase.xyz")
    if not copy.exists():
        partial = copy.with_suffix(".part")
        timed(python_script("import sys, ase.io; ase.io.write(sys.argv[2], ase.io.read("
                            "sys.argv[1], ':'), format='extxyz')") + [str(source), str(partial)])
        partial.rename(copy)
    return copy
