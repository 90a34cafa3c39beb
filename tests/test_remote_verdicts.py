"""The scheduler's verdict on a task that ended without results, recorded as its reason and
shown by ``wfl remote ls`` and ``show`` with a hint: the real SLURM (sacct from slurmdbd)
for a task over ``--mem`` and one over its walltime, the real Grid Engine (qacct) for one
over its walltime, and the PBS stand-in (``qstat -x``) for both kinds.

Memory on the test SLURM is enforced without cgroups (gVisor has none in use):
``JobAcctGatherParams=OverMemoryKill`` samples every second and kills the step, which sacct
records as FAILED with signal 9; slurmstepd's line in the task's log makes it OUT_OF_MEMORY.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import PBS_STANDIN, records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_argv, wfl_program

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
HOG = "python3 -c 'x = bytearray(600 * 2**20); import time; time.sleep(20)'"


def start(tmp_path, name, scheduler, *options, commands=(), ssh=True, env=None):
    write_config(system_toml(name, scheduler, tmp_path / name, ssh=ssh, commands=commands))
    path = write_configs(tmp_path / f"{name}.xyz", rattled_cells(3))
    return subprocess.Popen(wfl_argv("--no-cache", "--remote", name, "--retries", "0",
                                "--drain-margin", "0", *options, "calc", "--calc", "emt", path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def shown(name, words):
    """The task's record as ls and show print it: both carry the verdict and hint."""
    [task] = records(name)
    assert task["state"] == "failed"
    listed = wfl_program("remote", "ls", "--system", name,
                            text=True, timeout=60).stdout
    detail = wfl_program("remote", "show", str(task["id"]),
                            text=True, timeout=60).stdout
    for text in (task["reason"], listed, detail):
        for word in words:
            assert word in text, text
    return task


def finished(client, timeout):
    out, err = client.communicate(timeout=timeout)
    assert client.returncode == 3, err
    assert b"3 of 3 configs failed" in err
    return err


def test_slurm_over_memory_and_over_walltime(tmp_path):
    require_cluster("slurm")
    memory = start(tmp_path, "slurm-mem", "slurm", "--mem", "200M", commands=(HOG,))
    walltime = start(tmp_path, "slurm-time", "slurm", "--time", "1", commands=("sleep 300",))
    finished(memory, 120)
    shown("slurm-mem", ["SLURM: OUT_OF_MEMORY", "exceeded memory limit",
                        "Hint: give it more --mem"])
    finished(walltime, 300)  # SLURM counts walltime in minutes and checks every 30 s
    shown("slurm-time", ["SLURM: TIMEOUT", "Hint: give it more --time, or fewer configs "
                         "per task (--per-job)"])


def test_grid_engine_over_walltime(tmp_path):
    require_cluster("sge")
    client = start(tmp_path, "sge-time", "sge", "--time", "0:00:05", commands=("sleep 300",))
    finished(client, 120)
    shown("sge-time", ["Grid Engine: TIMEOUT", "failed 37", "more --time"])


@pytest.mark.parametrize("options, commands, words", [
    (("--time", "0:00:03"), ("sleep 300",), ["PBS: TIMEOUT (exit code -29)", "more --time"]),
    ((), ("exit 5",), ["PBS: FAILED (exit code 5)", "wfl remote show"]),
])
def test_pbs_standin_verdicts(tmp_path, options, commands, words):
    env = {**os.environ, "PATH": f"{PBS_STANDIN}{os.pathsep}{os.environ['PATH']}",
           "PBS_STANDIN_HOME": str(tmp_path / "pbs")}
    client = start(tmp_path, "pbs", "pbs", *options, commands=commands, ssh=False, env=env)
    finished(client, 120)
    shown("pbs", words)
