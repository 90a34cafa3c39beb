"""``wfl --remote SYS pipe '...'``: one job whose array tasks each run the whole pipeline on
their chunk, on the local scheduler and on the real SLURM over SSH to 127.0.0.1:2222
(tests/cluster/); the output is that of the three stages run here, and a rerun is served
from the cache."""

from __future__ import annotations


import pytest
from helpers_data import rattled_cells, write_configs
from helpers_pipe import MD, mixed_inputs, refusing_stage, shell_pipeline
from helpers_remote import records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_program

pytestmark = pytest.mark.slow

STAGES = ["optimize --calc emt --fmax 0.2 --steps 10", MD.replace("--every 1", "--every 2"),
          "calc --calc lj --prefix LJ_"]
GLOBAL = ["--seed", "3"]


def wfl_run(*args, timeout=600):
    """``wfl ARGS``, each argument as it is."""
    return wfl_program("", *args, timeout=timeout)


@pytest.fixture(scope="module")
def two_hundred(tmp_path_factory):
    """200 Cu cells and the three stages run here as a shell pipeline."""
    folder = tmp_path_factory.mktemp("pipe200")
    path = write_configs(folder / "in.xyz", rattled_cells(200, repeat=(1, 1, 1)))
    code, out, err = shell_pipeline(["--no-cache", *GLOBAL], STAGES, path)
    assert code == 0, err
    assert out.count(b"Lattice") == 600
    return path, out


def _one_job_then_cached(system: str, two_hundred) -> None:
    path, local = two_hundred
    args = [*GLOBAL, "--remote", system, "--per-job", "50", "pipe", " | ".join(STAGES), path]
    first = wfl_run(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == local
    tasks = records(system)
    assert len(tasks) == 4 and len({t["job_id"] for t in tasks}) == 1  # one array job
    assert {t["state"] for t in tasks} == {"done"}
    assert b"1 job(s) with 4 task(s) submitted" in first.stderr
    again = wfl_run(*args)
    assert again.returncode == 0, again.stderr
    assert again.stdout == local
    assert b"0 job(s) with 0 task(s) submitted" in again.stderr
    assert len(records(system)) == 4


def test_one_job_on_the_local_scheduler_equals_the_stages_run_here(tmp_path, two_hundred):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    _one_job_then_cached("here", two_hundred)


@pytest.mark.cluster
def test_one_slurm_job_equals_the_stages_run_here(tmp_path, two_hundred):
    require_cluster("slurm")
    write_config(system_toml("slurm-local", "slurm", tmp_path / "runs", ssh=True))
    _one_job_then_cached("slurm-local", two_hundred)


def test_failed_configs_come_back_as_in_the_shell_pipeline(tmp_path):
    with_failures, refuse_step = mixed_inputs(tmp_path), refusing_stage(tmp_path)
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    stages = [MD, refuse_step, "calc --calc emt --prefix REF_"]
    remote = ["--no-cache", "--seed", "5", "--remote", "here", "--per-job", "3", "pipe",
              " | ".join(stages), with_failures]
    code, expected, _ = shell_pipeline(["--no-cache", "--seed", "5"], stages, with_failures)
    done = wfl_run(*remote)
    assert code == done.returncode == 3
    assert done.stdout == expected and expected.count(b"step 2 refused") == 4
    code, expected, _ = shell_pipeline(["--no-cache", "--seed", "5"], stages, with_failures,
                                       ["--failed", tmp_path / "shell-failed.xyz"])
    done = wfl_run(*remote, "--failed", tmp_path / "failed.xyz")
    assert code == done.returncode == 3
    assert done.stdout == expected
    assert (tmp_path / "failed.xyz").read_bytes() == (tmp_path / "shell-failed.xyz").read_bytes()
