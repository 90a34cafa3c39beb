"""``wfl phonons``: harmonic phonons with phonopy, in three steps that any calculator (local
or ``--remote``) fits between.

``displace`` writes phonopy's displaced supercells, each carrying what phonopy needs to use
its forces later (``phonon_setup``: unit cell, supercell matrix; ``phonon_displacement``:
which atom moved, and how); ``collect`` turns the labelled supercells back into force
constants; ``sample`` draws thermally displaced supercells from them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from wflcli.exec.contracts import TaskDefaults

FORCE_CONSTANTS = "phonon_force_constants"  # arrays key: (N, 9N), row i = fc[i].ravel()


def _phonopy_atoms(atoms):
    from phonopy.structure.atoms import PhonopyAtoms

    try:
        return PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=atoms.cell.array,
                            scaled_positions=atoms.get_scaled_positions())
    except RuntimeError as exc:  # phonopy's word for an element it has no data for
        raise ValueError(f"phonopy rejects this structure: {exc}") from None


def _ase_atoms(cell):
    from ase import Atoms

    return Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                 pbc=True)


def setup_of(atoms, supercell_matrix) -> dict:
    """What phonopy needs besides forces: the unit cell and the supercell matrix."""
    if atoms.cell.rank < 3 or not atoms.pbc.all():
        raise ValueError("phonons need a periodic cell in all three directions")
    return {"numbers": atoms.numbers.tolist(), "cell": atoms.cell.array.tolist(),
            "scaled_positions": atoms.get_scaled_positions().tolist(),
            "supercell_matrix": np.asarray(supercell_matrix).tolist()}


def setup_id(setup: dict) -> str:
    return hashlib.sha256(json.dumps(setup, sort_keys=True).encode()).hexdigest()[:12]


def phonopy_for(setup: dict, symprec: float = 1e-5):
    """A Phonopy object for a setup (primitive cell found by phonopy, as asked: its notice
    that this default changed in version 4 is not news to a wflcli user)."""
    import warnings

    from ase import Atoms
    from phonopy import Phonopy

    unitcell = Atoms(setup["numbers"], cell=setup["cell"],
                     scaled_positions=setup["scaled_positions"], pbc=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="primitive_matrix defaulted to 'auto'")
        return Phonopy(_phonopy_atoms(unitcell), supercell_matrix=setup["supercell_matrix"],
                       primitive_matrix="auto", symprec=symprec)


@dataclass(frozen=True)
class DisplaceTask(TaskDefaults):
    supercell: tuple            # 3 repeats or 9 matrix entries
    amplitude: float = 0.01     # A

    verb = "phonons-displace"

    def parameters(self) -> dict:
        return {"supercell": list(self.supercell), "amplitude": self.amplitude}

    def matrix(self) -> np.ndarray:
        values = np.array(self.supercell)
        return np.diag(values) if values.size == 3 else values.reshape(3, 3)

    def start(self):
        def displace(atoms, context):
            setup = setup_of(atoms, self.matrix())
            phonon = phonopy_for(setup)
            phonon.generate_displacements(distance=self.amplitude)
            moves = phonon.dataset["first_atoms"]
            configs = []
            cells = phonon.supercells_with_displacements
            for number, (move, cell) in enumerate(zip(moves, cells)):
                supercell = _ase_atoms(cell)
                supercell.info.update(config_type="phonon_displacement",
                                      phonon_id=setup_id(setup), phonon_setup=setup,
                                      phonon_displacement=number,
                                      phonon_displacements=len(moves),
                                      phonon_atom=int(move["number"]),
                                      phonon_vector=np.asarray(move["displacement"]))
                configs.append(supercell)
            return configs

        return displace


def force_constants(group: list, forces_key: str):
    """Phonopy with force constants from one input's labelled displaced supercells."""
    first = group[0].info
    expected = first["phonon_displacements"]
    numbers = sorted(atoms.info["phonon_displacement"] for atoms in group)
    if numbers != list(range(expected)):
        missing = sorted(set(range(expected)) - set(numbers))
        raise ValueError(f"phonon_id {first['phonon_id']}: {len(group)} of {expected} "
                         f"displaced supercells (missing: {missing[:10]})")
    missing_forces = [a.info["phonon_displacement"] for a in group if forces_key not in a.arrays]
    if missing_forces:
        raise ValueError(f"phonon_id {first['phonon_id']}: no arrays['{forces_key}'] in "
                         f"displacement {missing_forces[0]}")
    phonon = phonopy_for(first["phonon_setup"])
    ordered = sorted(group, key=lambda atoms: atoms.info["phonon_displacement"])
    phonon.dataset = {"natom": len(group[0]), "first_atoms": [
        {"number": a.info["phonon_atom"], "displacement": np.asarray(a.info["phonon_vector"]),
         "forces": a.arrays[forces_key]} for a in ordered]}
    phonon.produce_force_constants()
    return phonon


def with_force_constants(phonon, setup: dict, name: str):
    """The perfect supercell carrying the force constants: what ``sample`` reads."""
    supercell = _ase_atoms(phonon.supercell)
    natoms = len(supercell)
    supercell.arrays[FORCE_CONSTANTS] = phonon.force_constants.reshape(natoms, natoms * 9)
    supercell.info.update(config_type="phonon_force_constants", phonon_id=setup_id(setup),
                          phonon_setup=setup, phonon_name=name)
    return supercell


def frequencies(phonon, qpoints) -> np.ndarray:
    """Frequencies (THz) at each q-point (reciprocal basis of phonopy's primitive cell)."""
    phonon.run_qpoints(np.asarray(qpoints, dtype=float))
    return phonon.qpoints.frequencies


@dataclass(frozen=True)
class SampleTask(TaskDefaults):
    temperature: float          # K
    count: int = 20
    seed: int = 0

    verb = "phonons-sample"

    def parameters(self) -> dict:
        return {"temperature": self.temperature, "count": self.count, "seed": self.seed}

    def start(self):
        def sample(atoms, context):
            if FORCE_CONSTANTS not in atoms.arrays or "phonon_setup" not in atoms.info:
                raise ValueError(f"no force constants (arrays['{FORCE_CONSTANTS}']): "
                                 "give the output of wfl phonons collect")
            phonon = phonopy_for(atoms.info["phonon_setup"])
            natoms = len(phonon.supercell)
            phonon.force_constants = atoms.arrays[FORCE_CONSTANTS].reshape(natoms, natoms, 3, 3)
            phonon.generate_displacements(number_of_snapshots=self.count,
                                          temperature=self.temperature,
                                          random_seed=int(context.rng.integers(2 ** 31)))
            samples = []
            for number, cell in enumerate(phonon.supercells_with_displacements):
                new = _ase_atoms(cell)
                new.info.update(config_type="phonon_sample", phonon_id=atoms.info["phonon_id"],
                                phonon_sample=number, phonon_temperature=self.temperature)
                samples.append(new)
            return samples

        return sample
