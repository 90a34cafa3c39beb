"""What the cache key covers: a hit returns what a fresh run would. Every per-atom array
and info value that can change a result is keyed; labels, wflcli's bookkeeping and other
methods' results (for calculators that cannot read them) are not, so relabelling hits."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.constraints import FixAtoms

from helpers_data import rattled_cells, read_text, write_configs

COUNTING = "python:helpers_calc:CountingEMT"


def stored_entries() -> int:
    """Results computed: entries of their values (not the output stored by input text)."""
    store = Path(os.environ["WFLCLI_HOME"]) / "store.sqlite"
    with contextlib.closing(sqlite3.connect(store)) as db:
        return db.execute("SELECT COUNT(*) FROM results WHERE kind = 'annotation'"
                          ).fetchone()[0]


def energy(text: str, key: str = "tblite_energy") -> float:
    (atoms,) = read_text(text)
    return atoms.info[key]


def cached_then_fresh(wfl, tmp_path, first: Atoms, second: Atoms, calc="tblite"):
    """Run ``first`` (filling the cache), then ``second`` with the cache and without."""
    a = write_configs(tmp_path / "first.xyz", [first])
    b = write_configs(tmp_path / "second.xyz", [second])
    assert wfl("calc", "--calc", calc, a).code == 0
    cached = wfl("calc", "--calc", calc, b)
    fresh = wfl("--no-cache", "calc", "--calc", calc, b)
    assert cached.code == fresh.code == 0, cached.stderr + fresh.stderr
    return cached.stdout, fresh.stdout


def hydroxyl() -> Atoms:
    return Atoms("OH", positions=[[0, 0, 0], [0, 0, 0.97]])


def test_an_anion_after_the_neutral_molecule_gets_its_own_energy(wfl, tmp_path):
    pytest.importorskip("tblite.ase")
    anion = hydroxyl()
    anion.set_initial_charges([-1, 0])  # tblite's total charge: the sum of these
    cached, fresh = cached_then_fresh(wfl, tmp_path, hydroxyl(), anion)
    assert cached == fresh
    neutral = wfl("--no-cache", "calc", "--calc", "tblite",
                  write_configs(tmp_path / "n.xyz", [hydroxyl()])).stdout
    assert abs(energy(fresh) - energy(neutral)) > 1  # eV: the two really differ


def test_a_triplet_after_the_singlet_gets_its_own_energy(wfl, tmp_path):
    pytest.importorskip("tblite.ase")
    singlet = Atoms("O2", positions=[[0, 0, 0], [0, 0, 1.21]])
    triplet = singlet.copy()
    triplet.set_initial_magnetic_moments([1, 1])  # tblite's spin: their sum
    cached, fresh = cached_then_fresh(wfl, tmp_path, singlet, triplet)
    assert cached == fresh
    assert energy(fresh) != energy(wfl("--no-cache", "calc", "--calc", "tblite",
                                       tmp_path / "first.xyz").stdout)


def _set_info(key, value):
    def change(atoms):
        atoms.info[key] = value
    return change


def _set_array(key, value):
    def change(atoms):
        atoms.arrays[key] = np.full(len(atoms), value)
    return change


INPUT_CHANGES = {
    "initial charges": lambda a: a.set_initial_charges(np.linspace(-1, 1, len(a))),
    "initial magnetic moments": lambda a: a.set_initial_magnetic_moments(np.ones(len(a))),
    "masses": lambda a: a.set_masses(np.full(len(a), 2.0)),
    "tags": lambda a: a.set_tags(np.arange(len(a))),
    "momenta": lambda a: a.set_momenta(np.ones((len(a), 3))),
    "fixed atoms": lambda a: a.set_constraint(FixAtoms(indices=[0])),
    "info charge": _set_info("charge", -1),
    "info spin": _set_info("spin", 2),
    "info multiplicity": _set_info("multiplicity", 3),
    "per-config parameters": _set_info("wfl_calc", {"asap_cutoff": True}),
    "an info key wflcli does not know": _set_info("solvent", "water"),
    "an array wflcli does not know": _set_array("site_weight", 0.5),
    "an integer that became a float": _set_info("n", 1.0),
}


@pytest.mark.parametrize("change", INPUT_CHANGES.values(), ids=INPUT_CHANGES)
def test_every_input_that_can_change_a_result_misses(wfl, calc_log, tmp_path, change):
    configs = rattled_cells(3, "Cu", (1, 1, 1))
    for atoms in configs:
        atoms.info["n"] = 1
    src = write_configs(tmp_path / "in.xyz", configs)
    calc = ("calc", "--calc", COUNTING, "--overrides", "asap_cutoff")  # wfl_calc may set it
    assert wfl(*calc, src).code == 0 and calc_log() == 3
    change(configs[1])
    write_configs(src, configs)
    again = wfl(*calc, src)
    assert again.code == 0 and calc_log() == 1, again.stderr
    assert again.stdout == wfl("--no-cache", *calc, src).stdout


def relabel(atoms):
    """What cannot change a result: labels, wflcli's bookkeeping, other methods' results."""
    atoms.info.update(config_type="relabelled", name="a new name", MD_step=7, MD_source=3,
                      MD_time_fs=3.5, MD_temperature_K=300.0, rattle_copy=2, conformer=1,
                      REF_energy=-1.5, REF_stress=np.arange(6.0), energy=2.0)
    atoms.arrays["REF_forces"] = np.ones((len(atoms), 3))
    atoms.arrays["DFT_magmoms"] = np.ones(len(atoms))


def test_relabelled_configs_and_other_methods_results_hit(wfl, tmp_path):
    configs = rattled_cells(4, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", configs)
    assert wfl("calc", "--calc", "emt", src).code == 0 and stored_entries() == 4
    for atoms in configs:
        relabel(atoms)
    write_configs(src, configs)
    again = wfl("calc", "--calc", "emt", src)
    assert again.code == 0 and stored_entries() == 4  # all four were hits
    assert again.stdout == wfl("--no-cache", "calc", "--calc", "emt", src).stdout
    assert "config_type=relabelled" in again.stdout


def test_a_users_calculator_may_read_other_results_so_they_are_keyed(wfl, calc_log, tmp_path):
    configs = rattled_cells(2, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", configs)
    assert wfl("calc", "--calc", COUNTING, src).code == 0 and calc_log() == 2
    configs[0].info["config_type"] = "relabelled"  # still a label: hits
    configs[1].info["REF_energy"] = -3.0  # a baseline a delta model could read: misses
    write_configs(src, configs)
    assert wfl("calc", "--calc", COUNTING, src).code == 0 and calc_log() == 1


def test_descriptors_key_on_inputs_not_labels(wfl, tmp_path):
    pytest.importorskip("featomic")
    configs = rattled_cells(3, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", configs)
    assert wfl("descriptor", "--species", "Cu", src).code == 0 and stored_entries() == 3
    relabel(configs[0])
    configs[1].set_initial_charges(np.ones(len(configs[1])))
    write_configs(src, configs)
    assert wfl("descriptor", "--species", "Cu", src).code == 0 and stored_entries() == 4


def test_the_readme_lists_exactly_what_the_key_leaves_out():
    from wflcli.exec.digest import LABELS, RESULT_NAMES

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("### The cache"):]
    section = section[:section.index("\n### ")]
    listed = set(re.findall(r"`([A-Za-z_]+)`", section[:section.index("So relabelling")]))
    assert LABELS | set(RESULT_NAMES) <= listed
