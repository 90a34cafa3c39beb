"""Phonon band structure along a path of q-points, and the density of states, as PNG."""

from __future__ import annotations

from itertools import pairwise

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def band_plot(phonon, qpoints, labels, path: str, points_per_segment: int = 51) -> None:
    """Frequencies along straight segments joining the q-points in order."""
    plt = _pyplot()
    segments = [np.linspace(a, b, points_per_segment) for a, b in pairwise(qpoints)]
    phonon.run_band_structure(segments)
    bands = phonon.band_structure
    figure, axes = plt.subplots(figsize=(6, 4.5))
    ticks = [0.0]
    for distance, frequency in zip(bands.distances, bands.frequencies):
        axes.plot(distance, frequency, color="tab:blue", linewidth=1)
        ticks.append(float(distance[-1]))
    for tick in ticks:
        axes.axvline(tick, color="grey", linewidth=0.5)
    axes.axhline(0, color="black", linewidth=0.5)
    axes.set_xticks(ticks, labels, fontsize="small")
    axes.set_xlim(ticks[0], ticks[-1])
    axes.set_ylabel("frequency (THz)")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def dos_plot(phonon, mesh: int, path: str) -> None:
    """The total density of states on a mesh x mesh x mesh q-point grid."""
    plt = _pyplot()
    phonon.run_mesh([mesh] * 3, is_gamma_center=True)
    phonon.run_total_dos()
    dos = phonon.total_dos
    figure, axes = plt.subplots(figsize=(6, 4.5))
    axes.plot(dos.frequency_points, dos.dos, color="tab:blue")
    axes.set_xlabel("frequency (THz)")
    axes.set_ylabel("density of states (states/THz)")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
