"""Scenario 10: DFT references with NWChem, each config in its own folder, against a plain
ASE loop that gives each config a fresh calculator and folder (the safe way to loop)."""

from __future__ import annotations

import json
import shutil

from benchmarks.common import WORK, Measurement, Unavailable, python_script, timed, wfl

PARAMETERS = {"theory": "dft", "xc": "PBE", "basis": "3-21G"}
SPEC = "nwchem:theory=dft,xc=PBE,basis=3-21G"
NAMES = ("H2O", "NH3", "CH4", "H2", "HF", "CO", "N2", "C2H2")

MOLECULES = """
import sys, ase.io
from ase.build import molecule
names = sys.argv[2].split(",")
configs = []
for number in range(int(sys.argv[1])):
    atoms = molecule(names[number % len(names)])
    atoms.rattle(0.02, seed=number)
    configs.append(atoms)
ase.io.write(sys.argv[3], configs)
"""

LOOP = """
import json, sys, ase.io
from ase.calculators.nwchem import NWChem
parameters = json.loads(sys.argv[1])
with open(sys.argv[3], "w") as out:
    for number, atoms in enumerate(ase.io.iread(sys.argv[2])):
        atoms.calc = NWChem(directory=f"{sys.argv[4]}/config-{number}", **parameters)
        if sys.argv[5] == "forces-first":  # the gradient run brings the energy too
            atoms.get_forces(); atoms.get_potential_energy()
        else:  # as most scripts do: NWChem runs twice, an energy task, then a gradient task
            atoms.get_potential_energy(); atoms.get_forces()
        ase.io.write(out, atoms, format="extxyz")
"""


def run(count: int, repeat: int) -> list[Measurement]:
    if shutil.which("nwchem") is None:
        raise Unavailable("NWChem is not installed (scripts/install_codes.sh)")
    source, out, folders = WORK / f"molecules_{count}.xyz", WORK / "nwchem_out.xyz", \
        WORK / "nwchem-files"
    if not source.exists():
        timed(python_script(MOLECULES) + [str(count), ",".join(NAMES), str(source)])
    loop = python_script(LOOP) + [json.dumps(PARAMETERS), str(source), str(out), str(folders)]
    contenders = {
        "plain ASE loop, a folder per config": loop + ["energy-first"],
        "plain ASE loop, get_forces() first": loop + ["forces-first"],
        "wfl calc --calc nwchem (serial)": wfl("calc", "--calc", SPEC, str(source), "-o",
                                               str(out), "--scratch", str(folders)),
        "wfl calc --calc nwchem --parallel 2": wfl("--parallel", "2", "calc", "--calc", SPEC,
                                                   str(source), "-o", str(out), "--scratch",
                                                   str(folders)),
    }
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            shutil.rmtree(folders, ignore_errors=True)
            results[name].seconds.append(timed(command))
    shutil.rmtree(folders, ignore_errors=True)
    return list(results.values())
