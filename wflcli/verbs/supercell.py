"""``wfl supercell``: the most cubic supercell of each input with at most N atoms.

Candidates are the integer matrices with entries in [-2, 2] and their integer multiples
(the same shape, k^3 times larger). A cell's distance from a cube is
|G / V^(2/3) - I| (G the metric tensor), zero exactly for a cube and independent of
rotation, of the order of the cell vectors and of their signs: so only one matrix of each
set that differs by those is searched. Among equally cubic cells (to 1e-6) the one with
the most atoms wins, then the simplest matrix (smallest entries, then fewest negative and
most diagonal once its rows are ordered and signed), so the answer is deterministic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from wflcli.exec.contracts import TaskDefaults

_ENTRY_RANGE = 2
_TIE = 1e-6


@lru_cache(maxsize=1)
def _candidate_matrices() -> tuple[np.ndarray, np.ndarray]:
    """One matrix per set of rows (rows in increasing order, each with its first nonzero
    entry positive), turned to a positive determinant, and the determinants; smallest
    entries first."""
    values = range(-_ENTRY_RANGE, _ENTRY_RANGE + 1)
    rows = [r for r in itertools.product(values, repeat=3) if any(r)
            and next(x for x in r if x) > 0]
    matrices = np.array(list(itertools.combinations(rows, 3)), dtype=np.int64)
    determinants = np.rint(np.linalg.det(matrices)).astype(np.int64)
    keep = determinants != 0
    matrices = matrices[keep] * np.sign(determinants[keep])[:, None, None]
    determinants = np.abs(determinants[keep])
    order = np.argsort(np.abs(matrices).reshape(len(matrices), 9).sum(axis=1), kind="stable")
    return matrices[order], determinants[order]


def cubic_deviation(cells: np.ndarray) -> np.ndarray:
    """|G / V^(2/3) - I| (Frobenius) of each cell (..., 3, 3)."""
    metric = cells @ np.swapaxes(cells, -1, -2)
    volume = np.abs(np.linalg.det(cells))
    scaled = metric / volume[..., None, None] ** (2 / 3)
    return np.linalg.norm(scaled - np.eye(3), axis=(-2, -1))


def _niceness(matrix: np.ndarray) -> tuple:
    """Smaller is nicer: fewer negative entries, less weight off the diagonal, then larger
    leading entries (a fixed order, so ties break the same way everywhere)."""
    off_diagonal = np.abs(matrix).sum() - np.abs(np.diag(matrix)).sum()
    return int((matrix < 0).sum()), int(off_diagonal), tuple((-matrix.ravel()).tolist())


def _nicest(matrix: np.ndarray) -> np.ndarray:
    """The same supercell with its rows reordered and signed to be nicest (positive
    determinant kept)."""
    forms = [matrix[list(order)] * np.array(signs)[:, None]
             for order in itertools.permutations(range(3))
             for signs in itertools.product((1, -1), repeat=3)]
    return min((m for m in forms if np.linalg.det(m) > 0), key=_niceness)


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
    tied = np.flatnonzero(deviation <= deviation.min() + _TIE)
    tied = tied[sizes[tied] == sizes[tied].max()]
    simplest = np.abs(matrices[tied]).reshape(len(tied), 9).sum(axis=1)
    tied = tied[simplest == simplest.min()]
    chosen = min(tied, key=lambda i: _niceness(_nicest(matrices[i])))
    return multiples[chosen] * _nicest(matrices[chosen])


@dataclass(frozen=True)
class SupercellTask(TaskDefaults):
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
