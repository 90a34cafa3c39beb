"""Walltime-aware tasks: a task stops starting configs when too little of its walltime is
left (``--drain-margin``), or when the scheduler sends SIGTERM ahead of the kill; the
client takes what it finished and sends the rest on as a new task, without a retry. The
output equals a local run's, and no config is computed twice (counted by the calculator).

The local scheduler drains on the same deadline (it just never kills); the acceptance runs
on the real SLURM over SSH, with its walltime made as short as SLURM allows (1 minute)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_argv, wfl_program

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
COUNTING = "python:helpers_calc:CountingEMT"


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """The counting calculator's log, and the local run's output for ``n`` configs."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("PYTHONPATH", str(HERE))

    def local(path):
        done = wfl_program("--no-cache", "calc", "--calc", COUNTING, path, check=True, timeout=120)
        return done.stdout

    return log, local


def env_table(name, values: dict) -> str:
    return f"[systems.{name}.env]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items())


def check_drained_run(done, log, local, configs):
    assert done.returncode == 0, done.stderr
    assert done.stdout == local
    calls = log.read_text().splitlines()
    assert len(calls) == configs, "a config was computed twice, or not at all"
    assert b"stopped before its walltime" in done.stderr
    tasks = records()
    assert {t["state"] for t in tasks} == {"drained", "done"}, tasks
    assert all(t["attempt"] == 0 for t in tasks)  # the rest went on without a retry
    assert sum(t["configs"] for t in tasks if t["state"] == "done") + sum(
        int(t["reason"].split(" of ")[0].split()[-1]) for t in tasks
        if t["state"] == "drained") == configs
    return tasks


def test_local_tasks_stop_in_time_and_the_rest_goes_on(tmp_path, counted):
    log, local = counted
    path = write_configs(tmp_path / "in.xyz", rattled_cells(8))
    expected = local(path)
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False,
                             extra=env_table("here", {"CALC_SLEEP": "1", "CALC_LOG": log})))
    done = wfl_program("--no-cache", "--remote", "here", "--per-job", "8", "--time",
                           "0:00:20", "--drain-margin", "16", "calc", "--calc", COUNTING,
                  path, timeout=300)
    check_drained_run(done, log, expected, 8)


def test_a_client_killed_after_a_drain_loses_nothing(tmp_path, counted):
    """SIGKILL of the client once a task has drained: the rerun re-attaches to the drained
    task (its finished configs) and to the task that took the rest."""
    import signal

    log, local = counted
    path = write_configs(tmp_path / "in.xyz", rattled_cells(8))
    expected = local(path)
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False,
                             extra=env_table("here", {"CALC_SLEEP": "1", "CALC_LOG": log})))
    args = wfl_argv("--no-cache", "--remote", "here", "--per-job", "8", "--time", "0:00:20",
            "--drain-margin", "16", "calc", "--calc", COUNTING, path)
    client = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(t["state"] == "drained" for t in records()):
        assert time.monotonic() < deadline and client.poll() is None, "no task drained"
        time.sleep(0.2)
    client.send_signal(signal.SIGKILL)
    client.wait()
    done = subprocess.run(args, capture_output=True, timeout=300)
    assert b"re-attached to" in done.stderr
    check_drained_run(done, log, expected, 8)


def on_cluster(tmp_path, counted, name, configs, sleep, scheduler="slurm"):
    """A cluster system over SSH whose counting calculator takes ``sleep`` s per config."""
    require_cluster(scheduler)
    log, local = counted
    path = write_configs(tmp_path / "in.xyz", rattled_cells(configs))
    write_config(system_toml(name, scheduler, tmp_path / "runs", ssh=True, extra=env_table(
        name, {"CALC_SLEEP": sleep, "CALC_LOG": log, "PYTHONPATH": HERE})))
    return log, path, local(path)


@pytest.mark.cluster
def test_grid_engine_tasks_drain_before_their_walltime(tmp_path, counted):
    """Grid Engine enforces h_rt within seconds: with configs of 1 s, --time 0:00:20 and
    --drain-margin 14, a task that did not stop in time would be killed (qacct failed 37)."""
    log, path, expected = on_cluster(tmp_path, counted, "sge-drain", 12, sleep=1,
                                   scheduler="sge")
    done = wfl_program("--no-cache", "--remote", "sge-drain", "--per-job", "12",
                           "--time", "0:00:20", "--drain-margin", "14", "calc", "--calc",
                  COUNTING, path, timeout=600)
    tasks = check_drained_run(done, log, expected, 12)
    for job in sorted({t["job_id"] for t in tasks}):
        accounted = subprocess.run(["qacct", "-j", job], capture_output=True, text=True).stdout
        assert "failed       37" not in accounted, accounted


@pytest.mark.cluster
def test_slurm_tasks_drain_before_their_walltime(tmp_path, counted):
    """Configs of 6 s, --time 1 (60 s), 10 per task: each task stops when less than
    --drain-margin 25 s is left, long before SLURM would kill it."""
    log, path, expected = on_cluster(tmp_path, counted, "slurm-drain", 20, sleep=6)
    done = wfl_program("--no-cache", "--remote", "slurm-drain", "--per-job", "10",
                           "--time", "1", "--drain-margin", "25", "calc", "--calc", COUNTING,
                  path, timeout=600)
    tasks = check_drained_run(done, log, expected, 20)
    sacct = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j",
                            ",".join(sorted({t["job_id"] for t in tasks}))],
                           capture_output=True, text=True).stdout.split()
    assert sacct and set(sacct) == {"COMPLETED"}, sacct  # none was killed at its walltime


@pytest.mark.cluster
def test_sigterm_from_slurm_drains_the_task(tmp_path, counted):
    """SIGTERM to the batch shell (what --signal=B:TERM@margin sends ahead of the kill;
    here sent at once with scancel --signal=TERM --batch)."""
    log, path, expected = on_cluster(tmp_path, counted, "slurm-term", 10, sleep=1)
    client = subprocess.Popen(wfl_argv("--no-cache", "--remote", "slurm-term", "--per-job", "10",
                               "--time", "0:10:00", "calc", "--calc", COUNTING, path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (log.exists() and len(log.read_text().splitlines()) >= 2):
        assert time.monotonic() < deadline, "the task never started computing"
        time.sleep(0.2)
    [task] = records("slurm-term")
    subprocess.run(["scancel", "--signal=TERM", "--batch", f"{task['job_id']}_1"],
                   check=True)
    out, err = client.communicate(timeout=300)
    done = subprocess.CompletedProcess([], client.returncode, out, err)
    check_drained_run(done, log, expected, 10)
