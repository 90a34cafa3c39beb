"""Descriptors, selection, filter, split and the stream utilities."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.build import molecule

from helpers_data import rattled_cells, read_text, write_configs
from wflcli.verbs.select import cur_deterministic, farthest_points


def molecules():
    mols = [molecule(name) for name in ("H2O", "CH4", "CH3CH2OH", "C6H6", "NH3")]
    for i, mol in enumerate(mols):
        mol.info["n"] = i
        mol.rattle(0.01, seed=i)
    return mols


# --- descriptor ----------------------------------------------------------------------------

def featomic_reference(atoms, species, local=False):
    """SOAP straight from featomic with the documented defaults, normalized as documented."""
    from featomic import SoapPowerSpectrum
    from featomic.basis import Gto, TensorProduct
    from featomic.cutoff import Cutoff, ShiftedCosine
    from featomic.density import Gaussian
    from metatensor import Labels

    calculator = SoapPowerSpectrum(
        cutoff=Cutoff(radius=5.0, smoothing=ShiftedCosine(width=0.5)),
        density=Gaussian(width=0.5), basis=TensorProduct(max_angular=4, radial=Gto(max_radial=3)))
    keys = Labels(["center_type", "neighbor_1_type", "neighbor_2_type"],
                  np.array([[c, a, b] for c in species for a in species for b in species
                            if a <= b], dtype=np.int32))
    tensor = calculator.compute(atoms, selected_keys=keys)
    block = tensor.keys_to_properties(["neighbor_1_type", "neighbor_2_type"]) \
        .keys_to_samples("center_type").block()
    per_atom = np.zeros((len(atoms), block.values.shape[1]))
    per_atom[np.asarray(block.samples.column("atom"))] = block.values
    per_atom /= np.linalg.norm(per_atom, axis=1, keepdims=True)
    if local:
        return per_atom
    mean = per_atom.mean(axis=0)
    return mean / np.linalg.norm(mean)


def test_soap_agrees_with_featomic(wfl, tmp_path):
    pytest.importorskip("featomic", reason="featomic is the descriptors extra; CI installs it")
    mols = molecules()
    src = write_configs(tmp_path / "mols.xyz", mols)
    result = wfl("descriptor", "--species", "H,C,N,O", src)
    assert result.code == 0, result.stderr
    for mol, out in zip(mols, read_text(result.stdout)):
        assert np.allclose(out.info["soap"], featomic_reference(mol, (1, 6, 7, 8)), atol=1e-12)
    local = read_text(wfl("descriptor", "--local", "--key", "d", src).stdout)
    for mol, out in zip(mols, local):
        assert np.allclose(out.arrays["d"], featomic_reference(mol, (1, 6, 7, 8), local=True),
                           atol=1e-12)


def test_quip_descriptor_agrees_with_quippy(wfl, tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    from quippy.descriptors import Descriptor

    text = "soap cutoff=4 l_max=3 n_max=3 atom_sigma=0.5 n_species=3 species_Z={1 6 8} average=T"
    mols = molecules()[:3]
    result = wfl("descriptor", "--quip", text, write_configs(tmp_path / "m.xyz", mols))
    assert result.code == 0, result.stderr
    for mol, out in zip(mols, read_text(result.stdout)):
        assert np.allclose(out.info["soap"], Descriptor(text).calc(mol)["data"][0])


def test_descriptor_rejects_species_outside_the_list(wfl, tmp_path):
    pytest.importorskip("featomic", reason="featomic is the descriptors extra; CI installs it")
    result = wfl("descriptor", "--species", "H,O", write_configs(tmp_path / "m.xyz", molecules()[:2]))
    assert result.code == 3 and "not in the species list" in result.stderr


# --- CUR and FPS -----------------------------------------------------------------------------

def clusters(sizes, dim=40, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    rows, labels = [], []
    for label, (centre, size) in enumerate(zip(centres, sizes)):
        rows.append(centre + noise * rng.normal(size=(size, dim)))
        labels += [label] * size
    order = rng.permutation(len(labels))
    return np.vstack(rows)[order], np.array(labels)[order]


def test_cur_covers_every_cluster_before_picking_twice():
    matrix, labels = clusters([40, 25, 10, 5, 3, 2])
    picks = cur_deterministic(matrix, 6)
    assert sorted(labels[picks]) == [0, 1, 2, 3, 4, 5]


def numpy_greedy_cur(matrix, count):
    """Reference: at each step a full SVD of the remaining matrix, the row with the top
    leverage score on the leading singular vector, then that row's direction removed."""
    rows = matrix.copy()
    picks = []
    for _ in range(count):
        u, s, vt = np.linalg.svd(rows, full_matrices=False)
        scores = u[:, 0] ** 2
        scores[picks] = -1
        pick = int(np.argmax(scores))
        picks.append(pick)
        direction = rows[pick] / np.linalg.norm(rows[pick])
        rows = rows - np.outer(rows @ direction, direction)
    return picks


def test_deterministic_cur_equals_numpy_leverage_scores():
    matrix = np.random.default_rng(3).normal(size=(60, 12))
    assert cur_deterministic(matrix, 10) == numpy_greedy_cur(matrix, 10)


def brute_force_fps(matrix, count):
    first = max(range(len(matrix)), key=lambda i: (np.linalg.norm(matrix[i] - matrix.mean(0)), -i))
    picks = [first]
    while len(picks) < count:
        def gap(i):
            return min(np.linalg.norm(matrix[i] - matrix[j]) for j in picks)
        rest = [i for i in range(len(matrix)) if i not in picks]
        picks.append(max(rest, key=lambda i: (gap(i), -i)))
    return picks


def test_fps_equals_brute_force():
    matrix = np.random.default_rng(5).normal(size=(50, 6))
    assert farthest_points(matrix, 12) == brute_force_fps(matrix, 12)


def descriptor_pool(tmp_path, matrix, labels=None):
    configs = []
    for i, row in enumerate(matrix):
        atoms = rattled_cells(1, "Cu", (1, 1, 1))[0]
        atoms.info.update(n=i, soap=row)
        if labels is not None:
            atoms.info["config_type"] = f"group{labels[i]}"
        configs.append(atoms)
    return write_configs(tmp_path / "pool.xyz", configs)


def test_select_cur_command(wfl, tmp_path):
    matrix, labels = clusters([12, 8, 5, 3])
    pool = descriptor_pool(tmp_path, matrix)
    result = wfl("select-cur", "-n", "4", pool, "--rest", tmp_path / "rest.xyz")
    assert result.code == 0, result.stderr
    picked = read_text(result.stdout)
    assert sorted(labels[[a.info["n"] for a in picked]]) == [0, 1, 2, 3]
    assert all("soap" not in a.info for a in picked)
    rest = read_text((tmp_path / "rest.xyz").read_text())
    assert sorted(a.info["n"] for a in picked + rest) == list(range(len(matrix)))
    kept = read_text(wfl("select-cur", "-n", "2", "--keep-descriptor", pool).stdout)
    assert all("soap" in a.info for a in kept)


def test_stochastic_cur_is_reproducible_for_a_seed(wfl, tmp_path):
    pool = descriptor_pool(tmp_path, np.random.default_rng(1).normal(size=(40, 8)))
    first = wfl("select-cur", "-n", "6", "--stochastic", pool).stdout
    assert first == wfl("select-cur", "-n", "6", "--stochastic", pool).stdout
    others = {wfl("--seed", str(s), "select-cur", "-n", "6", "--stochastic", pool).stdout
              for s in range(1, 6)}
    assert len(others | {first}) > 1


def test_select_per_group_and_exclude(wfl, tmp_path):
    matrix, labels = clusters([10, 10, 10])
    pool = descriptor_pool(tmp_path, matrix, labels)
    per_group = read_text(wfl("select-fps", "-n", "2", "--by", "config_type", pool).stdout)
    groups = [a.info["config_type"] for a in per_group]
    assert sorted(groups) == ["group0", "group0", "group1", "group1", "group2", "group2"]
    proportional = read_text(wfl("select-cur", "-n", "6", "--by", "config_type",
                                 "--proportional", pool).stdout)
    assert len(proportional) == 6
    # a training set holding one config of cluster 0: that config is never picked again,
    # and the first pick goes to a cluster not covered yet
    train = read_text(pool.read_text())[[int(i) for i in np.flatnonzero(labels == 0)][0]:][:1]
    write_configs(tmp_path / "train.xyz", train)
    picked = read_text(wfl("select-cur", "-n", "2", "--exclude", tmp_path / "train.xyz",
                           pool).stdout)
    assert train[0].info["n"] not in [a.info["n"] for a in picked]
    assert 0 not in labels[[a.info["n"] for a in picked]]


def wfl_reference_cur(columns, count, exclude=(), kernel_exponent=None):
    """libAtoms wfl's CUR_conf_global(stochastic=False), from its definition: descriptors
    as columns, centred over configs (or their dot-product kernel to a power, double-
    centred); scipy's svds for the leading k = min(max(1, count // 2), min(shape) - 1)
    singular vectors; leverage = squared right singular vectors summed, / k; excluded
    configs scored 0; the count top scores."""
    from scipy.sparse.linalg import svds

    if kernel_exponent is not None:
        mat = (columns.T @ columns) ** kernel_exponent
        mat = mat - mat.mean(axis=0)[None, :] - mat.mean(axis=1)[:, None] + mat.mean()
    else:
        mat = columns - columns.mean(axis=1)[:, None]
    k = min(max(1, count // 2), min(mat.shape) - 1)
    _, _, vt = svds(mat, k=k, random_state=0)
    scores = np.sum(vt ** 2, axis=0) / k
    scores[list(exclude)] = 0
    return sorted(np.argsort(scores)[-count:].tolist())


@pytest.mark.parametrize("count, exponent", [(6, None), (9, None), (5, 2.0)])
def test_wfl_cur_equals_the_reference_and_differs_from_greedy(wfl, tmp_path, count, exponent):
    matrix, _ = clusters([30, 12, 6, 3, 2])
    pool = descriptor_pool(tmp_path, matrix)
    args = ["--kernel-exponent", str(exponent)] if exponent else []
    result = wfl("select-cur", "-n", count, "--algorithm", "wfl", *args, pool)
    assert result.code == 0, result.stderr
    chosen = [a.info["n"] for a in read_text(result.stdout)]
    assert chosen == wfl_reference_cur(matrix.T, count, kernel_exponent=exponent)
    greedy = [a.info["n"] for a in read_text(wfl("select-cur", "-n", count, *args,
                                                  pool).stdout)]
    assert chosen != greedy


def test_wfl_cur_with_exclude_equals_the_reference(wfl, tmp_path):
    matrix, _ = clusters([20, 10, 6, 4])
    configs = read_text(descriptor_pool(tmp_path, matrix).read_text())
    excluded = [3, 17, 25]
    write_configs(tmp_path / "train.xyz", [configs[i] for i in excluded])
    pool = write_configs(tmp_path / "rest.xyz", [a for i, a in enumerate(configs)
                                                if i not in excluded])
    result = wfl("select-cur", "-n", 6, "--algorithm", "wfl", "--exclude",
                 tmp_path / "train.xyz", pool)
    assert result.code == 0, result.stderr
    # wfl: the excluded configs are in its input, scored 0
    assert [a.info["n"] for a in read_text(result.stdout)] == \
        wfl_reference_cur(matrix.T, 6, exclude=excluded)
    both = wfl("select-cur", "-n", 6, "--algorithm", "wfl", "--stochastic", pool)
    assert both.code == 2 and "deterministic" in both.stderr


@pytest.mark.parametrize("verb", ["select-cur", "select-fps"])
def test_configs_that_failed_upstream_are_left_out(wfl, tmp_path, verb):
    matrix, _ = clusters([6, 4])
    configs = read_text(descriptor_pool(tmp_path, matrix).read_text())
    configs[0].info["wfl_error"] = {"verb": "calc", "type": "X", "message": "m", "where": ""}
    pool = write_configs(tmp_path / "failed.xyz", configs)
    result = wfl(verb, "-n", len(configs), pool)
    assert result.code == 0, result.stderr
    assert [a.info["n"] for a in read_text(result.stdout)] == list(range(1, len(configs)))
    assert f"wfl {verb}: left out 1 config that failed upstream" in result.stderr


def test_select_computes_soap_when_absent(wfl, tmp_path):
    pytest.importorskip("featomic", reason="featomic is the descriptors extra; CI installs it")
    result = wfl("select-cur", "-n", "2", write_configs(tmp_path / "m.xyz", molecules()))
    assert result.code == 0, result.stderr
    assert len(read_text(result.stdout)) == 2


# --- filter ------------------------------------------------------------------------------

@pytest.fixture
def labelled(tmp_path):
    configs = rattled_cells(6, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info.update(config_type="md" if i % 2 else "opt", REF_energy=-1.0 * i)
        atoms.arrays["REF_forces"] = np.full((4, 3), float(i))
    return write_configs(tmp_path / "in.xyz", configs)


@pytest.mark.parametrize("expression,kept", [
    ('config_type == "md"', [1, 3, 5]),
    ("max(norm(REF_forces)) < 5 and natoms <= 50", [0, 1, 2]),
    ("REF_energy / natoms <= -1", [4, 5]),
    ('config_type in ("opt", "x") or REF_energy < -4.5', [0, 2, 4, 5]),
    ("not REF_forces[0][0] >= 2", [0, 1]),
    ("abs(REF_energy) ** 2 > 10 and volume > 40", [4, 5]),
    ("1 < -REF_energy < 4", [2, 3]),
])
def test_filter_grammar(wfl, labelled, expression, kept):
    result = wfl("filter", expression, labelled)
    assert result.code == 0, result.stderr
    assert [round(-a.info["REF_energy"]) for a in read_text(result.stdout)] == kept


@pytest.mark.parametrize("expression", [
    "__import__('os').system('echo hacked')", "REF_forces.sum()", "open('/etc/passwd')",
    "eval('1')", "[x for x in REF_forces]", "(lambda: 1)()", "max(REF_forces, key=abs)",
    "config_type = 'md'", "natoms >",
])
def test_filter_rejects_what_is_not_in_the_language(wfl, labelled, expression):
    result = wfl("filter", expression, labelled)
    assert result.code == 2 and "filter expression" in result.stderr
    assert "hacked" not in result.stdout + result.stderr


def test_filter_positions_the_fault(wfl, labelled):
    assert "at column 16" in wfl("filter", "natoms < 3 and x.y", labelled).stderr
    assert "syntax error" in wfl("filter", "natoms < (3", labelled).stderr


def test_filter_missing_names_invert_and_rejected(wfl, labelled, tmp_path):
    result = wfl("filter", "nosuch > 1", labelled)
    assert result.stdout == "" and "6 configs have no 'nosuch'" in result.stderr
    inverted = read_text(wfl("filter", "--invert", 'config_type == "md"', labelled).stdout)
    assert [a.info["config_type"] for a in inverted] == ["opt"] * 3
    wfl("filter", 'config_type == "md"', labelled, "--rejected", tmp_path / "r.xyz")
    assert len(read_text((tmp_path / "r.xyz").read_text())) == 3


# --- split and stream utilities -----------------------------------------------------------

@pytest.mark.parametrize("args", [["--fraction", "0.7"], ["--every", "3"],
                                  ["--fraction", "0.5", "--by", "config_type"]])
def test_split_is_disjoint_and_complete(wfl, labelled, tmp_path, args):
    result = wfl("split", *args, "--train", tmp_path / "a.xyz", "--test", tmp_path / "b.xyz",
                 labelled)
    assert result.code == 0, result.stderr
    train = [a.info["REF_energy"] for a in read_text((tmp_path / "a.xyz").read_text())]
    test = [a.info["REF_energy"] for a in read_text((tmp_path / "b.xyz").read_text())]
    assert not set(train) & set(test)
    assert sorted(train + test) == sorted(-1.0 * i for i in range(6))
    assert train == sorted(train, reverse=True) and test == sorted(test, reverse=True)
    if "--every" in args:
        assert test == [-2.0, -5.0]
    if "--by" in args:
        kinds = [a.info["config_type"] for a in read_text((tmp_path / "b.xyz").read_text())]
        assert sorted(kinds) in (["md", "opt"], ["md", "md", "opt", "opt"])


def test_split_and_group_choice_run_without_click():
    from wflcli.verbs.select import candidates, choose_per_group
    from wflcli.verbs.split import held_out_positions

    labels = ["a"] * 10 + ["b"] * 5
    assert held_out_positions(labels, 0.5, 3, seed=1) == {2, 5, 8, 12}
    held = held_out_positions(labels, 0.8, None, seed=1)
    assert len(held & set(range(10))) == 2 and len(held - set(range(10))) == 1
    assert held == held_out_positions(labels, 0.8, None, seed=1)
    matrix = np.arange(12.0).reshape(6, 2)
    pool = candidates(matrix, matrix[[0]])
    assert pool == [1, 2, 3, 4, 5]
    first_two = choose_per_group(matrix, None, list("xxxyyy"), pool, 2, False,
                                 lambda rows, share, excluded: list(range(share)))
    assert first_two == {1, 2, 3, 4}


def test_cat_head_count_info(wfl, labelled, tmp_path):
    import ase.io
    from ase.stress import voigt_6_to_full_3x3_stress

    both = wfl("cat", labelled, labelled)
    assert len(read_text(both.stdout)) == 12
    assert len(read_text(wfl("head", "-n", "2", labelled).stdout)) == 2
    counted = json.loads(wfl("count", "--json", labelled).stdout)
    assert counted == {"configs": 6, "atoms": 24, "species": {"Cu": 24},
                       "config_type": {"md": 3, "opt": 3}}
    table = wfl("info", "-k", "config_type,REF_energy", "-k", "natoms", labelled).stdout
    assert table.splitlines()[:3] == ["config_type\tREF_energy\tnatoms", "opt\t-0.0\t4",
                                      "md\t-1.0\t4"]
    traj = tmp_path / "t.traj"
    from ase.calculators.emt import EMT

    frames = rattled_cells(2, "Cu", (1, 1, 1))
    for atoms in frames:
        atoms.calc = EMT()
        atoms.get_potential_energy()
    ase.io.write(traj, frames)
    converted = read_text(wfl("cat", "-f", "traj", traj).stdout)
    assert converted[1].info["energy"] == pytest.approx(frames[1].get_potential_energy())
    assert np.allclose(converted[1].info["stress"],  # written as 3x3, as ASE does
                       voigt_6_to_full_3x3_stress(frames[1].get_stress()))
