"""``wfl normal-modes``: the Hessian by central differences of forces, normal modes and
frequencies, and samples displaced along the modes with Boltzmann-distributed amplitudes
(each mode gets kT/2 of harmonic energy on average), as for molecular MLIP training sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults


@dataclass(frozen=True)
class NormalModesTask(TaskDefaults):
    calc: CalcSpec
    samples: int = 10
    temperature: float = 300.0  # K
    delta: float = 0.01         # Angstrom, finite-difference step
    seed: int = 0

    verb = "normal-modes"

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "samples": self.samples,
                "temperature": self.temperature, "delta": self.delta, "seed": self.seed}

    def start(self):
        calculator = self.calc.build()

        def forces(atoms) -> np.ndarray:
            calculator.reset()
            return calculator.get_property("forces", atoms)

        def modes_and_samples(atoms, context):
            values, vectors = normal_modes(atoms, forces, self.delta)
            reference = atoms.copy()
            reference.info["nm_frequencies_cm"] = frequencies_cm(values)
            for k, vector in enumerate(vectors):
                reference.arrays[f"nm_mode_{k}"] = vector
            reference.info["config_type"] = "normal_modes"
            samples = displaced_samples(atoms, values, vectors, self.temperature,
                                        self.samples, context.rng)
            return [reference, *samples]

        return modes_and_samples


def normal_modes(atoms, forces, delta: float):
    """Eigenvalues (eV/A^2/amu) and Cartesian displacement vectors (natoms x 3, mass-weighted
    eigenvectors divided by sqrt(mass)) of the vibrational modes, lowest first."""
    natoms = len(atoms)
    if natoms < 2:
        raise ValueError("normal modes need at least 2 atoms")
    hessian = np.empty((3 * natoms, 3 * natoms))
    displaced = atoms.copy()
    for i in range(3 * natoms):
        atom, axis = divmod(i, 3)
        plus, minus = displaced.positions.copy(), displaced.positions.copy()
        plus[atom, axis] += delta
        minus[atom, axis] -= delta
        displaced.positions = plus
        f_plus = forces(displaced)
        displaced.positions = minus
        f_minus = forces(displaced)
        hessian[i] = -(f_plus - f_minus).ravel() / (2 * delta)
    displaced.positions = atoms.positions
    hessian = (hessian + hessian.T) / 2
    inverse_root_mass = np.repeat(atoms.get_masses() ** -0.5, 3)
    weighted = hessian * np.outer(inverse_root_mass, inverse_root_mass)
    values, vectors = np.linalg.eigh(weighted)
    rigid = _rigid_body_modes(atoms)
    order = np.argsort(np.abs(values))[rigid:]  # drop translations (and rotations)
    order = order[np.argsort(values[order])]
    displacements = [(vectors[:, k] * inverse_root_mass).reshape(natoms, 3) for k in order]
    return values[order], displacements


def _rigid_body_modes(atoms) -> int:
    if atoms.pbc.any():
        return 3
    centred = atoms.positions - atoms.positions.mean(axis=0)
    linear = np.linalg.matrix_rank(centred, tol=1e-3) <= 1
    return 5 if linear else 6


def frequencies_cm(values: np.ndarray) -> np.ndarray:
    """Frequencies in cm^-1 from mass-weighted Hessian eigenvalues; imaginary as negative."""
    from ase import units

    scale = units._hbar * 1e10 / np.sqrt(units._e * units._amu) / units.invcm
    return np.sign(values) * scale * np.sqrt(np.abs(values))


def displaced_samples(atoms, values, displacements, temperature, count, rng):
    """Configs displaced along every real mode by amplitudes drawn at ``temperature``."""
    from ase import units

    kt = units.kB * temperature
    samples = []
    for number in range(count):
        sample = atoms.copy()
        for value, displacement in zip(values, displacements):
            if value <= 1e-8:  # imaginary or (numerically) zero: no restoring force to sample
                continue
            # mass-weighted amplitude q ~ N(0, kT/value): mean harmonic energy kT/2 per mode
            sample.positions += rng.normal(0.0, np.sqrt(kt / value)) * displacement
        sample.info["config_type"] = "normal_mode_sample"
        sample.info["nm_temperature_K"] = float(temperature)
        sample.info["nm_sample"] = number
        samples.append(sample)
    return samples
