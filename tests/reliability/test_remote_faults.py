"""Faults of a remote run against the real test cluster (SLURM and sshd on 127.0.0.1):
the connection dropped and sshd restarted, slurmctld restarted, a task over its walltime,
a task whose results were damaged. Each run completes with the local run's output or names
exactly the configs that failed, and nothing that had finished is computed twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import CLUSTER, REPO, records, require_cluster, system_toml, write_config
from helpers_wfl import PROGRAM, wfl_argv, wfl_program

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
SCRIPTS = REPO / "tests" / "cluster"


def wait_for(condition, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def job(tmp_path):
    """200 configs, their local result, and a SLURM system whose tasks take a few seconds."""
    require_cluster("slurm")
    path = write_configs(tmp_path / "in.xyz", rattled_cells(200))
    local = wfl_program("--no-cache", "calc", "--calc", "emt", path, check=True).stdout

    def start(*options, wfl=PROGRAM, commands=("sleep 3",)):
        write_config(system_toml("faulty", "slurm", tmp_path / "runs", ssh=True,
                                 commands=commands).replace(f'wfl = "{PROGRAM}"', f'wfl = "{wfl}"'))
        return subprocess.Popen(wfl_argv("--no-cache", "--remote", "faulty", "--per-job", "50",
                                 *options, "calc", "--calc", "emt", path),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    return start, local


def test_dropped_connection_and_restarted_sshd(job):
    start, local = job
    client = start()
    wait_for(lambda: len(records("faulty")) == 4, what="submission")
    daemon = int((CLUSTER / "sshd" / "sshd.pid").read_text())
    sessions = subprocess.run(["pgrep", "-P", str(daemon)], capture_output=True,
                              text=True).stdout.split()
    assert sessions, "the client's SSH session must exist to be dropped"
    subprocess.run([SCRIPTS / "stop_sshd.sh"], check=True, capture_output=True)
    for pid in sessions:  # the client's connection goes with them
        os.kill(int(pid), signal.SIGKILL)
    time.sleep(2)
    subprocess.run([SCRIPTS / "start_sshd.sh"], check=True, capture_output=True)
    out, err = client.communicate(timeout=300)
    assert client.returncode == 0, err
    assert out == local and len(records("faulty")) == 4  # nothing submitted twice


def test_restarted_slurmctld(job):
    start, local = job
    client = start()
    wait_for(lambda: len(records("faulty")) == 4, what="submission")
    pidfile = CLUSTER / "slurm" / "run" / "slurmctld.pid"
    os.kill(int(pidfile.read_text()), signal.SIGTERM)
    wait_for(lambda: subprocess.run(["scontrol", "ping"], capture_output=True,
                                    text=True).stdout.count("DOWN"), what="slurmctld down")
    time.sleep(3)  # the client polls a controller that is not there
    subprocess.run([SCRIPTS / "start_slurm.sh"], check=True, capture_output=True)
    out, err = client.communicate(timeout=300)
    assert client.returncode == 0, err
    assert out == local and len(records("faulty")) == 4


def test_task_over_its_walltime_fails_with_the_schedulers_reason(job, tmp_path):
    start, _ = job  # SLURM counts walltime in minutes: this test takes about 1.5 minutes
    client = start("--time", "1", "--retries", "0", commands=("sleep 600",))
    out, err = client.communicate(timeout=400)
    assert client.returncode == 3, err
    assert b"200 of 200 configs failed" in err and b"TIMEOUT" in err
    assert {r["state"] for r in records("faulty")} == {"failed"}
    assert all("TIMEOUT" in r["reason"] for r in records("faulty"))


@pytest.mark.parametrize("damage", ["truncate", "remove"])
def test_damaged_results_are_resubmitted_never_accepted(job, tmp_path, damage):
    """A wrapper around wfl damages task 1's outcomes file, once: the client must notice,
    submit that task again, and finish with the right output."""
    marker = tmp_path / "damaged-once"
    wrapper = tmp_path / "wfl-wrapper"
    action = ('head -c 200 "$out" > "$out.cut" && mv "$out.cut" "$out"' if damage == "truncate"
              else 'rm -f "$out"')
    wrapper.write_text(f"""#!/bin/bash
"{PROGRAM}" "$@"; code=$?
prev=; for a in "$@"; do [ "$prev" = --outcomes ] && out=$a; prev=$a; done
if [ "$out" = outcomes-1.jsonl ] && [ ! -e "{marker}" ]; then
  touch "{marker}"; {action}
fi
exit $code
""")
    wrapper.chmod(0o755)
    start, local = job
    client = start(wfl=str(wrapper), commands=())
    out, err = client.communicate(timeout=300)
    assert client.returncode == 0, err
    assert marker.exists() and out == local
    expected = b"unreadable" if damage == "truncate" else b"outcomes-1.jsonl is missing"
    assert expected in err and b"retry 1 of 2" in err
    tasks = records("faulty")
    assert len(tasks) == 5 and tasks[0]["state"] == "failed" and tasks[-1]["state"] == "done"
    assert sum(t["state"] == "done" for t in tasks) == 4  # the other tasks ran once
