"""Generators of training structures: dimers, supercells, defects and surfaces, each checked
against ASE called directly, for determinism under --parallel, the cache and --seed."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from ase.build import bulk

from helpers_data import read_text, write_configs
from helpers_wfl import wfl_program

from wflcli.exec import task as task_module


def same_under_parallel(tmp_path, *args, input=None, **kwargs):
    """stdout of a serial run, after checking that --parallel 2 (one config a chunk) writes
    the same bytes."""
    env = dict(os.environ, WFLCLI_HOME=str(tmp_path / "parallel-home"))
    serial = wfl_program("--no-cache", *args, input=input, env=env, **kwargs)
    parallel = wfl_program("--no-cache", "--parallel", "2", "--chunk", "1", *args, input=input,
                           env=env, **kwargs)
    assert serial.returncode == 0, serial.stderr.decode()
    assert parallel.returncode == 0, parallel.stderr.decode()
    assert parallel.stdout == serial.stdout
    return serial.stdout


def served_from_cache(wfl, monkeypatch, task_class, *args, input=None):
    """Run twice; the second time the task cannot start, so its output must come from the
    cache."""
    first = wfl(*args, input=input)
    assert first.code == 0, first.stderr

    def cannot_start(self):
        raise AssertionError("computed again instead of served from the cache")

    monkeypatch.setattr(task_class, "start", cannot_start)
    monkeypatch.setattr(task_module, "_started", {})
    second = wfl(*args, input=input)
    assert second.code == 0, second.stderr
    assert second.stdout == first.stdout


# --- dimers ---------------------------------------------------------------------------------

def test_dimers_cover_every_pair_at_exact_distances(wfl):
    result = wfl("dimers", "H", "C", "O", "--range", "0.5:5.0", "--step", "0.05")
    assert result.code == 0, result.stderr
    dimers = read_text(result.stdout)
    grid = [round(0.5 + 0.05 * k, 12) for k in range(91)]
    pairs = ["H-H", "H-C", "H-O", "C-C", "C-O", "O-O"]
    assert [d.info["dimer_pair"] for d in dimers] == [p for p in pairs for _ in grid]
    assert [d.info["dimer_distance"] for d in dimers] == grid * len(pairs)
    for d in dimers:
        assert d.get_distance(0, 1) == d.info["dimer_distance"]
        assert "-".join(d.get_chemical_symbols()) == d.info["dimer_pair"]
        assert d.info["config_type"] == "dimer" and not d.pbc.any()
    assert dimers[-1].info["dimer_distance"] == 5.0


def test_dimers_relative_to_covalent_radii_in_a_box(wfl):
    from ase.data import atomic_numbers, covalent_radii

    result = wfl("dimers", "--pairs", "C-O,H-H", "--relative", "--range", "0.8:1.2",
                 "--step", "0.2", "--box", "15")
    dimers = read_text(result.stdout)
    assert [d.info["dimer_pair"] for d in dimers] == ["C-O"] * 3 + ["H-H"] * 3
    for d in dimers:
        a, b = (atomic_numbers[s] for s in d.get_chemical_symbols())
        expected = d.info["dimer_relative_distance"] * (covalent_radii[a] + covalent_radii[b])
        assert d.info["dimer_distance"] == pytest.approx(expected, abs=1e-14)
        assert d.get_distance(0, 1) == pytest.approx(d.info["dimer_distance"], abs=1e-12)
        assert np.allclose(d.positions.mean(axis=0), 7.5) and np.allclose(d.cell.lengths(), 15)
    assert [d.info["dimer_relative_distance"] for d in dimers[:3]] == [0.8, 1.0, 1.2]


@pytest.mark.parametrize("args, message", [
    (["--pairs", "H-"], "pair 'H-' does not name two elements"),
    (["--pairs", "H-Xx"], "unknown element 'Xx'"),
    (["H", "--pairs", "C-O"], "pair C-O names an element not among the SPECIES"),
    ([], "name the SPECIES, or the --pairs"),
    (["H", "--range", "3:1"], "need 0 < START <= STOP"),
    (["H", "--range", "5", "--box", "4"], "is not like 0.5:5.0"),
    (["H", "--box", "4"], "--box 4 is not larger than the longest distance"),
])
def test_dimers_bad_input_is_a_usage_error(wfl, args, message):
    result = wfl("dimers", *args)
    assert result.code == 2 and message in result.stderr and result.stdout == ""


def test_dimers_parallel_and_cache(wfl, tmp_path, monkeypatch):
    from wflcli.verbs.dimers import DimerTask

    args = ["dimers", "H", "C", "O", "--step", "0.5"]
    assert len(read_text(same_under_parallel(tmp_path, *args))) == 6 * 10
    served_from_cache(wfl, monkeypatch, DimerTask, *args)


# --- supercells -----------------------------------------------------------------------------

def test_supercell_is_the_largest_cube_under_the_limit(wfl, tmp_path):
    src = write_configs(tmp_path / "prim.xyz", [bulk("Cu"), bulk("NaCl", "rocksalt", a=5.64),
                                                bulk("Si", cubic=True)])
    result = wfl("supercell", "--max-atoms", "70", src)
    assert result.code == 0, result.stderr
    cells = read_text(result.stdout)
    assert [len(c) for c in cells] == [32, 64, 64]
    for cell, a in zip(cells, [3.61, 5.64, 5.43]):
        assert np.allclose(cell.cell.cellpar(), [2 * a] * 3 + [90] * 3)
        assert cell.info["supercell_deviation"] < 1e-12
    matrix = cells[0].info["supercell_matrix"].reshape(3, 3)
    assert np.allclose(matrix @ bulk("Cu").cell.array, cells[0].cell.array)
    assert cells[2].info["supercell_matrix"].tolist() == [2, 0, 0, 0, 2, 0, 0, 0, 2]


def test_supercell_of_a_non_cubic_cell_and_bad_inputs(wfl, tmp_path):
    from ase import Atoms
    from ase.build import make_supercell

    ti = bulk("Ti", "hcp", a=2.95, c=4.68)
    src = write_configs(tmp_path / "in.xyz", [ti, Atoms("H2", [[0, 0, 0], [0, 0, 0.7]]),
                                              bulk("Cu", cubic=True)])
    result = wfl("supercell", "-N", "40", src)
    assert result.code == 3
    hcp, molecule, cu = read_text(result.stdout)
    assert len(hcp) <= 40
    expected = make_supercell(ti, hcp.info["supercell_matrix"].reshape(3, 3))
    assert np.allclose(hcp.positions, expected.positions)
    assert "needs a periodic cell" in molecule.info["wfl_error"]["message"]
    assert len(cu) == 32
    small = wfl("supercell", "-N", "3", write_configs(tmp_path / "cu.xyz", [cu]))
    assert small.code == 3 and "the input has 32 atoms, more than --max-atoms 3" in small.stderr


@pytest.mark.slow
def test_supercell_parallel_and_cache(wfl, tmp_path, monkeypatch):
    from wflcli.verbs.supercell import SupercellTask

    src = write_configs(tmp_path / "prim.xyz", [bulk("Cu"), bulk("Al"), bulk("Fe")])
    same_under_parallel(tmp_path, "supercell", "-N", "20", src)
    served_from_cache(wfl, monkeypatch, SupercellTask, "supercell", "-N", "20", src)


# --- defects --------------------------------------------------------------------------------

@pytest.fixture
def nacl(tmp_path):
    return write_configs(tmp_path / "nacl.xyz", [bulk("NaCl", "rocksalt", a=5.64, cubic=True)
                                                 * (2, 2, 2)])


def test_vacancies_remove_the_atoms_they_name(wfl, nacl):
    (perfect,) = read_text(nacl.read_text())
    result = wfl("defects", "--kind", "vacancy", "-n", "5", "--count", "3", nacl)
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    assert [c.info["defect_copy"] for c in out] == list(range(5))
    for config in out:
        removed = config.info["defect_atoms"]
        assert config.info["defect"] == "vacancy" and len(set(removed)) == 3
        kept = [i for i in range(len(perfect)) if i not in removed]
        assert np.array_equal(config.positions, perfect.positions[kept])
        assert config.get_chemical_symbols() == [perfect.get_chemical_symbols()[i] for i in kept]
    assert len({tuple(c.info["defect_atoms"]) for c in out}) > 1


def test_antisites_swap_species_and_keep_the_composition(wfl, nacl):
    (perfect,) = read_text(nacl.read_text())
    out = read_text(wfl("defects", "--kind", "antisite", "-n", "3", "--count", "2",
                        nacl).stdout)
    for config in out:
        assert Counter(config.numbers) == Counter(perfect.numbers)
        changed = np.flatnonzero(config.numbers != perfect.numbers)
        assert sorted(changed) == sorted(config.info["defect_atoms"]) and len(changed) == 4
        assert np.array_equal(config.positions, perfect.positions)


def test_interstitials_respect_the_minimum_distance(wfl, nacl):
    from ase.geometry import get_distances

    (perfect,) = read_text(nacl.read_text())
    out = read_text(wfl("defects", "--kind", "interstitial", "--element", "H", "-n", "4",
                        "--count", "2", "--min-distance", "1.2", nacl).stdout)
    for config in out:
        assert len(config) == len(perfect) + 2
        assert config.get_chemical_symbols()[-2:] == ["H", "H"]
        assert list(config.info["defect_atoms"]) == [len(perfect), len(perfect) + 1]
        for index in config.info["defect_atoms"]:
            others = [i for i in range(len(config)) if i != index]
            _, distances = get_distances(config.positions[index], config.positions[others],
                                         cell=config.cell, pbc=True)
            assert distances.min() >= 1.2


def test_surface_slab_equals_ase_surface(wfl, tmp_path):
    from ase.build import surface

    cu = bulk("Cu", cubic=True)
    src = write_configs(tmp_path / "cu.xyz", [cu])
    result = wfl("defects", "--kind", "surface", "--miller", "1,1,1", "--layers", "3",
                 "--vacuum", "8", src)
    (slab,) = read_text(result.stdout)
    expected = surface(cu, (1, 1, 1), 3, vacuum=8, periodic=True)
    assert np.allclose(slab.positions, expected.positions)
    assert np.allclose(slab.cell.array, expected.cell.array)
    assert slab.info["miller"].tolist() == [1, 1, 1] and slab.info["defect"] == "surface"
    assert slab.pbc.tolist() == [True, True, False]


def test_defects_that_cannot_be_made_fail_with_the_reason(wfl, tmp_path, nacl):
    cu = write_configs(tmp_path / "cu.xyz", [bulk("Cu", cubic=True)])
    cases = [(["--kind", "antisite", cu], "antisites need at least two species"),
             (["--kind", "vacancy", "--count", "4", cu], "cannot remove 4 of 4 atoms"),
             (["--kind", "interstitial", "--min-distance", "3", cu], "no room for an interstitial")]
    for args, message in cases:
        result = wfl("defects", *args)
        assert result.code == 3 and message in result.stderr
        assert message in read_text(result.stdout)[0].info["wfl_error"]["message"]
    assert wfl("defects", "--kind", "surface", "--miller", "0,0,0", cu).code == 2
    assert wfl("defects", "--kind", "interstitial", "--element", "Q", cu).code == 2


def test_defects_parallel_seed_and_cache(wfl, tmp_path, monkeypatch):
    from wflcli.verbs.defects import DefectTask

    cells = [bulk("NaCl", "rocksalt", a=a, cubic=True) for a in (5.5, 5.6, 5.7)]
    src = write_configs(tmp_path / "in.xyz", cells)
    args = ["defects", "--kind", "interstitial", "-n", "3", src]
    first = same_under_parallel(tmp_path, *args)
    other_seed = wfl_program("--no-cache", "--seed", "5", *args)
    assert other_seed.returncode == 0 and other_seed.stdout != first
    served_from_cache(wfl, monkeypatch, DefectTask, *args)


# --- nudged elastic band --------------------------------------------------------------------

def hop_endpoints():
    """An Au adatom on Al(100) in two neighbouring hollow sites, both relaxed with EMT."""
    from ase.build import add_adsorbate, fcc100
    from ase.calculators.emt import EMT
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    slab = fcc100("Al", size=(2, 2, 3))
    add_adsorbate(slab, "Au", 1.7, "hollow")
    slab.center(axis=2, vacuum=4.0)
    del slab.info["adsorbate_info"]
    slab.set_constraint(FixAtoms(mask=[atom.tag > 1 for atom in slab]))
    final = slab.copy()
    final.positions[-1, 0] += slab.cell[0, 0] / 2
    ends = []
    for end in (slab, final):
        end.calc = EMT()
        BFGS(end, logfile=None).run(fmax=0.05)
        end.calc = None
        ends.append(end)
    return ends


def test_neb_barrier_equals_ase_neb(wfl, tmp_path):
    from ase.calculators.emt import EMT
    from ase.mep import NEB
    from ase.optimize import FIRE

    initial, final = hop_endpoints()
    src = write_configs(tmp_path / "ends.xyz", [initial, final])
    result = wfl("neb", "--calc", "emt", "--images", "3", "--climb", "--fmax", "0.05", src)
    assert result.code == 0, result.stderr
    band = read_text(result.stdout)
    (initial, final) = read_text(src.read_text())  # the endpoints as wfl read them
    images = [initial] + [initial.copy() for _ in range(3)] + [final]
    for image in images:
        image.calc = EMT()
    neb = NEB(images, k=0.1, climb=True, method="improvedtangent")
    neb.interpolate()
    FIRE(neb, logfile=None).run(fmax=0.05, steps=1000)
    expected = [image.get_potential_energy() for image in images]
    assert [b.info["neb_image"] for b in band] == list(range(5))
    energies = [b.info["emt_energy"] for b in band]
    assert np.allclose(energies, expected, rtol=0, atol=1e-6)
    barrier = max(expected) - expected[0]
    assert all(abs(b.info["neb_barrier"] - barrier) < 1e-6 for b in band)
    assert 0.1 < barrier < 1.0 and band[0].info["neb_converged"]
    assert np.allclose(band[2].positions, images[2].positions, atol=1e-8)
    assert band[2].constraints and len(band[2].constraints[0].index) == 8


def test_neb_pairs_by_key_and_bad_pairs_fail_with_the_reason(wfl, tmp_path):
    from ase.build import molecule

    initial, final = hop_endpoints()
    for end in (initial, final):
        end.info["path"] = "hop"
    water = molecule("H2O")
    water.info["path"] = "lonely"
    src = write_configs(tmp_path / "ends.xyz", [initial, water, final])
    result = wfl("neb", "--calc", "emt", "--images", "1", "--steps", "5", "--by", "path", src)
    assert result.code == 3
    out = read_text(result.stdout)
    assert len(out) == 4 and [b.info.get("neb_image") for b in out[:3]] == [0, 1, 2]
    assert "path=lonely has 1 configs; a band needs two endpoints" in result.stderr
    consecutive = wfl("neb", "--calc", "emt", "--images", "1", "--steps", "5", src)
    assert consecutive.code == 3
    assert "the endpoints have different atoms" in consecutive.stderr
    assert "an odd number of endpoints" in consecutive.stderr


@pytest.mark.slow
def test_neb_parallel_and_cache(wfl, tmp_path, monkeypatch):
    from wflcli.verbs.neb import NebTask

    initial, final = hop_endpoints()
    src = write_configs(tmp_path / "ends.xyz", [initial, final, final, initial])
    args = ["neb", "--calc", "emt", "--images", "2", "--steps", "20", src]
    bands = read_text(same_under_parallel(tmp_path, *args))
    assert len(bands) == 8
    assert bands[0].info["neb_barrier"] == pytest.approx(bands[4].info["neb_reverse_barrier"])
    served_from_cache(wfl, monkeypatch, NebTask, *args)


# --- phonons --------------------------------------------------------------------------------

def phonopy_frequencies_directly(unitcell, qpoints):
    """EMT Cu phonons with phonopy's own API: the reference for wfl phonons."""
    from ase import Atoms
    from ase.calculators.emt import EMT
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    phonon = Phonopy(PhonopyAtoms(symbols=unitcell.get_chemical_symbols(),
                                  cell=unitcell.cell.array,
                                  scaled_positions=unitcell.get_scaled_positions()),
                     supercell_matrix=np.diag([2, 2, 2]), primitive_matrix="auto")
    phonon.generate_displacements(distance=0.01)
    forces = []
    for cell in phonon.supercells_with_displacements:
        atoms = Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                      pbc=True)
        atoms.calc = EMT()
        forces.append(atoms.get_forces())
    phonon.forces = forces
    phonon.produce_force_constants()
    phonon.run_qpoints(qpoints)
    return phonon, phonon.qpoints.frequencies


def frequency_table(path):
    rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
    table: dict = {}
    for name, q, band, value in rows:
        table.setdefault((name, q), []).append((int(band), float(value)))
    return {key: [v for _, v in sorted(values)] for key, values in table.items()}


def test_phonon_frequencies_equal_phonopy_api(wfl, tmp_path):
    pytest.importorskip("phonopy", reason="phonopy is the phonons extra; CI installs it")
    unitcell = bulk("Cu", "fcc", a=3.61)
    src = write_configs(tmp_path / "cu.xyz", [unitcell])
    displaced = wfl("phonons", "displace", "--supercell", "2x2x2", "--amplitude", "0.01", src)
    assert displaced.code == 0, displaced.stderr
    labelled = wfl("calc", "--calc", "emt", "--prefix", "REF_", input=displaced.stdout)
    folder = tmp_path / "ph"
    collected = wfl("phonons", "collect", "--q", "0,0,0", "--q", "0.5,0,0.5", "-d", folder,
                    input=labelled.stdout)
    assert collected.code == 0, collected.stderr
    (fc_cell,) = read_text(collected.stdout)
    phonon, expected = phonopy_frequencies_directly(unitcell, [[0, 0, 0], [0.5, 0, 0.5]])
    table = frequency_table(folder / "frequencies.tsv")
    name = fc_cell.info["phonon_name"]
    assert np.abs(np.array(table[(name, "0,0,0")]) - expected[0]).max() < 1e-6
    assert np.abs(np.array(table[(name, "0.5,0,0.5")]) - expected[1]).max() < 1e-6
    assert 5 < max(expected[1]) < 9  # X point of Cu: a few THz
    assert np.allclose(fc_cell.arrays["phonon_force_constants"].reshape(8, 8, 3, 3),
                       phonon.force_constants, rtol=0, atol=1e-9)
    for suffix in ("phonopy.yaml", "band.png", "dos.png"):
        assert (folder / f"{name}-{suffix}").stat().st_size > 1000


@pytest.mark.slow
def test_phonon_samples_are_thermal_seeded_and_parallel_safe(wfl, tmp_path,
                                                             monkeypatch):
    pytest.importorskip("phonopy", reason="phonopy is the phonons extra; CI installs it")
    from wflcli.verbs.phonons import SampleTask

    src = write_configs(tmp_path / "cells.xyz", [bulk("Cu", a=3.61), bulk("Al", a=4.05)])
    displaced = same_under_parallel(tmp_path, "phonons", "displace", src)
    labelled = wfl("calc", "--calc", "emt", input=displaced)
    collected = wfl("phonons", "collect", "-d", tmp_path / "ph", input=labelled.stdout)
    assert collected.code == 0, collected.stderr
    fc = write_configs(tmp_path / "fc.xyz", read_text(collected.stdout))
    args = ["phonons", "sample", "-T", "300", "-n", "30", fc]
    out = read_text(same_under_parallel(tmp_path, *args))
    assert len(out) == 60 and [s.info["phonon_sample"] for s in out[:30]] == list(range(30))
    perfect = read_text(fc.read_text())
    hot = read_text(wfl("phonons", "sample", "-T", "1200", "-n", "30", fc).stdout)
    spread = [np.std(s.positions - perfect[0].positions) for s in out[:30]]
    hot_spread = [np.std(s.positions - perfect[0].positions) for s in hot[:30]]
    assert 0.02 < np.mean(spread) < 0.2  # Cu at 300 K: about a tenth of an angstrom
    assert np.mean(hot_spread) == pytest.approx(2 * np.mean(spread), rel=0.25)  # sqrt(T)
    other_seed = wfl("--seed", "3", *args)
    assert other_seed.stdout != wfl(*args).stdout
    served_from_cache(wfl, monkeypatch, SampleTask, *args)


def test_phonons_bad_input(wfl, tmp_path):
    pytest.importorskip("phonopy", reason="phonopy is the phonons extra; CI installs it")
    from ase import Atoms

    dummy = Atoms("X", cell=[3, 3, 3], pbc=True)
    src = write_configs(tmp_path / "bad.xyz", [dummy, Atoms("H2", [[0, 0, 0], [0, 0, 0.7]]),
                                               bulk("Cu")])
    result = wfl("phonons", "displace", src)
    assert result.code == 3
    assert "phonopy rejects this structure: Invalid symbol: X" in result.stderr
    assert "phonons need a periodic cell" in result.stderr
    displaced = read_text(result.stdout)
    cu = [a for a in displaced if "phonon_id" in a.info]
    assert len(cu) == 1 and len(cu[0]) == 8
    part = write_configs(tmp_path / "part.xyz", cu)
    unlabelled = wfl("phonons", "collect", "--forces", "REF_forces", "-d", tmp_path / "d", part)
    assert unlabelled.code == 1 and "no arrays['REF_forces']" in unlabelled.stderr
    half = write_configs(tmp_path / "half.xyz", read_text(
        wfl("phonons", "displace", write_configs(tmp_path / "nacl.xyz", [
            bulk("NaCl", "rocksalt", a=5.64)])).stdout)[:1])
    incomplete = wfl("phonons", "collect", "--forces", "REF_forces", "-d", tmp_path / "d", half)
    assert incomplete.code == 1 and "1 of 2 displaced supercells (missing: [1])" in \
        incomplete.stderr
    labelled = wfl("calc", "--calc", "emt", input=result.stdout)
    collected = wfl("phonons", "collect", "-d", tmp_path / "d2", input=labelled.stdout)
    assert collected.code == 0 and "left out 2 configs that failed upstream" in collected.stderr
    assert wfl("phonons", "collect", src).code == 1
    remote = wfl("--remote", "anywhere", "phonons", "collect", part)
    assert remote.code == 2 and "wfl phonons collect runs here" in remote.stderr
    assert wfl("phonons", "sample", "-T", "300", part).code == 3
    assert wfl("phonons", "displace", "--supercell", "2x0x2", src).code == 2


# --- --remote -------------------------------------------------------------------------------

@pytest.mark.slow
def test_generators_through_the_local_scheduler_equal_local_runs(tmp_path):
    """Endpoint pairs (neb), a group's subcommand (phonons displace) and a seeded verb
    (defects) run as batch jobs and come back byte for byte as run here."""

    from helpers_remote import system_toml, write_config

    pytest.importorskip("phonopy", reason="phonopy is the phonons extra; CI installs it")
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    ends = write_configs(tmp_path / "ends.xyz", hop_endpoints() * 2)
    cells = write_configs(tmp_path / "cells.xyz",
                          [bulk("Cu", cubic=True), bulk("Al", cubic=True)])
    for args in (["neb", "--calc", "emt", "--images", "2", "--steps", "10", ends],
                 ["phonons", "displace", cells],
                 ["defects", "--kind", "vacancy", "-n", "3", cells]):
        local = wfl_program("--no-cache", *map(str, args),
                               check=False)
        remote = wfl_program("--no-cache", "--remote", "here", "--per-job", "1",
                        *map(str, args), timeout=300,
                        check=False)
        assert remote.returncode == 0, remote.stderr.decode()
        assert remote.stdout == local.stdout and local.stdout


# --- random structures ----------------------------------------------------------------------

def spacegroup(atoms, symprec=1e-3) -> int:
    import spglib

    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    return spglib.get_symmetry_dataset(cell, symprec=symprec).number


def min_separations(atoms) -> dict:
    distances = atoms.get_all_distances(mic=True)
    symbols = atoms.get_chemical_symbols()
    found: dict = {}
    for i in range(len(atoms)):
        for j in range(i + 1, len(atoms)):
            pair = "-".join(sorted((symbols[i], symbols[j])))
            found[pair] = min(found.get(pair, np.inf), distances[i, j])
    return found


@pytest.mark.slow
def test_random_structures_have_the_space_group_volume_and_separations(wfl):
    pytest.importorskip("pyxtal", reason="pyxtal is the random extra; CI installs it")
    result = wfl("random", "Si8", "Na4Cl4", "-n", "4", "--space-groups", "2-230",
                 "--volume", "25", "--min-distance", "2.0", "--min-distance", "Na-Cl=2.6")
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    assert [c.info["random_composition"] for c in out] == ["Si8"] * 4 + ["Na4Cl4"] * 4
    assert [c.info["random_number"] for c in out] == list(range(4)) * 2
    for config in out:
        assert config.get_chemical_formula() in ("Si8", "Cl4Na4")
        assert config.pbc.all() and config.get_volume() / len(config) == pytest.approx(25)
        assert spacegroup(config) == config.info["random_space_group"] >= 2
        separations = min_separations(config)
        assert all(d >= 2.0 - 1e-9 for d in separations.values())
        assert separations.get("Cl-Na", np.inf) >= 2.6 - 1e-9
    assert len({c.info["random_space_group"] for c in out}) > 2


def test_random_in_one_space_group_with_pyxtal_defaults(wfl):
    pytest.importorskip("pyxtal", reason="pyxtal is the random extra; CI installs it")
    out = read_text(wfl("random", "C8", "-n", "4", "--space-groups", "227").stdout)
    assert [spacegroup(c) for c in out] == [227] * 4
    assert len({c.get_volume() for c in out}) == 4


@pytest.mark.parametrize("args, code, message", [
    (["Xy4"], 2, "not a formula of known elements"),
    (["Si8", "--volume", "5", "--min-distance", "2.5"], 2, "impossible separations"),
    (["Si8", "--min-distance", "Si-=2"], 2, "is not like 2.0 or Na-Cl=2.4"),
    (["Si8", "--min-distance", "Si-*=2"], 2, "is not like 2.0 or Na-Cl=2.4"),
    (["Si8", "--space-groups", "0-3"], 2, "space groups are 1 to 230"),
    ([], 2, "name the compositions"),
    (["Og4", "--space-groups", "225"], 3, "pyxtal has no radius for Og"),
    (["Si7", "--space-groups", "225,227"], 3, "fits none of the space groups asked for"),
])
def test_random_bad_input(wfl, args, code, message):
    pytest.importorskip("pyxtal", reason="pyxtal is the random extra; CI installs it")
    result = wfl("random", *args)
    assert result.code == code and message in result.stderr, result.stderr


@pytest.mark.slow
def test_random_parallel_seed_and_cache(wfl, tmp_path, monkeypatch):
    pytest.importorskip("pyxtal", reason="pyxtal is the random extra; CI installs it")
    from wflcli.verbs.random_structures import RandomTask

    args = ["random", "Si4", "Mg2O2", "-n", "2", "--volume", "20", "--space-groups",
            "12,62,225"]
    first = same_under_parallel(tmp_path, *args)
    other_seed = wfl_program("--no-cache", "--seed", "9", *args)
    assert other_seed.returncode == 0 and other_seed.stdout != first
    served_from_cache(wfl, monkeypatch, RandomTask, *args)


def test_buildcell_missing_is_a_clear_error(wfl, tmp_path, monkeypatch):
    seed = tmp_path / "Si.cell"
    seed.write_text("%BLOCK LATTICE_CART\n4 0 0\n0 4 0\n0 0 4\n%ENDBLOCK LATTICE_CART\n"
                    "#VARVOL=20\n%BLOCK POSITIONS_FRAC\nSi 0 0 0 # Si1 % NUM=8\n"
                    "%ENDBLOCK POSITIONS_FRAC\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = wfl("random", "--buildcell", seed, "-n", "2")
    assert result.code == 2 and "needs AIRSS's buildcell on PATH" in result.stderr


def test_buildcell_output_is_read_back(wfl, tmp_path, monkeypatch):
    """AIRSS is not installable here, so a stand-in buildcell (a shell script that checks
    it got the seed file on stdin and prints a .cell file) tests the plumbing only."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "buildcell"
    program.write_text("#!/bin/sh\ngrep -q 'NUM=2' || exit 5\n"
                       "printf '%%BLOCK LATTICE_CART\\n3 0 0\\n0 3 0\\n0 0 3\\n"
                       "%%ENDBLOCK LATTICE_CART\\n%%BLOCK POSITIONS_FRAC\\n"
                       "Si 0 0 0\\nSi 0.5 0.5 0.5\\n%%ENDBLOCK POSITIONS_FRAC\\n'\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    seed = tmp_path / "Si.cell"
    seed.write_text("#VARVOL=20\n%BLOCK POSITIONS_FRAC\nSi 0 0 0 # Si1 % NUM=2\n"
                    "%ENDBLOCK POSITIONS_FRAC\n")
    result = wfl("random", "--buildcell", seed, "-n", "2")
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    assert [c.info["random_number"] for c in out] == [0, 1]
    assert np.allclose(out[0].positions, [[0, 0, 0], [1.5, 1.5, 1.5]])
    seed.write_text("no number of atoms\n")
    failed = wfl("random", "--buildcell", seed)
    assert failed.code == 3 and "buildcell failed (exit 5)" in failed.stderr


# --- minima hopping -------------------------------------------------------------------------

def cu_cluster(seed: int):
    from ase.cluster import Icosahedron

    cluster = Icosahedron("Cu", 2)[:7]
    cluster.center(vacuum=5.0)
    cluster.rattle(0.1, seed=seed)
    return cluster


def test_minima_hopping_equals_ase_minima_hopping(tmp_path, monkeypatch):
    from ase.calculators.emt import EMT
    from ase.io import Trajectory
    from ase.optimize.minimahopping import MinimaHopping

    from wflcli.calculators.spec import parse_calc_spec
    from wflcli.exec.task import ConfigContext
    from wflcli.verbs.minima_hopping import MinimaHoppingTask

    cluster = cu_cluster(1)
    task = MinimaHoppingTask(parse_calc_spec("emt"), "emt_", steps=3, temperature=1200)
    monkeypatch.chdir(tmp_path)
    ours = task.start()(cluster.copy(), ConfigContext(0, 1234))
    assert os.listdir(tmp_path) == []  # ASE's files went to a scratch folder
    direct = cluster.copy()
    direct.calc = EMT()
    MinimaHopping(direct, rng=np.random.default_rng(1234), T0=1200, fmax=0.05, Ediff0=0.5,
                  mdmin=2, timestep=1.0)(totalsteps=3)
    with Trajectory("minima.traj") as found:
        expected = list(found)
    assert len(ours) == len(expected) >= 2
    for mine, theirs in zip(ours, expected):
        assert mine.info["emt_energy"] == theirs.get_potential_energy()
        assert np.array_equal(mine.positions, theirs.positions)
    assert [m.info["minimum_number"] for m in ours] == list(range(len(ours)))


@pytest.mark.slow
def test_minima_hopping_cli_minima_are_relaxed(tmp_path, monkeypatch):
    from ase.calculators.emt import EMT

    src = write_configs(tmp_path / "in.xyz", [cu_cluster(1), cu_cluster(2)])
    args = ["minima-hopping", "--calc", "emt", "--steps", "2", "--fmax", "0.02", src]
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    out = same_under_parallel(tmp_path, *args, cwd=work)
    assert os.listdir(work) == [] and os.listdir(scratch) == []  # nothing left behind
    minima = read_text(out)
    assert len({m.info["minimum_origin"] for m in minima}) == 2
    for minimum in minima:
        minimum.calc = EMT()
        assert minimum.get_potential_energy() == pytest.approx(minimum.info["emt_energy"],
                                                               abs=1e-9)
        assert np.abs(minimum.get_forces()).max() < 0.02 * 1.01
    other_seed = wfl_program("--no-cache", "--seed", "4", *args, cwd=work)
    assert other_seed.returncode == 0 and other_seed.stdout != out


def test_minima_hopping_cache_and_failures(wfl, tmp_path, monkeypatch):
    from wflcli.verbs.minima_hopping import MinimaHoppingTask

    monkeypatch.chdir(tmp_path)
    iron = bulk("Fe", cubic=True)
    src = write_configs(tmp_path / "in.xyz", [cu_cluster(3), iron])
    args = ["minima-hopping", "--calc", "emt", "--steps", "1", src]
    result = wfl(*args)
    assert result.code == 3 and "NotImplementedError" in result.stderr
    assert os.getcwd() == str(tmp_path) and sorted(os.listdir(tmp_path)) == ["in.xyz"]
    served_from_cache(wfl, monkeypatch, MinimaHoppingTask, "minima-hopping", "--calc", "emt",
                      "--steps", "1", write_configs(tmp_path / "cu.xyz", [cu_cluster(3)]))


def test_help_without_phonopy_or_pyxtal_and_the_extra_to_install(tmp_path):
    from test_cli import run_without

    blocked = ("phonopy", "pyxtal")
    for argv in (["phonons", "displace", "--help"], ["phonons", "collect", "--help"],
                 ["random", "--help"]):
        assert run_without(argv, blocked=blocked).returncode == 0
    cu = write_configs(tmp_path / "cu.xyz", [bulk("Cu")])
    result = run_without(["phonons", "displace", str(cu)], blocked=blocked)
    assert result.returncode == 1 and b"pip install 'wflcli[phonons]'" in result.stderr
    result = run_without(["random", "Si8"], blocked=blocked)
    assert result.returncode == 1 and b"pip install 'wflcli[random]'" in result.stderr


def test_phonon_displacements_parallel_and_cache(wfl, tmp_path, monkeypatch):
    pytest.importorskip("phonopy", reason="phonopy is the phonons extra; CI installs it")
    from wflcli.verbs.phonons import DisplaceTask

    src = write_configs(tmp_path / "cells.xyz", [bulk("NaCl", "rocksalt", a=5.64), bulk("Cu")])
    args = ["phonons", "displace", "--supercell", "2x2x1", "--amplitude", "0.02", src]
    out = read_text(same_under_parallel(tmp_path, *args))
    assert [len(a) for a in out] == [8, 8, 4]
    assert all(np.linalg.norm(a.info["phonon_vector"]) == pytest.approx(0.02) for a in out)
    served_from_cache(wfl, monkeypatch, DisplaceTask, *args)


def test_neb_relax_ends_relaxes_both_endpoints(wfl, tmp_path):
    initial, final = hop_endpoints()
    for end, seed in ((initial, 1), (final, 2)):
        end.rattle(0.05, seed=seed)
    src = write_configs(tmp_path / "ends.xyz", [initial, final])
    result = wfl("neb", "--calc", "emt", "--images", "1", "--steps", "300", "--relax-ends",
                 "--fmax", "0.03", src)
    assert result.code == 0, result.stderr
    band = read_text(result.stdout)
    for end, unrelaxed in ((band[0], initial), (band[-1], final)):
        free = [i for i in range(len(end)) if i not in end.constraints[0].index]
        assert len(free) == 5 and np.abs(end.arrays["emt_forces"][free]).max() < 0.03
        assert not np.allclose(end.positions, unrelaxed.positions)
