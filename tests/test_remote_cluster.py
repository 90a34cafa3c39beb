"""``--remote`` against the real test cluster: SLURM and Grid Engine on this machine,
reached over real SSH on 127.0.0.1:2222 (tests/cluster/start.sh starts all three), and the
PBS backend against the stand-in qsub/qstat/qdel of tests/cluster/pbs/ (PBS itself cannot
be installed here from packages: the stand-in speaks PBS Pro's formats)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import PBS_STANDIN, records, require_cluster, system_toml, write_config
from helpers_wfl import wfl_argv, wfl_program

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    """1,000 rattled Cu cells and their local EMT result."""
    folder = tmp_path_factory.mktemp("thousand")
    path = write_configs(folder / "in.xyz", rattled_cells(1000))
    local = wfl_program("--no-cache", "calc", "--calc", "emt", path)
    assert local.returncode == 0
    return path, local.stdout


def slurm_system(tmp_path, name="slurm-local", **kwargs):
    require_cluster("slurm")
    write_config(system_toml(name, "slurm", tmp_path / "runs", ssh=True, **kwargs))
    return name


def wait_for(condition, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("scheduler", ["slurm", "sge"])
def test_thousand_configs_equal_the_local_run_byte_for_byte(tmp_path, thousand, scheduler):
    require_cluster(scheduler)
    name = f"{scheduler}-local"
    write_config(system_toml(name, scheduler, tmp_path / "runs", ssh=True))
    path, local = thousand
    remote = wfl_program("--no-cache", "--remote", name, "--per-job", "100", "calc", "--calc",
                         "emt", path)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local
    tasks = records(name)
    assert len(tasks) == 10 and len({t["job_id"] for t in tasks}) == 1  # one array job
    assert {t["state"] for t in tasks} == {"done"}


def test_pbs_standin_runs_array_jobs(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{PBS_STANDIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PBS_STANDIN_HOME", str(tmp_path / "pbs"))
    write_config(system_toml("pbs", "pbs", tmp_path / "runs", ssh=False))
    path = write_configs(tmp_path / "in.xyz", rattled_cells(120))
    local = wfl_program("--no-cache", "calc", "--calc", "emt", path)
    remote = wfl_program("--no-cache", "--remote", "pbs", "--per-job", "50", "calc", "--calc",
                         "emt", path)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert [t["job_id"] for t in records("pbs")] == ["1[].standin"] * 3


def test_killed_client_rerun_submits_nothing_twice(tmp_path, thousand):
    name = slurm_system(tmp_path, commands=["sleep 2"])
    path, local = thousand
    out = tmp_path / "out.xyz"
    args = wfl_argv("--no-cache", "--remote", name, "--per-job", "100", "calc", "--calc", "emt",
               path, "-o", out)
    client = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: len(records(name)) == 10, what="10 tasks submitted")
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=60)
    assert client.returncode == 130, err
    assert b"keep running" in err and not out.exists()  # no half-written output
    rerun = subprocess.run(args, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert out.read_bytes() == local
    assert len(records(name)) == 10  # every task was submitted exactly once
    assert b"re-attached to 10 task(s)" in rerun.stderr
    assert b"0 job(s) with 0 task(s) submitted" in rerun.stderr


def _cancel_second_task(name):
    """scancel task 2 once it runs (SLURM forgets a task cancelled while pending at once,
    so only a running one has a reason to report)."""
    task = wait_for(lambda: next((t for t in records(name) if t["task"] == 2), None),
                    what="task 2 submitted")
    target = f"{task['job_id']}_2"
    wait_for(lambda: subprocess.run(["squeue", "--noheader", "--states=R", "--format=%i"],
                                    capture_output=True, text=True).stdout.split().count(target),
             what="task 2 running")
    subprocess.run(["scancel", target], check=True)
    return task


def test_scancelled_task_is_resubmitted(tmp_path):
    name = slurm_system(tmp_path, commands=["sleep 3"])
    path = write_configs(tmp_path / "in.xyz", rattled_cells(200))
    local = wfl_program("--no-cache", "calc", "--calc", "emt", path)
    client = subprocess.Popen(wfl_argv("--no-cache", "--remote", name, "--per-job", "50", "calc",
                                  "--calc", "emt", path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    cancelled = _cancel_second_task(name)
    out, err = client.communicate(timeout=600)
    assert client.returncode == 0, err
    assert out == local.stdout
    assert b"CANCELLED" in err and b"submitting it again (retry 1 of 2)" in err
    tasks = records(name)
    assert len(tasks) == 5
    first = next(t for t in tasks if t["id"] == cancelled["id"])
    assert first["state"] == "failed" and "CANCELLED" in first["reason"]
    assert tasks[-1]["chunk_hash"] == first["chunk_hash"] and tasks[-1]["attempt"] == 1


def test_scancelled_task_with_no_retries_fails_its_configs(tmp_path):
    name = slurm_system(tmp_path, commands=["sleep 3"])
    path = write_configs(tmp_path / "in.xyz", rattled_cells(200))
    failed = tmp_path / "failed.xyz"
    client = subprocess.Popen(wfl_argv("--no-cache", "--remote", name, "--per-job", "50",
                                  "--retries", "0", "calc", "--calc", "emt", path, "--failed",
                                  failed), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _cancel_second_task(name)
    out, err = client.communicate(timeout=600)
    assert client.returncode == 3, err
    assert b"50 of 200 configs failed" in err and b"CANCELLED" in err
    assert out.count(b"Lattice") == 150 and failed.read_bytes().count(b"Lattice") == 50
    assert b"TaskLost" in failed.read_bytes()
    assert len(records(name)) == 4


def test_hostile_rundir_and_job_name_run_nothing_else(tmp_path):
    marker = tmp_path / "injected"
    hostile = f"runs 'q\" ; $(touch {marker}) `touch {marker}`\nline two"
    require_cluster("slurm")
    write_config(system_toml("hostile", "slurm", tmp_path / hostile, ssh=True))
    path = write_configs(tmp_path / "in.xyz", rattled_cells(40))
    local = wfl_program("--no-cache", "calc", "--calc", "emt", path)
    remote = wfl_program("--no-cache", "--remote", "hostile", "--per-job", "20", "--job-name",
                         f"x; touch {marker}; $(touch {marker})", "calc", "--calc", "emt", path)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert not marker.exists()
    folders = list((tmp_path / hostile).iterdir())
    assert len(folders) == 1 and (folders[0] / "status-2.json").exists()
    script = (folders[0] / "job.sh").read_text()
    assert "#SBATCH --job-name=x__touch_" in script and f"touch {marker}" not in \
        script.split("\n", 2)[1]


def test_unknown_host_key_is_refused_unless_the_system_opts_in(tmp_path):
    require_cluster("slurm")
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    write_config(system_toml("stranger", "slurm", tmp_path / "runs", ssh=True,
                             known_hosts=empty))
    refused = wfl_program("remote", "doctor", "stranger")
    assert refused.returncode == 1 and b"host key" in refused.stdout + refused.stderr
    assert empty.read_text() == ""
    write_config(system_toml("trusting", "slurm", tmp_path / "runs", ssh=True,
                             known_hosts=empty, extra="accept_new_host = true"))
    accepted = wfl_program("remote", "doctor", "trusting")
    assert accepted.returncode == 0, accepted.stdout
    assert "[127.0.0.1]:2222" in empty.read_text()


def test_remote_commands_against_slurm(tmp_path):
    name = slurm_system(tmp_path, commands=["sleep 2"])
    doctor = wfl_program("remote", "doctor", name)
    assert doctor.returncode == 0 and doctor.stdout.count(b"ok  ") == 4, doctor.stdout
    path = write_configs(tmp_path / "in.xyz", rattled_cells(60))
    done = wfl_program("--no-cache", "--remote", name, "--per-job", "30", "calc", "--calc", "emt",
                       path)
    assert done.returncode == 0, done.stderr
    first, second = records(name)

    listing = wfl_program("remote", "ls", "--system", name)
    assert listing.stdout.splitlines()[0].split()[:5] == [b"ID", b"SYSTEM", b"JOB", b"TASK",
                                                         b"STATE"]
    assert len(listing.stdout.splitlines()) == 3 and b" done " in listing.stdout
    assert wfl_program("remote ls --state running").stdout == b"no jobs recorded that match\n"

    shown = wfl_program("remote", "show", first["id"])
    assert shown.returncode == 0
    assert b"#SBATCH --array=1-2" in shown.stdout and b"sleep 2" in shown.stdout
    assert b'"exit": 0' in shown.stdout and b"--- " in shown.stdout

    # a job still in the queue: sync sees it, cancel (ids on stdin) stops it, clean refuses it
    client = subprocess.Popen(wfl_argv("--no-cache", "--remote", name, "--per-job", "30", "calc",
                                  "--calc", "emt", "--prefix", "again_", path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: len(records(name)) == 4, what="the second job")
    client.send_signal(signal.SIGINT)
    client.communicate(timeout=60)
    queued = [t for t in records(name) if t["state"] in ("queued", "running")]
    assert len(queued) == 2
    refused = wfl_program("remote", "clean", str(queued[0]["id"]), "--yes")
    assert refused.returncode == 2 and b"cancel it first" in refused.stderr
    synced = wfl_program("remote", "sync")
    assert synced.returncode == 0 and b"checked 2 active task(s)" in synced.stdout
    cancel = wfl_program("remote", "cancel", "-",
                         input="\n".join(str(t["id"]) for t in queued).encode())
    assert cancel.returncode == 0 and b"cancelled 2 task(s)" in cancel.stdout
    assert {t["state"] for t in records(name)[2:]} == {"cancelled"}
    wait_for(lambda: b"_" not in subprocess.run(["squeue", "--noheader", "-j",
                                                 queued[0]["job_id"]],
                                                capture_output=True).stdout,
             what="the cancelled job to leave the queue")

    only_done = wfl_program("remote", "clean", "--system", name, "--done", "--dry-run")
    assert b"would remove 2 task record(s) and 1 job folder(s)" in only_done.stdout
    dry = wfl_program("remote", "clean", "--system", name, "--dry-run")
    assert dry.returncode == 0 and b"would remove 4 task record(s) and 2 job folder(s)" in \
        dry.stdout
    assert len(list((tmp_path / "runs").iterdir())) == 2
    unasked = wfl_program("remote", "clean", "--system", name, stdin=subprocess.DEVNULL)
    assert unasked.returncode == 2 and b"without --yes" in unasked.stderr
    cleaned = wfl_program("remote", "clean", "--system", name, "--yes")
    assert cleaned.returncode == 0 and b"removed 4 task record(s)" in cleaned.stdout
    assert list((tmp_path / "runs").iterdir()) == [] and records(name) == []
