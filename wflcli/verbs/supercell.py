"""``wfl supercell``: the most cubic supercell of each input with at most N atoms.

Candidates are the integer matrices with entries in [-2, 2] and their integer multiples
(the same shape, k^3 times larger). A cell's distance from a cube is
|G / V^(2/3) - I| (G the metric tensor), zero exactly for a cube and independent of
rotation; among equally cubic cells (to 1e-6) the one with the most atoms wins, then the
simplest matrix (smallest entries, fewest negative, most diagonal), so the answer is deterministic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_ENTRY_RANGE = 2
_TIE = 1e-6


@lru_cache(maxsize=1)
def _candidate_matrices() -> tuple[np.ndarray, np.ndarray]:
    """Every 3x3 integer matrix with entries in the range and a positive determinant, and
    its determinant."""
    values = np.arange(-_ENTRY_RANGE, _ENTRY_RANGE + 1, dtype=np.int64)
    rows = np.array(list(itertools.product(values, repeat=3)))
    a, b, c = np.meshgrid(np.arange(len(rows)), np.arange(len(rows)), np.arange(len(rows)),
                          indexing="ij")
    matrices = np.stack([rows[a.ravel()], rows[b.ravel()], rows[c.ravel()]], axis=1)
    determinants = np.rint(np.linalg.det(matrices)).astype(np.int64)
    keep = determinants > 0
    matrices, determinants = matrices[keep], determinants[keep]
    flat = matrices.reshape(len(matrices), 9)  # simplest first: small, then positive entries
    off_diagonal = np.abs(flat[:, [1, 2, 3, 5, 6, 7]]).sum(axis=1)
    order = np.lexsort((off_diagonal, (flat < 0).sum(axis=1), np.abs(flat).sum(axis=1)))
    return matrices[order], determinants[order]


def cubic_deviation(cells: np.ndarray) -> np.ndarray:
    """|G / V^(2/3) - I| (Frobenius) of each cell (..., 3, 3)."""
    metric = cells @ np.swapaxes(cells, -1, -2)
    volume = np.abs(np.linalg.det(cells))
    scaled = metric / volume[..., None, None] ** (2 / 3)
    return np.linalg.norm(scaled - np.eye(3), axis=(-2, -1))


def most_cubic_matrix(cell: np.ndarray, natoms: int, max_atoms: int) -> np.ndarray:
    """The supercell matrix P (supercell = P @ cell) described above."""
    most = max_atoms // natoms
    if most < 1:
        raise ValueError(f"the input has {natoms} atoms, more than --max-atoms {max_atoms}")
    matrices, determinants = _candidate_matrices()
    fits = determinants <= most
    matrices, determinants = matrices[fits], determinants[fits]
    multiples = np.floor(np.cbrt(most / determinants) + 1e-9).astype(np.int64)
    sizes = multiples ** 3 * determinants
    deviation = cubic_deviation(matrices @ cell)
    best = deviation.min()
    tied = np.flatnonzero(deviation <= best + _TIE)
    chosen = tied[np.argmax(sizes[tied])]  # the first of the largest: argmax takes the first
    return multiples[chosen] * matrices[chosen]


@dataclass(frozen=True)
class SupercellTask:
    max_atoms: int

    verb = "supercell"

    def parameters(self) -> dict:
        return {"max_atoms": self.max_atoms}

    def start(self):
        from ase.build import make_supercell

        def build(atoms, context):
            if atoms.cell.rank < 3 or not atoms.pbc.all():
                raise ValueError("a supercell needs a periodic cell in all three directions")
            matrix = most_cubic_matrix(atoms.cell.array, len(atoms), self.max_atoms)
            supercell = make_supercell(atoms, matrix)
            supercell.info["supercell_matrix"] = matrix.ravel()
            supercell.info["supercell_deviation"] = float(cubic_deviation(supercell.cell.array))
            return [supercell]

        return build
