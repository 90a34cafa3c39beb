"""Parity plots (predicted against reference, one panel per property, coloured by group)
and error histograms, with matplotlib: made to be shown at a group meeting, so axes name
the methods and units as people write them, and each panel carries its RMSE, MAE and N."""

from __future__ import annotations

import numpy as np

from wflcli.verbs.error_metrics import ALL

EV_PER_A3_IN_GPA = 160.21766208

# property -> (title, unit on the axes, factor from wfl error's units, milli-unit of the stats)
_SHOWN = {
    "energy/atom": ("Energy per atom", "eV/atom", 1.0, "meV/atom"),
    "forces": ("Force components", "eV/Å", 1.0, "meV/Å"),
    "stress": ("Stress components", "GPa", EV_PER_A3_IN_GPA, "MPa"),
    "virial/atom": ("Virial per atom", "eV/atom", 1.0, "meV/atom"),
}


def method_name(prefix: str) -> str:
    """``REF_`` -> ``REF``: what the results are called on an axis."""
    return prefix.rstrip("_") or prefix


def parity_plot(properties, path: str, ref: str, pred: str, shift: bool = False) -> None:
    """Write the figure to ``path`` (its extension picks PNG, PDF or SVG). ``shift``: plot
    predicted energies less their mean offset from the references, and say so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: editable in slides

    reference_name, predicted_name = method_name(ref), method_name(pred)
    count = len(properties)
    figure, axes = plt.subplots(2, count, figsize=(4.6 * count, 8.6), squeeze=False)
    groups = _groups(properties)
    colours = {group: f"C{k % 10}" for k, group in enumerate(groups)}
    for column, prop in enumerate(properties):
        title, unit, factor, milli = _SHOWN[prop.name]
        offset = _energy_offset(prop) if shift and prop.name == "energy/atom" else 0.0
        parity, histogram = axes[0][column], axes[1][column]
        everything = [np.asarray(a) * factor for a in prop.arrays(ALL)]
        errors_all = everything[1] - offset - everything[0]
        edges = np.histogram_bin_edges(errors_all, bins=_bin_count(errors_all.size),
                                       range=_span(errors_all))
        for group in _largest_first(prop, groups):  # small groups drawn last, on top
            reference, predicted = (np.asarray(a) * factor for a in prop.arrays(group))
            predicted = predicted - offset
            label = None if group == ALL else str(group)
            parity.scatter(reference, predicted, s=7, alpha=0.7, color=colours[group],
                           label=label, linewidths=0)
            histogram.hist(predicted - reference, bins=edges, histtype="stepfilled",
                           alpha=0.35, color=colours[group])
            histogram.hist(predicted - reference, bins=edges, histtype="step",
                           color=colours[group])
        _diagonal(parity, *everything)
        parity.set_title(title)
        parity.set_xlabel(f"{reference_name} ({unit})")
        parity.set_ylabel(f"{predicted_name} ({unit})"
                          + (f" − {offset * 1000:.3g} m{unit}" if offset else ""))
        parity.text(0.04, 0.96, _stats_text(prop, factor, milli), transform=parity.transAxes,
                    va="top", ha="left", fontsize="small", family="monospace",
                    bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85,
                          "edgecolor": "0.8"})
        histogram.set_xlabel(f"{predicted_name} − {reference_name} ({unit})")
        histogram.set_ylabel("count")
    if len(groups) > 1:  # one legend for the figure, outside the panels
        handles, labels = axes[0][0].get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda k: groups.index(labels[k]))
        figure.legend([handles[k] for k in order], [labels[k] for k in order],
                      loc="upper center", ncol=min(len(groups), 6), frameon=False,
                      markerscale=2.5)
        figure.tight_layout(rect=(0, 0, 1, 0.95))
    else:
        figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _groups(properties) -> list:
    names = []
    for prop in properties:
        names.extend(g for g in prop.values if g != ALL and g not in names)
    return names or [ALL]


def _largest_first(prop, groups) -> list:
    return sorted((g for g in groups if g in prop.values),
                  key=lambda g: -prop.arrays(g)[0].size)


def _energy_offset(prop) -> float:
    reference, predicted = prop.arrays(ALL)
    return float(np.mean(predicted - reference)) if reference.size else 0.0


def _stats_text(prop, factor: float, milli: str) -> str:
    stats = prop.stats(ALL)
    if stats is None:
        return "no data"
    scale = 1000 * factor
    return (f"RMSE {stats.rmse * scale:.3g} {milli}\nMAE  {stats.mae * scale:.3g} {milli}\n"
            f"N    {stats.count}")


def _diagonal(axes, reference: np.ndarray, predicted: np.ndarray) -> None:
    """y = x over both ranges, with equal limits on both axes."""
    if not reference.size:
        return
    low = float(min(reference.min(), predicted.min()))
    high = float(max(reference.max(), predicted.max()))
    pad = 0.04 * (high - low) or 1e-3
    limits = (low - pad, high + pad)
    axes.plot(limits, limits, color="0.3", linewidth=0.8, zorder=0)
    axes.set_xlim(limits)
    axes.set_ylim(limits)
    axes.set_aspect("equal", adjustable="box")


def _bin_count(size: int) -> int:
    return max(5, min(40, size // 5))


def _span(values: np.ndarray) -> tuple[float, float]:
    """The histogram range, widened when all values (nearly) coincide."""
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = 1e-6 * max(abs(low), abs(high), 1e-3)
    return (low - pad, high + pad) if high - low < pad else (low, high)
