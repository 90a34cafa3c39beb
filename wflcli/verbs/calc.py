"""``wfl calc``: single-point energy, forces and stress under a prefix.

Every config is evaluated from a clean calculator state, so a result never depends on
which config the same calculator saw before: serial, parallel and chunked runs agree bit
for bit (and match a fresh ASE calculator). ``reuse_state`` (``--reuse-state``) instead
keeps the calculator's state from one config to the next, as a plain ASE loop does (EMT
keeps its neighbour list while it stays valid): faster, and equal to a fresh calculation
to rounding only (EMT: about 1e-13 eV), so its results are cached apart. File-based
codes (NWChem, VASP, ...) run each config in a folder of its own; ``info['wfl_calc']``
changes, for one config, the parameters that ``--overrides`` allows (an input file is
data: see calculators/overrides.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wflcli.calculators.filecalc import FolderPolicy, code_calculator, is_file_based
from wflcli.calculators.overrides import checked_overrides
from wflcli.calculators.registry import PYTHON
from wflcli.calculators.spec import CalcSpec
from wflcli.calculators.spec_error import ALLOWED, CalcSpecError
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.batches import BatchPolicy, many_evaluator
from wflcli.verbs.results import default_properties, results_annotation

OVERRIDES = "wfl_calc"  # info key: calculator parameters for this config alone


@dataclass(frozen=True)
class CalcTask(TaskDefaults):
    calc: CalcSpec
    prefix: str
    properties: tuple[str, ...] | None = None  # None: energy, forces, stress where available
    folders: FolderPolicy | None = None  # file-based codes: where and how they run
    overrides: tuple[str, ...] = ()  # the parameters info['wfl_calc'] may set (--overrides)
    batch: BatchPolicy | None = None  # None: the calculator's own budget, where it batches
    reuse_state: bool = False  # keep the calculator's state across configs (--reuse-state)

    verb = "calc"
    annotates = True  # output = input + results: the cache keys on what a result depends on

    @property
    def ignores_results(self) -> bool:
        """A calculator we know reads no other method's results (REF_energy); a user's
        ``python:`` one may (a correction on top of a baseline), so they are keyed for it."""
        return self.calc.name != PYTHON

    def parameters(self) -> dict:
        # where a code runs and which files it keeps do not change its results
        # nor how configs are grouped into batches: that changes only the rounding (~1e-16)
        # reused state changes the rounding, so its results are never served to a clean run
        return {"calc": self.calc.fingerprint, "prefix": self.prefix,
                "properties": list(self.properties) if self.properties else None,
                "overrides": list(self.overrides),
                **({"reuse_state": True} if self.reuse_state else {})}

    @property
    def batches(self) -> bool:
        """Whether a chunk is evaluated in groups (the calculator can, and not --batch 1)."""
        return self.calc.batches and not (self.batch and self.batch.alone)

    def start(self):
        file_based = is_file_based(self.calc)
        shared = None if file_based else self.calc.build()
        calculate = calculate_reusing if self.reuse_state else calculate_once

        def evaluate(atoms, context):
            parameters = self._parameters(atoms)
            if file_based:
                with code_calculator(self.calc, parameters or self.calc.overridden({}), atoms,
                                     context.index, self.folders) as (calculator, given):
                    results = calculate_once(calculator, given, self._wanted(calculator, atoms))
            else:
                if parameters is not None:
                    calculator = self.calc.build(parameters)
                    results = calculate_once(calculator, atoms, self._wanted(calculator, atoms))
                else:
                    results = calculate(shared, atoms, self._wanted(shared, atoms))
            return results_annotation(len(atoms), results, self.prefix)

        if self.batches and getattr(shared, "batches", False):
            policy = self.batch or BatchPolicy(atoms=shared.batch_atoms)
            evaluate.many = many_evaluator(shared, policy, evaluate,
                                           lambda atoms: self._wanted(shared, atoms),
                                           self.prefix, config_overrides)
        return evaluate

    def _parameters(self, atoms) -> dict | None:
        """The calculator's parameters with this config's info['wfl_calc'] (None: it sets
        none); a table the run refuses fails the config, saying what --overrides allows."""
        try:
            overrides = checked_overrides(config_overrides(atoms), self.overrides)
            return self.calc.overridden(overrides) if overrides else None
        except CalcSpecError as exc:
            allows = (f" (--overrides allows: {', '.join(self.overrides) or 'none'})"
                      if exc.source == ALLOWED else "")
            raise ValueError(exc.worded(f"info['{OVERRIDES}']") + allows) from None

    def _wanted(self, calculator, atoms) -> list:
        return list(self.properties or default_properties(calculator, atoms))


def config_overrides(atoms) -> dict:
    """``info['wfl_calc']``: a table (or its JSON text) of calculator parameters."""
    value = atoms.info.get(OVERRIDES)
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"info['{OVERRIDES}'] is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"info['{OVERRIDES}'] must be a table of calculator parameters, "
                         f"not {value!r}")
    return value


def calculate_once(calculator, atoms, wanted) -> dict:
    """Every wanted property from one calculation in a clean state. ASE's ``get_property``
    asks for one property at a time, so a GAP or a DFT code would run once per property."""
    from ase.calculators.calculator import all_changes

    reset = getattr(calculator, "reset", None)  # a clean state: nothing from the last config
    if reset is not None:  # (the file-I/O calculators of ASE's newer kind start clean)
        reset()
    calculator.atoms = atoms  # the worker's own copy; ASE's calculate() copies it again
    atoms.calc = calculator  # CASTEP's writer reads its settings from here
    calculator.calculate(atoms, list(wanted), all_changes)
    return _results(calculator, atoms, wanted)


def calculate_reusing(calculator, atoms, wanted) -> dict:
    """Every wanted property, the calculator keeping what it built for the last config
    where ASE's own checks allow (what ``get_property`` does in a plain ASE loop)."""
    check = getattr(calculator, "check_state", None)
    if check is None or calculator.atoms is None:
        return calculate_once(calculator, atoms, wanted)
    atoms.calc = calculator
    changes = check(atoms)
    if changes:
        calculator.reset()  # results and atoms go; EMT's neighbour list stays
    if changes or any(name not in calculator.results for name in wanted):
        calculator.calculate(atoms, list(wanted), changes)
    return _results(calculator, atoms, wanted)


def _results(calculator, atoms, wanted) -> dict:
    """Read the results as get_property would, without comparing the atoms again per
    property."""
    return {name: _copied(calculator.results[name]) if name in calculator.results
            else calculator.get_property(name, atoms) for name in wanted}


def _copied(value):
    return value.copy() if hasattr(value, "copy") else value
