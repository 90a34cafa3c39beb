"""``wfl calc``: single-point energy, forces and stress under a prefix.

Every config is evaluated from a clean calculator state, so a result never depends on
which config the same calculator saw before: serial, parallel and chunked runs agree bit
for bit (and match a fresh ASE calculator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.calculators.spec import CalcSpec

DEFAULT_PROPERTIES = ("energy", "forces", "stress")


@dataclass(frozen=True)
class CalcTask:
    calc: CalcSpec
    prefix: str
    properties: tuple[str, ...] | None = None  # None: energy, forces, stress where available

    verb = "calc"
    annotates = True  # output = input + results: the cache keys on the structure alone
    reads = ()

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "prefix": self.prefix,
                "properties": list(self.properties) if self.properties else None}

    def start(self):
        calculator = self.calc.build()
        implemented = set(getattr(calculator, "implemented_properties", DEFAULT_PROPERTIES))

        def evaluate(atoms, context):
            wanted = self.properties or _available(implemented, atoms)
            calculator.reset()  # a clean state: nothing carried over from the previous config
            results = {name: calculator.get_property(name, atoms) for name in wanted}
            return results_annotation(len(atoms), results, self.prefix)

        return evaluate


def _available(implemented: set, atoms) -> list[str]:
    """The default properties this calculator has; stress only for fully periodic cells."""
    names = [p for p in DEFAULT_PROPERTIES if p in implemented]
    if not atoms.pbc.all() or atoms.cell.rank < 3:
        names = [p for p in names if p != "stress"]
    return names


def results_annotation(natoms: int, results: dict, prefix: str) -> dict:
    """Results for info (per config) or arrays (per atom), as plain Python/numpy values."""
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
