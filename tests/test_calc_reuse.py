"""``wfl calc --reuse-state`` against ASE's own loop that reuses one calculator, and the
default's clean state per config against a fresh calculator, bit for bit."""

from __future__ import annotations

import copy

import numpy as np
from ase.calculators.emt import EMT
from ase.constraints import FixAtoms

from helpers_data import rattled_cells, read_text, write_configs
from wflcli.exec.task import private_copy


def _emt_loop(configs, reuse: bool) -> list[tuple]:
    """(energy, forces, stress) per config: one EMT for all (the natural loop) or a new one
    for each."""
    shared, results = EMT(), []
    for original in configs:
        atoms = original.copy()
        atoms.calc = shared if reuse else EMT()
        results.append((atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()))
    return results


def _wfl_results(configs) -> list[tuple]:
    return [(a.info["emt_energy"], a.arrays["emt_forces"], a.info["emt_stress"])
            for a in configs]


def _bitwise(left, right) -> bool:
    return all(e1 == e2 and np.array_equal(f1, f2) and np.array_equal(s1, s2)
               for (e1, f1, s1), (e2, f2, s2) in zip(left, right, strict=True))


def test_reuse_state_equals_the_loop_that_reuses_one_calculator(wfl, tmp_path):
    configs = rattled_cells(12)
    path = tmp_path / "in.xyz"
    write_configs(path, configs)
    reused = wfl("calc", "--calc", "emt", "--reuse-state", path)
    assert reused.code == 0, reused.stderr
    got = _wfl_results(read_text(reused.stdout))
    assert _bitwise(got, _emt_loop(configs, reuse=True))
    fresh = _emt_loop(configs, reuse=False)
    assert not _bitwise(got, fresh)  # the state reused shows in the last bits here ...
    for (e1, f1, s1), (e2, f2, s2) in zip(got, fresh):  # ... and only there
        assert abs(e1 - e2) < 1e-10 and np.allclose(f1, f2, atol=1e-10, rtol=0)
        assert np.allclose(s1, s2, atol=1e-12, rtol=0)


def test_default_and_reused_results_are_cached_apart(wfl, tmp_path):
    configs = rattled_cells(12)
    path = tmp_path / "in.xyz"
    write_configs(path, configs)
    default = wfl("calc", "--calc", "emt", path)
    reused = wfl("calc", "--calc", "emt", "--reuse-state", path)  # the default's are cached
    again = wfl("calc", "--calc", "emt", path)  # and now the reused ones too
    assert _bitwise(_wfl_results(read_text(default.stdout)), _emt_loop(configs, reuse=False))
    assert _bitwise(_wfl_results(read_text(reused.stdout)), _emt_loop(configs, reuse=True))
    assert again.stdout == default.stdout


def test_a_private_copy_is_what_atoms_copy_gives_and_shares_nothing():
    atoms = rattled_cells(1)[0]
    atoms.set_constraint(FixAtoms(indices=[0, 3]))
    atoms.info.update(config_type="x", stress=np.arange(6.0))
    atoms.arrays["charges"] = np.arange(len(atoms), dtype=float)
    atoms.set_celldisp([0.5, 0.0, 0.25])
    before = copy.deepcopy(atoms)
    twin, reference = private_copy(atoms), atoms.copy()
    assert twin == reference and twin.info.keys() == reference.info.keys()
    assert sorted(twin.arrays) == sorted(reference.arrays)
    assert np.array_equal(twin.get_celldisp(), reference.get_celldisp())
    assert [c.todict() for c in twin.constraints] == [c.todict() for c in reference.constraints]
    assert twin.calc is None
    twin.positions += 1.0
    twin.arrays["charges"][:] = -1
    twin.cell[0, 0] = 99.0
    twin.pbc[0] = False
    twin.info["added"] = 1
    twin.constraints[0].index[0] = 5
    twin.set_celldisp([9.0, 9.0, 9.0])
    assert atoms == before and "added" not in atoms.info
    assert np.array_equal(atoms.arrays["charges"], before.arrays["charges"])
    assert atoms.constraints[0].index.tolist() == [0, 3]
    assert np.array_equal(atoms.get_celldisp(), before.get_celldisp())
