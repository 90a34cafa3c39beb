"""Names built to break shells: in input and output file names, folders, prefixes and info
values, locally. (Through --remote: tests/test_remote_cluster.py runs a hostile rundir and
job name on the real SLURM, and tests/test_remote_config.py sends hostile arguments through
the shell that runs every remote command.)"""

from __future__ import annotations


import pytest

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program
from helpers_data import HOSTILE


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_file_and_folder_names(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    source = write_configs(folder / f"{name}.xyz", rattled_cells(3))
    out = folder / f"out {name}.xyz"
    done = wfl_program("--parallel", "2", "calc", "--calc", "emt", "--",
          str(source), cwd=folder)
    assert done.returncode == 0, done.stderr
    written = wfl_program("calc", "--calc", "emt", "-o", str(out), "--",
             source.name, cwd=folder)
    assert written.returncode == 0, written.stderr
    assert out.read_bytes() == done.stdout and len(read_text(done.stdout)) == 3
    assert not list(tmp_path.rglob("injected")) and not (tmp_path / "x").exists()


def test_hostile_prefix_and_info_values_round_trip(tmp_path):
    configs = rattled_cells(2)
    for atoms, value in zip(configs, HOSTILE):
        atoms.info["note"] = value
    source = write_configs(tmp_path / "in.xyz", configs)
    done = wfl_program("calc", "--calc", "emt", "--prefix", "odd_", source)
    assert done.returncode == 0, done.stderr
    back = read_text(done.stdout)
    assert [a.info["note"] for a in back] == HOSTILE[:2]
    assert all("odd_energy" in a.info for a in back)
    odd = wfl_program("calc", "--calc", "emt", "--prefix", 'a"b $(x) ',
                          source, text=True)
    assert odd.returncode == 0, odd.stderr  # a strange key is data: quoted, and read back
    for atoms in read_text(odd.stdout):
        assert 'a"b $(x) energy' in atoms.info and 'a"b $(x) forces' in atoms.arrays
