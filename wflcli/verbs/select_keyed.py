"""Choosing configs by the value of a key: the top N (most uncertain, highest energy) and
a flat histogram biased by a Boltzmann factor.

Pure numpy over a vector of values, one per config; a key is an expression of the
``wfl filter`` language, evaluated per config by ``key_values``.
"""

from __future__ import annotations

import numpy as np

from wflcli.verbs.expression import Expression, MissingName

_LARGEST_EXPONENT = 690.0  # exp(-690) ~ 1e-300, still a normal float
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")  # numpy's


def key_values(expression: Expression, configs, vector: bool = False
               ) -> tuple[list[int], np.ndarray, dict]:
    """(indices of the configs that have a value, their values, {missing name: count}).
    A value must be one real number (a row of them with ``vector``, the same length in
    every config); anything else is a ValueError naming the config."""
    indices, values, missing = [], [], {}
    for index, atoms in enumerate(configs):
        try:
            with np.errstate(all="ignore"):  # a value that is not finite is reported below
                value = np.asarray(expression.value(atoms))
        except MissingName as exc:
            missing[exc.args[0]] = missing.get(exc.args[0], 0) + 1
            continue
        except (TypeError, ValueError, IndexError, ArithmeticError) as exc:
            raise ValueError(f"config {index}: {exc}") from None
        shape_ok = value.ndim <= 1 if vector else value.size == 1
        if not shape_ok or value.dtype.kind not in "biuf" or \
                (vector and values and np.size(value) != np.size(values[0])):
            wanted = "a row of numbers of one length" if vector else "one number"
            raise ValueError(f"config {index}: {expression.text!r} is not {wanted} "
                             f"(shape {value.shape}, {value.dtype})")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"config {index}: {expression.text!r} is {value}")
        indices.append(index)
        values.append(np.atleast_1d(value).astype(float) if vector else float(value.reshape(())))
    if vector:
        return indices, np.array(values, dtype=float).reshape(len(values), -1), missing
    return indices, np.array(values, dtype=float), missing


def top(values: np.ndarray, count: int, lowest: bool = False) -> list[int]:
    """Positions of the ``count`` largest values (smallest with ``lowest``); ties go to the
    earlier position."""
    order = np.argsort(values if lowest else -values, kind="stable")
    return sorted(order[:count].tolist())


def flat_histogram(values: np.ndarray, count: int, rng, kT: float | None = None,
                   bins="auto") -> list[int]:
    """Positions of ``count`` values spread as evenly as possible over the histogram of
    ``values``, each bin's share scaled by exp(-(centre - lowest centre) / kT) when kT is
    given: bin b gives min(n_b, floor(A w_b)) configs (n_b: its population, w_b: its
    Boltzmann factor) for the smallest A that gives ``count`` in all; of the bins that
    reach their next step at that A, a random few do, so the total is exact. Within a bin
    the configs are drawn at random."""
    values = np.asarray(values, dtype=float)
    count = min(count, len(values))
    if count == 0:
        return []
    populations, edges = np.histogram(values, bins=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    # never quite zero: a bin far up the tail still gives its configs when all are needed
    factors = (np.ones(len(populations)) if not kT else
               np.exp(-np.minimum((centres - centres[0]) / kT, _LARGEST_EXPONENT)))
    factors = np.where(populations > 0, factors, 0.0)

    def quota(scale: float) -> np.ndarray:
        return np.minimum(populations, np.floor(scale * factors)).astype(int)

    low, high = 0.0, 1.0 / factors.max()
    while quota(high).sum() < count:
        low, high = high, 2 * high
    while high - low > 1e-12 * high:
        middle = 0.5 * (low + high)
        low, high = (middle, high) if quota(middle).sum() < count else (low, middle)
    shares, below = quota(high), quota(low)
    stepped = np.flatnonzero(shares > below)
    surplus = int(shares.sum() - count)
    if surplus > 0:
        shares[rng.choice(stepped, size=surplus, replace=False)] -= 1
    bin_of = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(populations) - 1)
    chosen: list[int] = []
    for b in np.flatnonzero(shares):
        chosen.extend(rng.choice(np.flatnonzero(bin_of == b), size=shares[b], replace=False)
                      .tolist())
    return sorted(chosen)
