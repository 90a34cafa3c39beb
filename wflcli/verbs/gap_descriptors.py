"""Descriptors that would get no data from a training set, found before gap_fit runs.

gap_fit expands a descriptor to every species (``add_species=T``, its default): a
``distance_2b`` becomes one per pair of species in the training set, so a set of water
molecules gives an O-O part with no O-O pair inside the cutoff. With
``sparse_method=uniform`` gap_fit then stops ("select_uniform: Descriptor is too large")
after reading everything; other sparse methods fit that part on nothing. Saying so first,
with the pair and the cutoff, is something a user can act on.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_KEY_VALUE = re.compile(r"(\w+)=(\{[^}]*\}|\S+)")
_FALSE = {"f", "false", ".false.", "0"}


@dataclass(frozen=True)
class EmptyPart:
    index: int        # 1-based, as given with --gap
    name: str         # the descriptor's name (distance_2b, soap, ...)
    problem: str      # what has no data, in words
    fatal: bool       # gap_fit would stop on it (sparse_method=uniform)


def empty_parts(configs, descriptors: list[str]) -> list[EmptyPart]:
    """Every part of the descriptors for which no training config has data."""
    from ase.data import chemical_symbols

    present = sorted({int(z) for atoms in configs for z in atoms.numbers})
    found = []
    for index, text in enumerate(descriptors, 1):
        words = text.split()
        if not words:
            continue
        name, options = words[0], dict(_KEY_VALUE.findall(text))
        fatal = options.get("sparse_method", "").lower() == "uniform"
        expands = options.get("add_species", "T").lower() not in _FALSE
        for z in _named_species(options):  # (add_species=T replaces them: then not fatal)
            if z not in present:
                found.append(EmptyPart(index, name, f"species {chemical_symbols[z]} (Z={z}) is "
                                       "in no training config", fatal and not expands))
        if name == "distance_2b" and "cutoff" in options:
            cutoff = float(options["cutoff"])
            wanted = set(_pairs(options, present, expands))
            for a, b in sorted(wanted - _pairs_within(configs, cutoff, wanted)):
                found.append(EmptyPart(index, name, f"no {chemical_symbols[a]}-"
                                       f"{chemical_symbols[b]} pair within {cutoff:g} A in "
                                       "any training config", fatal))
    return found


def _named_species(options: dict) -> list[int]:
    named = []
    for key in ("Z", "Z1", "Z2"):
        try:
            z = int(options.get(key, 0))
        except ValueError:
            continue
        if z > 0:
            named.append(z)
    return named


def _pairs(options: dict, present: list[int], expands: bool) -> list[tuple[int, int]]:
    if expands:  # gap_fit makes one per pair of species in the training set
        return list(itertools.combinations_with_replacement(present, 2))
    named = _named_species({k: options[k] for k in ("Z1", "Z2") if k in options})
    return [tuple(sorted(named))] if len(named) == 2 else []


def _pairs_within(configs, cutoff: float, wanted: set) -> set:
    """The species pairs (of ``wanted``) that some config has within ``cutoff``."""
    import numpy as np
    from ase.neighborlist import neighbor_list

    seen: set = set()
    for atoms in configs:
        if seen >= wanted:
            break
        first, second = neighbor_list("ij", atoms, cutoff)
        if not len(first):
            continue
        numbers = atoms.numbers
        pairs = np.sort(np.stack([numbers[first], numbers[second]], axis=1), axis=1)
        seen.update(tuple(int(z) for z in pair) for pair in np.unique(pairs, axis=0))
    return seen & wanted
