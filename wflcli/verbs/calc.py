"""``wfl calc``: single-point energy, forces and stress under a prefix.

Every config is evaluated from a clean calculator state, so a result never depends on
which config the same calculator saw before: serial, parallel and chunked runs agree bit
for bit (and match a fresh ASE calculator).
"""

from __future__ import annotations

from dataclasses import dataclass

from wflcli.calculators.spec import CalcSpec
from wflcli.verbs.results import default_properties, results_annotation


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

        def evaluate(atoms, context):
            wanted = self.properties or default_properties(calculator, atoms)
            return results_annotation(len(atoms), calculate_once(calculator, atoms, wanted),
                                      self.prefix)

        return evaluate


def calculate_once(calculator, atoms, wanted) -> dict:
    """Every wanted property from one calculation in a clean state. ASE's ``get_property``
    asks for one property at a time, so a GAP or a DFT code would run once per property."""
    from ase.calculators.calculator import all_changes

    calculator.reset()  # a clean state: nothing carried over from the previous config
    calculator.atoms = atoms.copy()
    calculator.calculate(atoms, list(wanted), all_changes)
    # read the results as get_property would, without comparing the atoms again per property
    return {name: _copied(calculator.results[name]) if name in calculator.results
            else calculator.get_property(name, atoms) for name in wanted}


def _copied(value):
    return value.copy() if hasattr(value, "copy") else value
