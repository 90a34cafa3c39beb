"""Calculator results under a prefix: the one convention every verb writes results with."""

from __future__ import annotations

import numpy as np

DEFAULT_PROPERTIES = ("energy", "forces", "stress")


def default_properties(calculator, atoms) -> list[str]:
    """Energy, forces and stress where the calculator has them; stress only for fully
    periodic cells."""
    implemented = getattr(calculator, "implemented_properties", DEFAULT_PROPERTIES)
    names = [p for p in DEFAULT_PROPERTIES if p in implemented]
    # stress needs three lattice vectors, none zero (Cell.rank < 3, at a fraction of its cost)
    if not (atoms.pbc.all() and atoms.cell.array.any(1).all()):
        names = [p for p in names if p != "stress"]
    return names


def results_annotation(natoms: int, results: dict, prefix: str) -> dict:
    """``{"info": ..., "arrays": ...}``: per-config results for info, per-atom ones for
    arrays, as plain Python/numpy values."""
    from ase.outputs import all_outputs

    annotation: dict = {"info": {}, "arrays": {}}
    for name, value in results.items():
        key = prefix + name
        value = np.asarray(value)
        known = all_outputs.get(name)
        per_atom = (known.shapespec[:1] == ("natoms",) if known is not None and
                    hasattr(known, "shapespec") else value.ndim >= 1 and value.shape[0] == natoms)
        if per_atom:
            annotation["arrays"][key] = np.ascontiguousarray(value)
        elif value.ndim == 0:
            annotation["info"][key] = value.item()
        else:
            annotation["info"][key] = value.copy()
    return annotation


def store_current_results(atoms, calculator, prefix: str) -> None:
    """Copy the calculator's results for ``atoms`` (already computed) into info/arrays."""
    wanted = default_properties(calculator, atoms)
    results = {name: calculator.get_property(name, atoms) for name in wanted}
    annotation = results_annotation(len(atoms), results, prefix)
    atoms.info.update(annotation["info"])
    atoms.arrays.update(annotation["arrays"])
