"""Scenario 7: ``wfl descriptor`` (featomic SOAP) on 5,000 Cu cells against the three SOAP
libraries that install here, called directly in a loop; and ``wfl select-cur`` on 20,000
configs with 500-dimensional descriptors."""

from __future__ import annotations

from benchmarks.calc_emt import inputs
from benchmarks.common import WORK, Measurement, python_script, timed, wfl

SETTINGS = "cutoff=5, l_max=4, n_max=4, atom_sigma=0.5"

FEATOMIC = """
import sys, ase.io
from wflcli.verbs.descriptor import SoapSettings, soap_vectors, average
settings = SoapSettings(5.0, 4, 4, 0.5)
calculator, keys = settings.calculator((29,))
for atoms in ase.io.iread(sys.argv[1]):
    average(soap_vectors(atoms, settings, (29,), calculator, keys), True)
"""

DSCRIBE = """
import sys, ase.io
from dscribe.descriptors import SOAP
soap = SOAP(species=["Cu"], r_cut=5.0, n_max=4, l_max=4, sigma=0.5, periodic=True,
            average="inner")
for atoms in ase.io.iread(sys.argv[1]):
    soap.create(atoms)
"""

QUIPPY = """
import sys, ase.io
from quippy.descriptors import Descriptor
soap = Descriptor("soap cutoff=5 l_max=4 n_max=4 atom_sigma=0.5 average=T")
for atoms in ase.io.iread(sys.argv[1]):
    soap.calc(atoms)
"""

POOL = """
import sys
import numpy as np
from wflcli.io.writer import format_config
from ase import Atoms
rng = np.random.default_rng(0)
centres = rng.normal(size=(50, {dim}))
with open(sys.argv[1], "w") as out:
    for i in range({count}):
        atoms = Atoms("H", positions=[[0, 0, 0]])
        row = centres[i % 50] + 0.3 * rng.normal(size={dim})
        atoms.info["soap"] = row / np.linalg.norm(row)
        out.write(format_config(atoms))
"""


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_soap(count: int, repeat: int) -> list[Measurement]:
    source = inputs(count)
    contenders = {"wfl descriptor (featomic)": wfl("--no-cache", "descriptor", "--species",
                                                   "Cu", str(source), "-o",
                                                   str(WORK / "desc.xyz")),
                  "featomic loop (ase.io.iread)": python_script(FEATOMIC) + [str(source)]}
    if _installed("dscribe"):
        contenders["dscribe loop"] = python_script(DSCRIBE) + [str(source)]
    if _installed("quippy"):
        contenders["quippy loop"] = python_script(QUIPPY) + [str(source)]
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
    return list(results.values())


def run_select(count: int, repeat: int, dim: int = 500) -> list[Measurement]:
    pool = WORK / f"pool_{count}x{dim}.xyz"
    if not pool.exists():
        timed(python_script(POOL.format(count=count, dim=dim)) + [str(pool)])
    picked = WORK / "picked.xyz"
    contenders = {
        "wfl count (just reading the file)": wfl("count", str(pool)),
        "wfl select-cur -n 100": wfl("select-cur", "-n", "100", str(pool), "-o", str(picked)),
        "wfl select-cur -n 100 --stochastic": wfl("select-cur", "-n", "100", "--stochastic",
                                                  str(pool), "-o", str(picked)),
        "wfl select-fps -n 100": wfl("select-fps", "-n", "100", str(pool), "-o", str(picked)),
    }
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
    return list(results.values())
