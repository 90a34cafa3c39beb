"""``wfl dimers``: two atoms at a grid of distances, for each pair of species: the repulsive
wall and the bond of every pair, the usual companion of isolated atoms in a training set."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from wflcli.exec.contracts import TaskDefaults


def all_pairs(species) -> list[str]:
    """Every unordered pair of the species, same-element pairs included, as ``A-B``."""
    unique = list(dict.fromkeys(species))
    return [f"{a}-{b}" for a, b in itertools.combinations_with_replacement(unique, 2)]


def grid(start: float, stop: float, step: float) -> list[float]:
    """start, start + step, ... up to stop (included when on the grid), each rounded to 12
    decimals so that 0.55 is written as 0.55."""
    count = int((stop - start) / step + 1e-9) + 1
    return [round(start + k * step, 12) for k in range(count)]


def covalent_sum(a: str, b: str) -> float:
    """The sum of the two elements' covalent radii (A), ASE's table."""
    from ase.data import atomic_numbers, covalent_radii

    return float(covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]])


@dataclass(frozen=True)
class DimerTask(TaskDefaults):
    distances: tuple            # the grid, in A or, with relative, in covalent-radii sums
    relative: bool = False
    box: float | None = None    # cube edge (A); None = no cell

    verb = "dimers"

    def parameters(self) -> dict:
        return {"distances": list(self.distances), "relative": self.relative, "box": self.box}

    def start(self):
        def build(pair, context):
            return [self._dimer(pair.info["dimer_pair"], value) for value in self.distances]

        return build

    def _dimer(self, pair: str, value: float):
        from ase import Atoms

        a, b = pair.split("-")
        distance = value * covalent_sum(a, b) if self.relative else value
        positions = [[0.0, 0.0, 0.0], [distance, 0.0, 0.0]]
        atoms = Atoms([a, b], positions=positions, pbc=False)
        if self.box:
            atoms.set_cell([self.box] * 3)
            atoms.translate([(self.box - distance) / 2, self.box / 2, self.box / 2])
        atoms.info["config_type"] = "dimer"
        atoms.info["dimer_pair"] = pair
        atoms.info["dimer_distance"] = distance
        if self.relative:
            atoms.info["dimer_relative_distance"] = value
        return atoms
