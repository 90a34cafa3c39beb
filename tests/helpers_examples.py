"""Inputs for running the documentation's examples: each file an example names, made by
its name (small and quick: 4-atom Cu cells labelled with EMT as REF_, two small molecules,
an Al/Au hop for neb), and the few that take a fit or a run (GAP models, a MACE model, a
store whose task records reach ID 13) made once and copied."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np

from helpers_data import rattled_cells, write_configs

GAP_TWO_BODY = ("distance_2b cutoff=4 covariance_type=ard_se delta=0.5 theta_uniform=1 "
                "sparse_method=random n_sparse=15")


def labelled(atoms_list, prefix: str = "REF_", types=("rattled", "md")):
    """REF_ energy, forces and stress from EMT, and a config_type, as wfl calc writes them."""
    from ase.calculators.emt import EMT

    for number, atoms in enumerate(atoms_list):
        atoms.calc = EMT()
        atoms.info[prefix + "energy"] = atoms.get_potential_energy()
        atoms.arrays[prefix + "forces"] = atoms.get_forces()
        if atoms.cell.rank == 3:
            atoms.info[prefix + "stress"] = atoms.get_stress()
        atoms.info["config_type"] = types[number % len(types)]
        atoms.calc = None
    return atoms_list


def cu_cells(count: int = 8, seed: int = 0):
    cells = rattled_cells(count, "Cu", (1, 1, 1), stdev=0.08)
    rng = np.random.default_rng(seed)
    for atoms in cells:  # a spread of volumes, as a training set has
        atoms.set_cell(atoms.cell * rng.uniform(0.97, 1.03), scale_atoms=True)
    return labelled(cells)


def molecules():
    from ase.build import molecule

    found = [molecule("H2O"), molecule("CH4")]
    for atoms in found:
        atoms.info["charge"] = 0
    return found


def molecule_pool():
    """Eight H, C, O molecules a little apart from their minima, labelled with EMT."""
    from ase.build import molecule

    pool = [molecule(name) for name in ("H2O", "CH4", "CH3OH", "CO2") * 2]
    rng = np.random.default_rng(6)
    for atoms in pool:
        atoms.positions += rng.normal(0, 0.03, atoms.positions.shape)
    return labelled(pool)


def water_box():
    from ase.build import molecule

    atoms = molecule("H2O")
    atoms.set_cell([6, 6, 6])
    atoms.center()
    atoms.pbc = True
    return [atoms]


def alloys():
    from ase.build import bulk

    made = []
    for gold in range(5):  # Cu4-xAux cells: a convex hull over composition
        atoms = bulk("Cu", cubic=True)
        atoms.symbols[:gold] = "Au" * gold if gold else atoms.symbols[:0]
        made.append(atoms)
    return labelled(made)


def hop(reaction: str | None = None):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_generators import hop_endpoints

    ends = hop_endpoints()
    if reaction:
        for end in ends:
            end.info["reaction"] = reaction
    return ends


def cluster():
    from ase.cluster import Octahedron

    atoms = Octahedron("Cu", 2)
    atoms.center(vacuum=0)
    return [atoms]


OPS = '''from ase import Atoms
from ase.calculators.emt import EMT
from ase.optimize import BFGS


class Calc(EMT):
    """The README's python: calculator (EMT by another name)."""


def cap_bonds(atoms, cap_with="H"):
    return atoms + Atoms(cap_with, positions=[atoms.positions[0] + [0, 0, 1.0]])


def load_model():
    from ase.calculators.emt import EMT
    return EMT


def from_smiles(line, state):
    from ase.build import molecule
    return molecule("H2") if line.strip() == "[H][H]" else molecule("CH4")


def relax(atoms):
    atoms.calc = EMT()
    BFGS(atoms, logfile=None).run(fmax=0.1, steps=20)
    atoms.calc = None
    return atoms
'''


def make_input(name: str, folder: Path, library: Path, configs: int = 8) -> bool:
    """Write the input ``name`` into ``folder`` (``configs`` Cu cells where it is a set of
    them); False if it is not an input known here."""
    from ase.build import bulk
    from ase.io import write

    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)  # models/GAP.xml: in its folder
    if (library / path.name).exists():
        for part in library.glob(path.name + "*"):  # a GAP model with its sparse files
            shutil.copy(part, path.parent / part.name)
        return True
    makers = {
        "cu.xyz": lambda: [bulk("Cu", cubic=True)],
        "bulk.xyz": lambda: [bulk("Cu", cubic=True)],
        "primitive.xyz": lambda: [bulk("Cu")],
        "alloys.xyz": alloys,
        "molecules.xyz": molecules, "mols.xyz": molecules, "relaxed.xyz": molecules,
        "endpoints.xyz": hop, "minima.xyz": lambda: hop("hop"),
        "clusters.xyz": cluster, "pool.xyz": molecule_pool, "boxes.xyz": water_box,
    }
    if name in makers:
        write_configs(path, makers[name]())
    elif name.endswith(".xyz"):
        write_configs(path, cu_cells(configs))
    elif name.endswith(".xyz.gz"):
        plain = folder / name[:-3]
        write_configs(plain, cu_cells(3, seed=1))
        path.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
    elif name.endswith(".traj"):
        write(str(path), cu_cells(3, seed=2))
    elif name.endswith(".smi"):
        path.write_text("CCO\nC\n" if name == "molecules.smi" else "[H][H]\nC\n")
    elif name.endswith(".py"):
        path.write_text(OPS)
    elif name == "cp2k.yaml":  # small settings, as test_file_codes.py uses
        path.write_text("xc: PBE\ncutoff: 2700\nmax_scf: 30\n")
    else:
        return False
    return True


def build_library(folder: Path, wfl: str, env: dict) -> None:
    """What takes a fit or a run, made once: GAP models (test.xyz carries the first's
    GAP_ results), a tiny MACE model, labelled phonon displacements and their force
    constants, and a store with 13 task records (IDs 12 and 13 exist)."""
    def run(command: str, cwd: Path = folder) -> None:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"

    write_configs(folder / "train-gap.xyz", cu_cells(8, seed=3))
    run(f"'{wfl}' atoms Cu | '{wfl}' calc --calc emt --prefix REF_ -o isolated.xyz")
    for seed, name in ((1, "GAP.xml"), (1, "GAP1.xml"), (1, "A.xml"), (2, "GAP2.xml"),
                       (2, "B.xml"), (3, "GAP3.xml")):  # a model names its sparse files
        run(f"'{wfl}' --seed {seed} fit-gap train-gap.xyz isolated.xyz -o {name} "
            f"--gap '{GAP_TWO_BODY}'")
    write_configs(folder / "test-ref.xyz", cu_cells(6, seed=4))
    run(f"'{wfl}' calc --calc gap:GAP.xml --prefix GAP_ test-ref.xyz -o test.xyz")
    try:
        from helpers_mace import build_tiny_model

        build_tiny_model(folder / "cu.model", elements=(29,))
    except ImportError:
        pass  # no mace-torch: the MACE examples skip, saying so
    write_configs(folder / "cu-prim.xyz", [bulk_cu()])
    run(f"'{wfl}' phonons displace --supercell 2x2x2 cu-prim.xyz | '{wfl}' calc --calc emt "
        "--prefix REF_ -o labelled.xyz")
    run(f"'{wfl}' phonons collect --forces REF_forces -d phonons labelled.xyz -o fc.xyz")
    write_configs(folder / "thirteen.xyz", cu_cells(13, seed=5))
    run(f"'{wfl}' --remote cluster --per-job 1 calc --calc emt thirteen.xyz -o /dev/null")


def bulk_cu():
    from ase.build import bulk

    return bulk("Cu", cubic=True)
