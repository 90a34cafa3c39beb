"""``wfl count``: what a stream of configs holds, as counts a person can check at a glance
(configs, atoms, species, groups) and, with ``keys``, which info/arrays keys are there,
of what type, in how many configs, and which result prefixes they make."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

_RESULTS = ("energy", "forces", "stress", "virial")  # what makes a key a prefixed result
_STRUCTURE = {"numbers", "positions"}  # arrays every config has


@dataclass
class Tally:
    configs: int = 0
    atoms: int = 0
    species: Counter = field(default_factory=Counter)
    groups: Counter = field(default_factory=Counter)
    info: Counter = field(default_factory=Counter)     # (key, type) -> configs
    arrays: Counter = field(default_factory=Counter)   # (key, type) -> configs

    def add(self, atoms, by: str) -> None:
        self.configs += 1
        self.atoms += len(atoms)
        self.species.update(atoms.get_chemical_symbols())
        self.groups[str(atoms.info.get(by, "-"))] += 1
        self.info.update((key, value_type(value)) for key, value in atoms.info.items())
        self.arrays.update((key, value_type(value[0] if len(value) else value))
                           for key, value in atoms.arrays.items() if key not in _STRUCTURE)

    def merge(self, other: "Tally") -> None:
        self.configs += other.configs
        self.atoms += other.atoms
        for mine, theirs in ((self.species, other.species), (self.groups, other.groups),
                             (self.info, other.info), (self.arrays, other.arrays)):
            mine.update(theirs)

    def summary(self, by: str) -> dict:
        return {"configs": self.configs, "atoms": self.atoms,
                "species": dict(sorted(self.species.items())),
                by: dict(sorted(self.groups.items()))}

    def keys(self) -> dict:
        """info and arrays keys with type and count, and the result prefixes found."""
        return {"info": _key_table(self.info), "arrays": _key_table(self.arrays),
                "prefixes": result_prefixes([key for key, _ in (*self.info, *self.arrays)])}


def value_type(value) -> str:
    """A short name of a value's type: int, float, bool, str, dict, or the element type and
    shape of an array (a per-atom array is named by one atom's value: float[3])."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "dict"
    array = np.asarray(value)
    kind = {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str"}.get(
        array.dtype.kind, array.dtype.name)
    return f"{kind}[{','.join(map(str, array.shape))}]"


def result_prefixes(keys) -> dict:
    """prefix -> the results under it (``REF_energy`` and ``REF_forces``: REF_ has both)."""
    found: dict[str, list] = {}
    for key in keys:
        for result in _RESULTS:
            if key.endswith(result) and key != result:
                found.setdefault(key[: -len(result)], []).append(result)
    return {prefix: sorted(set(results)) for prefix, results in sorted(found.items())}


def _key_table(counts: Counter) -> list[dict]:
    return [{"key": key, "type": kind, "configs": n}
            for (key, kind), n in sorted(counts.items())]
