"""``wfl defects``: point defects (vacancies, antisites, interstitials) placed at random,
seeded per config, and surface slabs, each output carrying what was done to it in info
(``defect``, ``defect_atoms``, ``miller``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.exec.contracts import TaskDefaults

KINDS = ("vacancy", "antisite", "interstitial", "surface")
_PLACEMENT_TRIES = 1000


@dataclass(frozen=True)
class DefectTask(TaskDefaults):
    kind: str
    copies: int = 1                 # point defects: outputs per input
    count: int = 1                  # point defects: defects per output
    element: str | None = None      # interstitial species [default: one of the input's]
    min_distance: float = 1.5       # A, interstitial to any atom
    miller: tuple = (1, 1, 1)
    layers: int = 4
    vacuum: float = 10.0            # A, on each side of a slab
    seed: int = 0

    verb = "defects"

    def parameters(self) -> dict:
        if self.kind == "surface":
            return {"kind": self.kind, "miller": list(self.miller), "layers": self.layers,
                    "vacuum": self.vacuum}
        common = {"kind": self.kind, "copies": self.copies, "count": self.count,
                  "seed": self.seed}
        if self.kind == "interstitial":
            common.update(element=self.element, min_distance=self.min_distance)
        return common

    def start(self):
        make = {"vacancy": self._vacancy, "antisite": self._antisite,
                "interstitial": self._interstitial}.get(self.kind)

        def build(atoms, context):
            if atoms.cell.rank < 3 or not atoms.pbc.all():
                raise ValueError(f"a {self.kind} needs a periodic cell in all three directions")
            if make is None:
                return [self._surface(atoms)]
            outputs = []
            for copy in range(self.copies):
                new, where = make(atoms, context.rng)
                new.info.update(config_type=self.kind, defect=self.kind,
                                defect_atoms=np.asarray(where), defect_copy=copy)
                outputs.append(new)
            return outputs

        return build

    def _vacancy(self, atoms, rng):
        if self.count >= len(atoms):
            raise ValueError(f"cannot remove {self.count} of {len(atoms)} atoms")
        removed = np.sort(rng.choice(len(atoms), self.count, replace=False))
        new = atoms.copy()
        del new[removed.tolist()]
        return new, removed

    def _antisite(self, atoms, rng):
        numbers = atoms.numbers
        if len(set(numbers.tolist())) < 2:
            raise ValueError("antisites need at least two species")
        new, swapped = atoms.copy(), []
        for _ in range(self.count):
            free = np.setdiff1d(np.arange(len(atoms)), swapped)
            first = int(rng.choice(free))
            partners = free[new.numbers[free] != new.numbers[first]]
            if not len(partners):
                raise ValueError(f"no unswapped pair of different species left for "
                                 f"{self.count} antisites")
            second = int(rng.choice(partners))
            new.numbers[[first, second]] = new.numbers[[second, first]]
            swapped += [first, second]
        return new, np.array(swapped)

    def _interstitial(self, atoms, rng):
        from ase import Atom
        from ase.geometry import get_distances

        new, added = atoms.copy(), []
        species = sorted(set(atoms.get_chemical_symbols()))
        for _ in range(self.count):
            symbol = self.element or species[int(rng.integers(len(species)))]
            for _ in range(_PLACEMENT_TRIES):
                point = rng.random(3) @ new.cell.array
                _, distances = get_distances(point, new.positions, cell=new.cell, pbc=True)
                if distances.min() >= self.min_distance:
                    break
            else:
                raise ValueError(f"no room for an interstitial {self.min_distance:g} A from "
                                 f"every atom ({_PLACEMENT_TRIES} random tries)")
            new.append(Atom(symbol, point))
            added.append(len(new) - 1)
        return new, np.array(added)

    def _surface(self, atoms):
        from ase.build import surface

        if not any(self.miller):
            raise ValueError("Miller indices 0,0,0 name no plane")
        slab = surface(atoms, self.miller, self.layers, vacuum=self.vacuum, periodic=True)
        slab.pbc = (True, True, False)
        slab.info.update(atoms.info)
        slab.info.update(config_type="surface", defect="surface", miller=np.array(self.miller),
                         surface_layers=self.layers)
        return slab
