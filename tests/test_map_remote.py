"""``wfl map --remote``: a function given by absolute path runs as batch jobs and gives the
local output byte for byte, on the local scheduler and on the test cluster's SLURM over
SSH (on this one machine the far side sees the same files)."""

from __future__ import annotations


import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_program

OPS = '''
from ase import Atoms
import helper


def cap_bonds(atoms, rng, cap_with="H"):
    bond = helper.BOND + rng.uniform(0, 0.1)
    capped = atoms + Atoms(cap_with, positions=[atoms.positions[0] + [0, 0, bond]])
    return [capped, atoms] if len(atoms) > 4 else capped


def load():
    return 2.5


def scaled(atoms, state):
    atoms.info["state"] = state
    if atoms.info["n"] == 3:
        raise ValueError("three")
    return atoms


def from_line(line):
    return Atoms(line)
'''


@pytest.fixture
def ops(tmp_path):
    (tmp_path / "my_ops.py").write_text(OPS)
    (tmp_path / "helper.py").write_text("BOND = 1.0\n")
    configs = rattled_cells(12, "Cu", (1, 1, 1)) + rattled_cells(5, "Cu", (2, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info["n"] = i
    write_configs(tmp_path / "in.xyz", configs)
    return tmp_path


def same_as_local(ops, system: str, per_job: int, function: str) -> None:
    args = ["map", function, "cap_with=He", "in.xyz"]
    local = wfl_program("--no-cache", "--seed", "3", *args, cwd=ops, timeout=300)
    remote = wfl_program("--no-cache", "--seed", "3", "--remote", system, "--per-job", per_job,
                         *args, cwd=ops, timeout=300)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.count(b"Lattice") == 22
    assert all(task["state"] == "done" for task in records(system))


@pytest.mark.slow
def test_local_scheduler_gives_the_local_output(ops):
    write_config(system_toml("here", "local", ops / "runs", ssh=False))
    same_as_local(ops, "here", 6, "my_ops.py:cap_bonds")  # the job gets the absolute path
    init = ["map", f"{ops / 'my_ops.py'}:scaled", "--init", f"{ops / 'my_ops.py'}:load",
            "in.xyz"]
    local = wfl_program("--no-cache", *init, cwd=ops, timeout=300)
    remote = wfl_program("--no-cache", "--remote", "here", "--per-job", "8", *init, cwd=ops,
                         timeout=300)
    assert local.returncode == remote.returncode == 3
    assert remote.stdout == local.stdout and b"config 3: ValueError: three" in remote.stderr
    lines = ["map", f"{ops / 'my_ops.py'}:from_line", "--lines", "-"]
    text = b"H2O\nCH4\n# a comment\nNH3\n"
    local = wfl_program("--no-cache", *lines, cwd=ops, input=text, timeout=300)
    remote = wfl_program("--no-cache", "--remote", "here", "--per-job", "2", *lines, cwd=ops,
                         input=text, timeout=300)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.count(b"Properties") == 3


@pytest.mark.slow
@pytest.mark.cluster
def test_slurm_over_ssh_gives_the_local_output(ops):
    require_cluster("slurm")
    write_config(system_toml("slurm-local", "slurm", ops / "runs", ssh=True))
    same_as_local(ops, "slurm-local", 9, f"{ops / 'my_ops.py'}:cap_bonds")
