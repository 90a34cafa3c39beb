"""``wfl split``: which configs go to the test set, per group of a label (stratified) or
over the whole input, by a seeded random draw or every Kth config."""

from __future__ import annotations

import numpy as np

SPLIT_STREAM = 0x5B117  # the split's own random stream under --seed


def held_out_positions(labels: list, fraction: float, every: int | None, seed: int) -> set[int]:
    """Positions of the configs that go to the test set. ``labels`` holds one group label
    per config (all None: one group); ``fraction`` of each group stays for training, or,
    with ``every``, every Kth config of each group is for testing."""
    groups: dict = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    rng = np.random.default_rng([seed, SPLIT_STREAM])
    to_test: set[int] = set()
    for members in groups.values():
        if every:
            to_test.update(members[every - 1::every])
        else:
            n_train = int(round(fraction * len(members)))
            to_test.update(rng.permutation(members)[n_train:].tolist())
    return to_test
