"""Choosing diverse configs from descriptor rows: CUR leverage scores and farthest points.

Pure numpy on a matrix whose rows are configs. ``excluded`` rows (configs already in a
training set) count towards diversity but are never chosen.
"""

from __future__ import annotations

import numpy as np

MAX_KERNEL_ROWS = 20000  # an n x n kernel beyond this would not fit in memory
CUR_STREAM = 0x5E1EC7  # the stochastic CUR's own random stream under --seed


class KernelTooLarge(ValueError):
    """The kernel a selection asks for would not fit in memory."""


def already_chosen(matrix: np.ndarray, excluded: np.ndarray | None) -> set[int]:
    """Pool rows equal to an excluded row: the same config, never to be picked again."""
    if excluded is None:
        return set()
    return {i for i, row in enumerate(matrix)
            if np.any(np.all(np.isclose(excluded, row, rtol=0, atol=1e-12), axis=1))}


def candidates(matrix: np.ndarray, excluded: np.ndarray | None) -> list[int]:
    """Pool rows that may still be picked: all but those equal to an excluded row."""
    already = already_chosen(matrix, excluded)
    return [i for i in range(len(matrix)) if i not in already]


def choose_per_group(matrix: np.ndarray, excluded: np.ndarray | None, labels: list,
                     pool: list[int], count: int, proportional: bool, choose) -> set[int]:
    """The rows chosen from ``pool``: ``count`` per group of ``labels`` (or, proportional,
    shares of ``count``), each group's by ``choose(rows, share, excluded)``, which returns
    positions within the rows it is given."""
    chosen: set[int] = set()
    for members, share in split_by_group([labels[i] for i in pool], count,
                                         proportional).values():
        members = [pool[m] for m in members]
        if share:
            picks = choose(matrix[members], share, excluded)
            chosen.update(members[p] for p in picks)
    return chosen


def kernel_features(matrix: np.ndarray, exponent: float) -> np.ndarray:
    """Rows to select on: the descriptors themselves (exponent 1), or the rows of the
    dot-product kernel raised to the exponent."""
    if exponent == 1:
        return matrix
    if len(matrix) > MAX_KERNEL_ROWS:
        raise KernelTooLarge(f"a kernel exponent needs the {len(matrix)} x {len(matrix)} kernel; "
                         f"use exponent 1, or select per group (--by)")
    return (matrix @ matrix.T) ** exponent


def cur_chooser(algorithm: str, exponent: float, stochastic: bool, seed: int):
    """``choose(matrix, count, excluded)`` for select-cur: libAtoms wfl's variant, or the
    greedy (or, stochastic, leverage-drawn) CUR on the descriptors or their kernel."""

    def choose(matrix, count, excluded):
        if algorithm == "wfl":
            return cur_wfl(matrix, count, excluded, exponent)
        features = kernel_features(matrix, exponent)
        if excluded is not None and exponent != 1:
            excluded = (excluded @ matrix.T) ** exponent
        if stochastic:
            rng = np.random.default_rng([seed, CUR_STREAM])
            return cur_stochastic(features, count, rng, excluded)
        return cur_deterministic(features, count, excluded)

    return choose


def cur_deterministic(matrix: np.ndarray, count: int, excluded: np.ndarray | None = None):
    """Greedy CUR: pick the row with the top leverage score on the leading singular vector,
    remove its direction from every row, and repeat. Each pick thus lands in a part of the
    space not yet covered (a new cluster before a second pick from an old one)."""
    rows = np.array(matrix, dtype=float)
    if excluded is not None and len(excluded):
        rows = _project_out(rows, excluded)
    gram = rows.T @ rows  # kept up to date below instead of recomputed: O(D^2) per pick
    chosen: list[int] = []
    available = np.ones(len(rows), dtype=bool)
    for _ in range(min(count, len(rows))):
        leading = _leading_eigenvector(gram)
        scores = np.where(available, (rows @ leading) ** 2, -1.0)
        pick = int(np.argmax(scores))
        chosen.append(pick)
        available[pick] = False
        norm = np.linalg.norm(rows[pick])
        if norm > 0:
            d = rows[pick] / norm
            rows -= np.outer(rows @ d, d)
            g = gram @ d  # (I - dd^T) gram (I - dd^T), as a rank-2 update
            gram += np.outer(d, d) * (d @ g) - np.outer(g, d) - np.outer(d, g)
    return chosen


def cur_stochastic(matrix: np.ndarray, count: int, rng, excluded: np.ndarray | None = None):
    """CUR by sampling rows with probability proportional to their leverage scores on the
    leading ``count`` singular vectors, without replacement."""
    rows = np.array(matrix, dtype=float)
    if excluded is not None and len(excluded):
        rows = _project_out(rows, excluded)
    count = min(count, len(rows))
    u, s, _ = np.linalg.svd(rows, full_matrices=False)
    rank = max(1, min(count, int(np.sum(s > s[0] * 1e-10)) if s.size and s[0] > 0 else 1))
    leverage = np.sum(u[:, :rank] ** 2, axis=1)
    leverage = leverage + 1e-300  # rows of zero leverage may still be drawn last
    return sorted(rng.choice(len(rows), size=count, replace=False, p=leverage / leverage.sum())
                  .tolist())


def cur_wfl(matrix: np.ndarray, count: int, excluded: np.ndarray | None = None,
            exponent: float = 1.0) -> list[int]:
    """libAtoms wfl's deterministic CUR, ``CUR_conf_global(stochastic=False)`` (wfl 0.3.5,
    wfl/select/by_descriptor.py), for reproducing a selection made with it: descriptors
    centred (or, with an exponent, the dot-product kernel raised to it and double-
    centred), leverage scores on the leading k = max(1, count // 2) singular vectors
    (at most rank - 1) without deflation, and the ``count`` top scores. Excluded rows
    take part in the decomposition, as wfl's exclude_list does, but are never picked."""
    rows = np.asarray(matrix, dtype=float)
    if excluded is not None and len(excluded):
        rows = np.vstack([rows, excluded])
    if exponent != 1:
        kernel = (rows @ rows.T) ** exponent
        centred = (kernel - kernel.mean(axis=0) - kernel.mean(axis=1)[:, None]
                   + kernel.mean())
    else:
        centred = rows - rows.mean(axis=0)
    u = np.linalg.svd(centred, full_matrices=False)[0]
    k = max(1, min(count // 2, min(centred.shape) - 1))
    scores = np.sum(u[:len(matrix), :k] ** 2, axis=1) / k
    return sorted(np.argsort(-scores, kind="stable")[:min(count, len(matrix))].tolist())


def farthest_points(matrix: np.ndarray, count: int, excluded: np.ndarray | None = None):
    """Greedy farthest point sampling (Euclidean). Starts from the row farthest from the
    mean, or from the excluded rows when given; ties go to the lowest index."""
    rows = np.asarray(matrix, dtype=float)
    if excluded is not None and len(excluded):
        nearest = np.min(np.linalg.norm(rows[:, None, :] - excluded[None, :, :], axis=2),
                         axis=1)
    else:
        nearest = np.full(len(rows), np.inf)
    chosen: list[int] = []
    for _ in range(min(count, len(rows))):
        if np.isinf(nearest).all():
            pick = int(np.argmax(np.linalg.norm(rows - rows.mean(axis=0), axis=1)))
        else:
            pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.linalg.norm(rows - rows[pick], axis=1))
        nearest[chosen] = -1.0
    return chosen


def split_by_group(labels: list, count: int, proportional: bool) -> dict:
    """How many to choose from each group: ``count`` each, or shares of ``count`` in
    proportion to group sizes (largest remainders), in order of first appearance."""
    groups: dict = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    if not proportional:
        return {label: (members, min(count, len(members))) for label, members in groups.items()}
    total = len(labels)
    exact = {label: count * len(members) / total for label, members in groups.items()}
    shares = {label: int(value) for label, value in exact.items()}
    leftover = min(count, total) - sum(shares.values())
    for label in sorted(exact, key=lambda k: (shares[k] - exact[k], list(groups).index(k))):
        if leftover <= 0:
            break
        shares[label] += 1
        leftover -= 1
    return {label: (groups[label], min(shares[label], len(groups[label]))) for label in groups}


def _leading_eigenvector(gram: np.ndarray) -> np.ndarray:
    """The eigenvector of the largest eigenvalue of a symmetric matrix (deterministic)."""
    if len(gram) <= 1000:
        return np.linalg.eigh(gram)[1][:, -1]
    from scipy.sparse.linalg import eigsh

    return eigsh(gram, k=1, which="LA", v0=np.ones(len(gram)))[1][:, 0]


def _project_out(rows: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    basis, r = np.linalg.qr(np.asarray(excluded, dtype=float).T)
    keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, np.abs(r).max())
    basis = basis[:, keep]
    return rows - (rows @ basis) @ basis.T
