"""Any format ASE reads goes in, and -o writes by its extension: extxyz (ours, plain or
compressed) or any format ASE writes, with the results where ASE users look for them."""

from __future__ import annotations

import gzip

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from helpers_data import rattled_cells, read_text


def _emt(atoms):
    atoms = atoms.copy()
    atoms.calc = EMT()
    return atoms.get_potential_energy(), atoms.get_forces()


@pytest.mark.parametrize("name, fmt", [("cu.cif", "cif"), ("POSCAR", "vasp"),
                                       ("cu.traj", "traj"), ("cu.json", "json")])
def test_other_formats_are_read_by_ase(wfl, tmp_path, name, fmt):
    cells = rattled_cells(2, "Cu", (1, 1, 1)) if fmt in ("traj", "json") else [
        bulk("Cu", cubic=True)]
    ase.io.write(tmp_path / name, cells, format=fmt)
    result = wfl("calc", "--calc", "emt", tmp_path / name)
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    assert len(out) == len(cells)
    for atoms, written in zip(out, ase.io.read(tmp_path / name, ":", format=fmt)):
        energy, forces = _emt(written)
        assert atoms.info["emt_energy"] == pytest.approx(energy, abs=1e-12)
        np.testing.assert_allclose(atoms.arrays["emt_forces"], forces, atol=1e-12)


def test_compressed_output_is_compressed_and_the_same_each_run(wfl, tmp_path, cu_file):
    for run in ("a", "b"):
        assert wfl("calc", "--calc", "emt", cu_file, "-o", tmp_path / f"{run}.xyz.gz").code == 0
    packed = (tmp_path / "a.xyz.gz").read_bytes()
    assert packed[:2] == b"\x1f\x8b" and packed == (tmp_path / "b.xyz.gz").read_bytes()
    plain = wfl("calc", "--calc", "emt", cu_file).stdout
    assert gzip.decompress(packed).decode() == plain
    assert wfl("cat", tmp_path / "a.xyz.gz").stdout == plain


@pytest.mark.parametrize("name", ["out.traj", "out.db"])
def test_ase_formats_hold_the_results_as_a_calculator(wfl, tmp_path, cu_file, name):
    assert wfl("calc", "--calc", "emt", "--prefix", "REF_", cu_file, "-o",
               tmp_path / name).code == 0
    written = ase.io.read(tmp_path / name, ":")
    source = ase.io.read(cu_file, ":")
    assert len(written) == len(source)
    for atoms, original in zip(written, source):
        energy, forces = _emt(original)
        assert atoms.get_potential_energy() == pytest.approx(energy, abs=1e-12)
        np.testing.assert_allclose(atoms.get_forces(), forces, atol=1e-12)


def test_a_single_config_format_refuses_several(wfl, tmp_path, cu_file):
    result = wfl("calc", "--calc", "emt", cu_file, "-o", tmp_path / "x.vasp")
    assert result.code == 2
    assert f"-o {tmp_path / 'x.vasp'}: a vasp file holds one config, and there are 20" \
        in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["cu.xyz"]  # nothing half-written
    one = tmp_path / "one.xyz"
    one.write_text(wfl("head", "-n", "1", cu_file).stdout)
    assert wfl("calc", "--calc", "emt", one, "-o", tmp_path / "POSCAR.vasp").code == 0
    assert len(ase.io.read(tmp_path / "POSCAR.vasp", format="vasp")) == 32
