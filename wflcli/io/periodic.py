"""What every config we read or write must satisfy to be computed on safely.

A direction that is periodic needs a cell vector: with none (``pbc="T T T"`` and no
Lattice) a calculator divides by a zero volume and returns NaN forces without an error.
Atomic numbers name real elements (0, ASE's dummy atom X, up to 118): -1 would be written
as the last symbol, Og.
"""

from __future__ import annotations

MAX_ATOMIC_NUMBER = 118


def periodic_without_cell(atoms) -> str | None:
    """Why ``atoms`` is periodic along a direction with no cell vector, or None if it is not."""
    missing = [axis for axis, periodic, vector in  # plain lists: faster than numpy for 3x3
               zip("abc", atoms.pbc.tolist(), atoms.cell.array.tolist())
               if periodic and not any(vector)]
    if not missing:
        return None
    return (f"periodic along {', '.join(missing)} (pbc) but with no cell vector there: "
            "give a Lattice, or pbc=\"F F F\"")
