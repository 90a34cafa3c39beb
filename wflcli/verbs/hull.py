"""The lower convex hull of energy per atom over composition (and volume per atom): the
configs that are stable against decomposition into the others, and those near them.

Pure numpy and scipy on a matrix of points: one row per config, the coordinates first and
the energy per atom last.
"""

from __future__ import annotations

import numpy as np

VERTICAL = 1e-9  # facets whose normal has a smaller energy part are walls, not floors
ON_HULL = 1e-10  # eV/atom: rounding, not distance


def composition(configs) -> tuple[list[str], np.ndarray]:
    """(the elements present, sorted by atomic number; each config's atomic fractions)."""
    from ase.data import atomic_numbers

    elements = sorted({s for atoms in configs for s in atoms.get_chemical_symbols()},
                      key=atomic_numbers.get)
    fractions = np.zeros((len(configs), len(elements)))
    for row, atoms in enumerate(configs):
        symbols = atoms.get_chemical_symbols()
        for column, element in enumerate(elements):
            fractions[row, column] = symbols.count(element) / max(1, len(symbols))
    return elements, fractions


def distance_above_hull(points: np.ndarray) -> np.ndarray:
    """How far each point's last coordinate (energy) lies above the lower convex hull over
    the others. Coordinates are first reduced to the space they span (fractions that sum
    to one, a constant volume), so degenerate inputs need no special care."""
    from scipy.spatial import ConvexHull, QhullError

    points = np.asarray(points, dtype=float)
    coords, energy = _spanned(points[:, :-1]), points[:, -1]
    if coords.shape[1] == 0:
        return energy - energy.min()
    try:
        hull = ConvexHull(np.column_stack([coords, energy]))
    except QhullError as exc:
        raise ValueError(f"no convex hull of these {len(points)} points in "
                         f"{coords.shape[1] + 1} dimensions: "
                         f"{str(exc).strip().splitlines()[0]}") from None
    floors = hull.equations[hull.equations[:, -2] < -VERTICAL]
    normals, heights, offsets = floors[:, :-2], floors[:, -2], floors[:, -1]
    # a floor facet is normal.x + height * e + offset = 0; the hull under x is the highest
    hull_energy = (-(coords @ normals.T + offsets) / heights).max(axis=1)
    return energy - hull_energy


def on_hull(points: np.ndarray, tolerance: float = 0.0) -> list[int]:
    """Rows on the lower hull or within ``tolerance`` (eV/atom) above it."""
    distance = distance_above_hull(points)
    return np.flatnonzero(distance <= tolerance + ON_HULL).tolist()


def _spanned(coords: np.ndarray) -> np.ndarray:
    """The coordinates in a basis of the affine space they span."""
    if coords.shape[1] == 0 or len(coords) < 2:
        return coords[:, :0]
    centred = coords - coords.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    rank = int(np.sum(singular > 1e-10 * max(1.0, singular[0])))
    return centred @ vt[:rank].T
