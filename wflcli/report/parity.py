"""Parity plots (predicted against reference, one panel per property, coloured by group)
and error histograms, with matplotlib."""

from __future__ import annotations

import numpy as np

from wflcli.verbs.errors import ALL


def parity_plot(properties, path: str, ref: str, pred: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(properties)
    figure, axes = plt.subplots(2, count, figsize=(4.2 * count, 8), squeeze=False)
    for column, prop in enumerate(properties):
        parity, histogram = axes[0][column], axes[1][column]
        groups = [g for g in prop.values if g != ALL] or [ALL]
        all_reference, all_predicted = prop.arrays(ALL)
        span = _span(all_predicted - all_reference)  # the same bins for every group
        bins = max(5, min(40, all_reference.size // 5))
        for group in groups:
            reference, predicted = prop.arrays(group)
            label = None if group == ALL else str(group)
            parity.scatter(reference, predicted, s=6, alpha=0.6, label=label)
            errors = predicted - reference
            histogram.hist(errors, bins=bins, range=span, alpha=0.6, label=label)
        if all_reference.size:
            low = float(min(all_reference.min(), all_predicted.min()))
            high = float(max(all_reference.max(), all_predicted.max()))
            parity.plot([low, high], [low, high], color="black", linewidth=0.8)
        stats = prop.stats(ALL)
        parity.set_title(f"{prop.name}: RMSE {stats.rmse:.3g} {prop.unit}" if stats
                         else prop.name)
        parity.set_xlabel(f"{ref} ({prop.unit})")
        parity.set_ylabel(f"{pred} ({prop.unit})")
        histogram.set_xlabel(f"{pred} - {ref} ({prop.unit})")
        histogram.set_ylabel("count")
        if len(groups) > 1:
            parity.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _span(values: np.ndarray) -> tuple[float, float]:
    """The histogram range, widened when all values (nearly) coincide."""
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = 1e-6 * max(abs(low), abs(high), 1e-3)
    return (low - pad, high + pad) if high - low < pad else (low, high)
