"""``wfl random``: random crystal structures of given compositions (the role AIRSS plays
in the method) by pyxtal's symmetric random generation. Each structure is one config of
work (a composition and a number), seeded by its own content. A structure whose atoms
landed on sites of higher symmetry than asked is drawn again: every output has, by
spglib, the space group it names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from wflcli.exec.contracts import TaskDefaults

_RANDOM_PACKING = 0.64  # spheres packed at random fill at most about this fraction
SYMPREC = 1e-3          # A: spglib's tolerance when checking a structure's space group


def counts_of(composition: str) -> dict[str, int]:
    """``Na4Cl4`` -> {"Na": 4, "Cl": 4} (ASE's formula syntax), or ValueError."""
    from ase.data import atomic_numbers
    from ase.formula import Formula

    try:
        counts = Formula(composition).count()
    except ValueError as exc:
        raise ValueError(f"composition {composition!r}: {exc}") from None
    unknown = [s for s in counts if s not in atomic_numbers or s == "X"]
    if not counts or unknown:
        raise ValueError(f"composition {composition!r}: not a formula of known elements")
    return counts


def pyxtal_rejects(symbols) -> list[str]:
    """The elements pyxtal has no radius for (it cannot place them)."""
    from pyxtal.database.element import Element

    return [s for s in symbols if Element(s).covalent_radius is None]


def check_room(counts: dict, volume: float, distance_of) -> None:
    """ValueError when spheres of the minimum separations cannot fit in the volume: such a
    structure can never be found, however long pyxtal tries."""
    natoms = sum(counts.values())
    spheres = sum(n * math.pi / 6 * distance_of(s, s) ** 3 for s, n in counts.items())
    if spheres > _RANDOM_PACKING * volume * natoms:
        raise ValueError(f"impossible separations: spheres of the same-element minimum "
                         f"separations fill {spheres / (volume * natoms):.2f} of "
                         f"{volume:g} A^3 per atom (at most {_RANDOM_PACKING})")


@lru_cache(maxsize=64)
def compatible_groups(groups: tuple, counts: tuple) -> tuple:
    """The space groups whose Wyckoff positions can hold these numbers of atoms."""
    from pyxtal.symmetry import Group

    return tuple(n for n in groups if Group(n).check_compatible(list(counts))[0])


def spacegroup_of(atoms, symprec: float = SYMPREC) -> int:
    import spglib

    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    return spglib.get_symmetry_dataset(cell, symprec=symprec).number


@dataclass(frozen=True)
class RandomTask(TaskDefaults):
    space_groups: tuple = tuple(range(1, 231))
    volume: float | None = None      # A^3 per atom; None: pyxtal's estimate
    separations: tuple = ()          # ((a, b, distance), ...); "*" for every pair
    tries: int = 10                  # attempts (space groups in turn) before failing
    seed: int = 0

    verb = "random"

    def parameters(self) -> dict:
        return {"space_groups": list(self.space_groups), "volume": self.volume,
                "separations": [list(s) for s in self.separations], "tries": self.tries,
                "seed": self.seed}

    def distance(self, a: str, b: str) -> float | None:
        """The minimum separation asked for this pair (a pair beats ``*``), or None."""
        found = None
        for x, y, value in self.separations:
            if {x, y} == {a, b}:
                return value
            if x == y == "*":
                found = value
        return found

    def start(self):
        def build(placeholder, context):
            composition = placeholder.info["random_composition"]
            atoms, group = self._generate(counts_of(composition), context.rng)
            atoms.info.update(placeholder.info)
            atoms.info.update(config_type="random", random_space_group=group)
            return [atoms]

        return build

    def _generate(self, counts: dict, rng):
        from pyxtal import pyxtal
        from pyxtal.lattice import Lattice
        from pyxtal.symmetry import Group

        rejected = pyxtal_rejects(counts)
        if rejected:
            raise ValueError(f"pyxtal has no radius for {', '.join(rejected)}")
        tolerances = self._tolerances(counts)
        if self.volume:
            check_room(counts, self.volume, tolerances.get_tol)
        natoms = sum(counts.values())
        fitting = compatible_groups(self.space_groups, tuple(counts.values()))
        if not fitting:
            raise ValueError("the composition fits none of the space groups asked for")
        groups = rng.permutation(np.array(fitting)).tolist()
        reasons = []
        for attempt in range(self.tries):
            number = groups[attempt % len(groups)]
            crystal = pyxtal()
            lattice = None
            if self.volume:
                lattice = Lattice(Group(number).lattice_type, volume=self.volume * natoms,
                                  random_state=rng)
            try:
                crystal.from_random(3, number, list(counts), list(counts.values()),
                                    lattice=lattice, tm=tolerances, random_state=rng)
            except RuntimeError as exc:  # pyxtal gave up placing the atoms
                reasons.append(f"{number}: {exc}")
                continue
            if not crystal.valid:
                reasons.append(f"{number}: no valid structure")
                continue
            atoms = crystal.to_ase(resort=False)
            atoms.pbc = True
            found = spacegroup_of(atoms)
            if found == number:
                return atoms, number
            reasons.append(f"{number}: sites landed on a supergroup ({found})")
        raise ValueError(f"no structure in {self.tries} tries ({'; '.join(reasons[:5])})")

    def _tolerances(self, counts: dict):
        from pyxtal.tolerance import Tol_matrix

        tolerances = Tol_matrix(prototype="atomic")
        symbols = list(counts)
        for i, a in enumerate(symbols):
            for b in symbols[i:]:
                value = self.distance(a, b)
                if value is not None:
                    tolerances.set_tol(a, b, value)
        return tolerances

