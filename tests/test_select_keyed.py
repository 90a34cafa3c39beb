"""``wfl select-top``, ``select-flat`` and ``select-hull``, checked against the same
selections computed directly (sorting, histograms, scipy's ConvexHull)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from helpers_data import read_text, write_configs


def pool(count=200, seed=3):
    """Small cells whose info['E'] follows a skewed distribution (most values low, a long
    tail): a histogram far from flat."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        atoms = bulk("Cu", "fcc", a=3.6 + 0.001 * i)
        atoms.info.update(n=i, E=float(rng.gamma(1.5, 1.0)),
                          group=["a", "b", "c"][i % 3])
        configs.append(atoms)
    return configs


def picked(result):
    assert result.code == 0, result.stderr
    return [atoms.info["n"] for atoms in read_text(result.stdout)]


# --- select-top ----------------------------------------------------------------------------

def test_top_n_per_group_and_lowest_equal_sorting(wfl, tmp_path):
    configs = pool(60)
    src = write_configs(tmp_path / "pool.xyz", configs)
    values = {a.info["n"]: a.info["E"] * len(a) for a in configs}
    largest = sorted(values, key=lambda n: -values[n])[:7]
    assert picked(wfl("select-top", "--key", "E * natoms", "-n", 7, src)) == sorted(largest)
    smallest = sorted(values, key=lambda n: values[n])[:4]
    assert picked(wfl("select-top", "--key", "E*natoms", "-n", 4, "--lowest", src)) == \
        sorted(smallest)
    per_group = sorted(n for group in "abc" for n in sorted(
        (m for m in values if configs[m].info["group"] == group), key=lambda m: -values[m])[:3])
    rest = tmp_path / "rest.xyz"
    result = wfl("select-top", "--key", "E", "-n", 3, "--by", "group", "--rest", rest, src)
    assert picked(result) == per_group
    assert sorted(a.info["n"] for a in read_text(rest.read_text())) == \
        sorted(set(values) - set(per_group))


def test_top_leaves_out_failed_and_keyless_configs_and_says_so(wfl, tmp_path):
    configs = pool(10)
    configs[0].info["E"] = 100.0
    configs[0].info["wfl_error"] = {"verb": "calc", "type": "X", "message": "m", "where": ""}
    del configs[1].info["E"]
    src = write_configs(tmp_path / "pool.xyz", configs)
    result = wfl("select-top", "--key", "E", "-n", 20, src)
    assert picked(result) == list(range(2, 10))
    assert "left out 1 config that failed upstream" in result.stderr
    assert "1 configs have no 'E'" in result.stderr


@pytest.mark.parametrize("key, code, message", [
    ("E +", 2, "--key: syntax error"),
    ("__import__('os')", 2, "not a known function"),
    ("positions", 1, "is not one number"),
    ("nosuch + 1", 2, "no config has 'nosuch'"),
    ("log(E - E)", 1, "'log(E - E)' is -inf"),
    ("group", 1, "is not one number"),
])
def test_bad_keys_are_clear_errors(wfl, tmp_path, key, code, message):
    src = write_configs(tmp_path / "pool.xyz", pool(5))
    result = wfl("select-top", "--key", key, "-n", 2, src)
    assert result.code == code and message in result.stderr and not result.stdout


# --- select-flat ---------------------------------------------------------------------------

def entropy(counts):
    """Normalized Shannon entropy of bin occupations: 1 for a flat histogram."""
    p = np.asarray(counts, dtype=float)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum() / np.log(len(counts)))


def test_flat_selection_is_flatter_than_its_input_seeded_and_byte_identical(wfl, tmp_path):
    configs = pool(300)
    src = write_configs(tmp_path / "pool.xyz", configs)
    values = np.array([a.info["E"] for a in configs])
    edges = np.histogram_bin_edges(values, bins=12)
    args = ("select-flat", "--key", "E", "-n", 60, "--bins", 12, src)
    first = wfl("--seed", 5, *args)
    chosen = picked(first)
    assert len(chosen) == 60 == len(set(chosen))
    before = np.histogram(values, edges)[0]
    after = np.histogram(values[chosen], edges)[0]
    # the measure: entropy of the occupations of the input's 12 bins
    assert entropy(after) > entropy(before) + 0.05, (before, after)
    # flat: every bin gives all it has or the same share, give or take one
    level = after[after < before].min(initial=after.max())
    assert all(a == b or level <= a <= level + 1 for a, b in zip(after, before)), after
    assert wfl("--seed", 5, *args).stdout == first.stdout
    assert wfl("--seed", 6, *args).stdout != first.stdout


def test_boltzmann_bias_favours_low_values(wfl, tmp_path):
    configs = pool(300)
    src = write_configs(tmp_path / "pool.xyz", configs)
    values = np.array([a.info["E"] for a in configs])
    flat = values[picked(wfl("select-flat", "--key", "E", "-n", 40, src))]
    biased = values[picked(wfl("select-flat", "--key", "E", "-n", 40, "--kT", 0.5, src))]
    assert biased.mean() < flat.mean() - 0.3


def test_a_tiny_kT_still_gives_n_configs(wfl, tmp_path):
    src = write_configs(tmp_path / "pool.xyz", pool(50))
    result = wfl("select-flat", "--key", "E", "-n", 50, "--kT", 1e-6, src)
    assert sorted(picked(result)) == list(range(50))


def test_bad_bins_are_a_usage_error(wfl, tmp_path):
    src = write_configs(tmp_path / "pool.xyz", pool(5))
    result = wfl("select-flat", "--key", "E", "-n", 2, "--bins", "many", src)
    assert result.code == 2 and "--bins many" in result.stderr


# --- select-hull ---------------------------------------------------------------------------

def alloys(count=40, seed=1, strain=False):
    """Cu-Au cells of random composition and order (and lattice constant), EMT energies."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        atoms = bulk("Cu", "fcc", a=3.8, cubic=True) * (2, 1, 1)
        gold = rng.choice(len(atoms), size=[0, 8][i] if i < 2 else rng.integers(0, 9),
                          replace=False)
        atoms.symbols[gold] = "Au"
        if strain:
            atoms.set_cell(atoms.cell * rng.uniform(0.97, 1.05), scale_atoms=True)
        atoms.rattle(0.02, seed=i)  # no two configs with the same energy
        atoms.calc = EMT()
        atoms.info.update(n=i, REF_energy=atoms.get_potential_energy())
        atoms.calc = None
        configs.append(atoms)
    return configs


def scipy_lower_hull(points):
    """Indices of the vertices of the facets of scipy's hull whose normal points down."""
    from scipy.spatial import ConvexHull

    hull = ConvexHull(points)
    return sorted({int(i) for simplex, eq in zip(hull.simplices, hull.equations)
                   if eq[-2] < -1e-9 for i in simplex})


def test_hull_equals_scipy_and_tolerance_equals_interpolation(wfl, tmp_path):
    configs = alloys()
    src = write_configs(tmp_path / "alloys.xyz", configs)
    x = np.array([a.symbols.count("Au") / len(a) for a in configs])
    e = np.array([a.info["REF_energy"] / len(a) for a in configs])
    vertices = scipy_lower_hull(np.column_stack([x, e]))
    result = wfl("select-hull", "--energy-key", "REF_energy", src)
    assert picked(result) == vertices and 3 <= len(vertices) < len(configs)
    order = sorted(vertices, key=lambda i: x[i])
    above = e - np.interp(x, x[order], e[order])
    within = sorted(np.flatnonzero(above <= 0.02 + 1e-10).tolist())
    assert len(within) > len(vertices)
    assert picked(wfl("select-hull", "--energy-key", "REF_energy", "--tolerance", 0.02,
                      src)) == within


def test_hull_with_volume_equals_scipy_in_three_dimensions(wfl, tmp_path):
    configs = alloys(60, seed=2, strain=True)
    src = write_configs(tmp_path / "alloys.xyz", configs)
    points = np.array([[a.symbols.count("Au") / len(a), a.get_volume() / len(a),
                        a.info["REF_energy"] / len(a)] for a in configs])
    assert picked(wfl("select-hull", "--energy-key", "REF_energy", "--volume", src)) == \
        scipy_lower_hull(points)
    # the same with the composition given as a key
    for atoms in configs:
        atoms.info["x_Au"] = atoms.symbols.count("Au") / len(atoms)
    src = write_configs(tmp_path / "keyed.xyz", configs)
    assert picked(wfl("select-hull", "--energy-key", "REF_energy", "--volume",
                      "--composition-key", "x_Au", src)) == scipy_lower_hull(points)


def test_hull_of_one_composition_is_the_lowest_energy(wfl, tmp_path):
    configs = pool(20)
    src = write_configs(tmp_path / "pool.xyz", configs)
    lowest = int(np.argmin([a.info["E"] for a in configs]))
    assert picked(wfl("select-hull", "--energy-key", "E", src)) == [lowest]
