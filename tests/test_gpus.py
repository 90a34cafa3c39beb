"""GPUs, one per ``--parallel`` worker: each worker process sees only its own device in
CUDA_VISIBLE_DEVICES (a stand-in calculator logs what it sees: no GPU is needed), here with
``--gpus 0,1,2,3`` and inside a batch task given ``--gpus N`` (the devices the scheduler
made visible, split among the workers). The job-script side is in the golden files."""

from __future__ import annotations

import os

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import system_toml, write_config
from helpers_wfl import wfl_program

COUNTING = "python:helpers_calc:CountingEMT"


@pytest.fixture
def logged(tmp_path, monkeypatch, calc_log):
    """Which devices each worker saw: the counting calculator's log (conftest's calc_log
    points it there), read whole."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CALC_SLEEP", "0.05")  # long enough that every worker gets work

    def devices_by_worker():
        seen: dict = {}
        for line in log.read_text().splitlines():
            pid, device = line.split()
            seen.setdefault(pid, set()).add(device)
        return seen

    return devices_by_worker


def run(*args, **kwargs):
    return wfl_program("--no-cache", *map(str, args),
                          timeout=120, **kwargs)


@pytest.mark.slow
def test_each_local_worker_sees_its_own_gpu(tmp_path, logged):
    path = write_configs(tmp_path / "in.xyz", rattled_cells(40))
    done = run("--parallel", "4", "--chunk", "2", "--gpus", "0,1,2,3", "calc", "--calc",
               COUNTING, path)
    assert done.returncode == 0, done.stderr
    seen = logged()
    assert len(seen) == 4 and all(len(devices) == 1 for devices in seen.values())
    assert sorted(device for devices in seen.values() for device in devices) == \
        ["0", "1", "2", "3"]
    assert done.stdout == run("calc", "--calc", COUNTING, path).stdout


@pytest.mark.slow
def test_workers_of_a_batch_task_split_the_devices_the_scheduler_gave_it(tmp_path, logged):
    """CUDA_VISIBLE_DEVICES=5,7 stands in for what the scheduler sets for a task given two
    GPUs; its two workers get one each."""
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False,
                             extra='[systems.here.env]\nCUDA_VISIBLE_DEVICES = "5,7"\n'))
    path = write_configs(tmp_path / "in.xyz", rattled_cells(30))
    done = run("--remote", "here", "--parallel", "2", "--chunk", "2", "--gpus", "2", "calc",
               "--calc", COUNTING, path)
    assert done.returncode == 0, done.stderr
    seen = logged()
    assert len(seen) == 2 and sorted(d for ds in seen.values() for d in ds) == ["5", "7"]


@pytest.mark.parametrize("value, message", [("two", b"neither a count nor device IDs"),
                                            ("0,x", b"neither a count nor device IDs")])
def test_bad_gpu_values_are_usage_errors(tmp_path, value, message):
    done = run("--gpus", value, "calc", "--calc", "emt", os.devnull)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_device_ids_with_remote_are_refused(tmp_path):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    done = run("--remote", "here", "--gpus", "0,1", "calc", "--calc", "emt", os.devnull)
    assert done.returncode == 2 and b"with --remote give a count" in done.stderr
