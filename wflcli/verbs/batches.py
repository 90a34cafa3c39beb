"""Batched evaluation for ``calc``: a chunk's configs in groups, one model call per group,
for calculators that evaluate many configs at once (``calculate_many``: MACE).

Results equal those of one config at a time to rounding (a model call over a larger graph
sums in another order: ~1e-16 in float64). Groups are cut from each chunk in input order,
so serial and ``--parallel`` runs, which cut the same chunks, agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wflcli.verbs.results import results_annotation

BATCHED = frozenset({"energy", "free_energy", "forces", "stress"})  # what calculate_many gives


@dataclass(frozen=True)
class BatchPolicy:
    """How large a group may be: at most ``configs`` configs and ``atoms`` atoms (a config
    larger than the budget goes alone); None: no limit of that kind."""

    configs: int | None = None
    atoms: int | None = None

    @property
    def alone(self) -> bool:
        return self.configs == 1

    def groups(self, sizes: list[int]) -> list[list[int]]:
        """Positions in ``sizes`` (atoms per config), cut greedily in order."""
        groups: list[list[int]] = []
        current: list[int] = []
        atoms = 0
        for position, size in enumerate(sizes):
            full = (self.configs is not None and len(current) >= self.configs) or (
                self.atoms is not None and atoms + size > self.atoms)
            if current and full:
                groups.append(current)
                current, atoms = [], 0
            current.append(position)
            atoms += size
        return groups + [current] if current else groups


def many_evaluator(calculator, policy: BatchPolicy, one: Callable, wanted: Callable,
                   prefix: str, alone: Callable) -> Callable:
    """A function over a chunk's (atoms, context) that returns, per config, its annotation
    or the exception it raised. Configs for which ``alone(atoms)`` holds (their own
    parameters), or that want more than ``BATCHED``, go through ``one``; so does every
    config of a group whose model call failed, so that a bad config fails by itself."""

    def evaluate(items: list) -> list:
        outcomes: list = [None] * len(items)
        grouped = []
        for position, (atoms, context) in enumerate(items):
            try:
                if alone(atoms) or not set(wanted(atoms)) <= BATCHED:
                    outcomes[position] = one(atoms, context)
                else:
                    grouped.append(position)
            except Exception as exc:  # failures are data: kept with the config
                outcomes[position] = exc
        for group in policy.groups([len(items[p][0]) for p in grouped]):
            positions = [grouped[g] for g in group]
            configs = [items[p][0] for p in positions]
            try:
                results = calculator.calculate_many(configs) if len(configs) > 1 else None
            except Exception:  # which config was at fault is for `one` to find out
                results = None
            if results is None:
                for position in positions:
                    outcomes[position] = _one(one, *items[position])
                continue
            for position, atoms, result in zip(positions, configs, results):
                chosen = {name: result[name] for name in wanted(atoms)}
                outcomes[position] = results_annotation(len(atoms), chosen, prefix)
        return outcomes

    return evaluate


def _one(one: Callable, atoms, context):
    try:
        return one(atoms, context)
    except Exception as exc:
        return exc
