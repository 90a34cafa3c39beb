"""Scenario 8: evaluating a GAP with ``wfl calc --calc gap:`` against a plain Python loop
with one quippy ``Potential``. The model is fitted here (2-body + SOAP on EMT labels)."""

from __future__ import annotations

from benchmarks import libatoms
from benchmarks.calc_emt import inputs
from benchmarks.common import WORK, Measurement, python_script, timed, wfl

LOOP = """
import sys, ase.io
from quippy.potential import Potential
potential = Potential("IP GAP", param_filename=sys.argv[1])
with open(sys.argv[3], "w") as out:
    for atoms in ase.io.iread(sys.argv[2]):
        atoms.calc = potential
        atoms.get_potential_energy(); atoms.get_forces(); atoms.get_stress()
        ase.io.write(out, atoms, format="extxyz")
"""

MODEL = ["--gap", "distance_2b cutoff=4.5 covariance_type=ard_se delta=0.5 theta_uniform=1.0 "
         "sparse_method=uniform n_sparse=20",
         "--gap", "soap cutoff=4.5 l_max=4 n_max=6 atom_sigma=0.5 delta=0.1 zeta=4 "
         "covariance_type=dot_product sparse_method=cur_points n_sparse=100"]


def model() -> str:
    path = WORK / "GAP.xml"
    if not path.exists():
        train = WORK / "gap_train.xyz"
        source = inputs(5000)
        timed(["bash", "-c", f"{{ '{wfl()[0]}' atoms Cu; '{wfl()[0]}' head -n 40 '{source}'; }}"
               f" | '{wfl()[0]}' calc --calc emt --prefix REF_ -o '{train}'"])
        timed(wfl("fit-gap", str(train), "-o", str(path), *MODEL))
    return str(path)


def run(count: int, repeat: int) -> list[Measurement]:
    gap = model()
    source = WORK / f"gap_eval_{count}.xyz"
    if not source.exists():
        timed(["bash", "-c", f"'{wfl()[0]}' head -n {count} '{inputs(5000)}' > '{source}'"])
    out = WORK / "gap_out.xyz"
    contenders = {
        "plain loop, one Potential": python_script(LOOP) + [gap, str(source), str(out)],
        "wfl calc --calc gap: (serial)": wfl("calc", "--calc", f"gap:{gap}", str(source),
                                             "-o", str(out)),
        "wfl calc --calc gap: --parallel 2": wfl("--parallel", "2", "calc", "--calc",
                                                 f"gap:{gap}", str(source), "-o", str(out)),
    }
    if libatoms.python():
        out = WORK / "libatoms_gap.xyz"
        evaluate = [libatoms.program(), "eval", "gap", "-i", str(source), "-pf", gap]
        contenders["libAtoms wfl eval gap (serial)"] = libatoms.fresh_output(out, evaluate)
        contenders["libAtoms wfl eval gap, 2 subprocesses"] = libatoms.fresh_output(
            out, evaluate, subprocesses=2)
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            results[name].seconds.append(timed(command))
    return list(results.values())
