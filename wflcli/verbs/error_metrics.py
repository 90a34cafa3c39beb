"""``wfl error``: prediction errors against references, overall and per group.

Energies are compared per atom, forces and stress per component, virials per component
and per atom. A config that lacks a property on either side is counted as missing for
that property, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ALL = "all"


@dataclass
class Stats:
    count: int
    rmse: float
    mae: float
    max: float


@dataclass
class PropertyErrors:
    name: str
    unit: str
    values: dict = field(default_factory=dict)    # group -> (reference list, predicted list)
    missing: dict = field(default_factory=dict)   # group -> configs lacking the property

    def add(self, group, reference, predicted) -> None:
        for key in (ALL, group) if group != ALL else (ALL,):
            refs, preds = self.values.setdefault(key, ([], []))
            refs.append(np.ravel(reference))
            preds.append(np.ravel(predicted))

    def add_missing(self, group) -> None:
        for key in (ALL, group) if group != ALL else (ALL,):
            self.missing[key] = self.missing.get(key, 0) + 1

    def arrays(self, group) -> tuple[np.ndarray, np.ndarray]:
        refs, preds = self.values.get(group, ([], []))
        if not refs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(refs), np.concatenate(preds)

    def stats(self, group) -> Stats | None:
        reference, predicted = self.arrays(group)
        if not reference.size:
            return None
        error = predicted - reference
        return Stats(int(error.size), float(np.sqrt(np.mean(error ** 2))),
                     float(np.mean(np.abs(error))), float(np.max(np.abs(error))))

    def groups(self) -> list:
        return list(dict.fromkeys([*self.values, *self.missing]))


def _energy_per_atom(atoms, key):  # a config with no atoms has no energy per atom
    value = atoms.info.get(key + "energy")
    return None if value is None or not len(atoms) else float(value) / len(atoms)


def _forces(atoms, key):
    return atoms.arrays.get(key + "forces")


def _stress(atoms, key):
    value = atoms.info.get(key + "stress")
    if value is None:
        return None
    value = np.asarray(value, dtype=float)
    if value.shape in ((3, 3), (9,)):
        from ase.stress import full_3x3_to_voigt_6_stress

        value = full_3x3_to_voigt_6_stress(value.reshape(3, 3))
    return value


def _virial_per_atom(atoms, key):
    value = atoms.info.get(key + "virial")
    if value is None or not len(atoms):
        return None
    return np.asarray(value, dtype=float).ravel() / len(atoms)


PROPERTIES = (("energy/atom", "eV/atom", _energy_per_atom), ("forces", "eV/A", _forces),
              ("stress", "eV/A^3", _stress), ("virial/atom", "eV/atom", _virial_per_atom))


def compare(configs, ref: str, pred: str, by: str | None = None) -> list[PropertyErrors]:
    """Errors of ``pred`` against ``ref`` for every property present anywhere."""
    found = {name: PropertyErrors(name, unit) for name, unit, _ in PROPERTIES}
    present = set()
    for atoms in configs:
        group = str(atoms.info.get(by, "-")) if by else ALL
        for name, _, getter in PROPERTIES:
            reference, predicted = getter(atoms, ref), getter(atoms, pred)
            if reference is not None or predicted is not None:
                present.add(name)
            if reference is None or predicted is None:
                found[name].add_missing(group)
            else:
                found[name].add(group, reference, predicted)
    return [found[name] for name, _, _ in PROPERTIES if name in present]
