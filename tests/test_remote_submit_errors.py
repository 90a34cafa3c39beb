"""Never hang, never run twice: every error met while a remote job is being submitted or
collected ends the run within seconds with one clear line and exit code 1, the store's
records say what happened, a fixed config takes effect on the next run, and a task is
marked done only once its results are committed to the cache.

Each case runs ``wfl`` as a subprocess with a 30 s bound (a hang fails the test). The local
scheduler serves where no SSH is needed; the cases that need sbatch use the test SLURM
through the local transport."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, require_cluster, system_toml, write_config
from helpers_wfl import PROGRAM, wfl_program

BOUND = 30  # seconds: an error must be reported by then


@pytest.fixture
def configs(tmp_path):
    return write_configs(tmp_path / "in.xyz", rattled_cells(12))


def calc(system, configs, *options, env=None):
    return wfl_program("--no-cache", "--remote", system, "--per-job", "5", *options, "calc",
                       "--calc", "emt", configs, env=env, timeout=BOUND)


def assert_one_clear_error(done, *phrases):
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert done.stdout == b""
    for phrase in phrases:
        assert phrase in stderr, stderr


def test_rundir_under_a_file(tmp_path, configs):
    (tmp_path / "afile").write_text("x")
    write_config(system_toml("here", "local", tmp_path / "afile" / "runs", ssh=False))
    done = calc("here", configs)
    assert_one_clear_error(done, "here: cannot make the job folder", "afile")
    assert records("here") == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("port, phrase", [(None, "cannot connect"),
                                          (70000, "port 70000 is not a TCP port")])
def test_ssh_port_with_nothing_listening_or_out_of_range(tmp_path, configs, port, phrase):
    text = system_toml("far", "local", tmp_path / "runs", ssh=True)
    write_config(text.replace("port = 2222", f"port = {port or free_port()}"))
    done = calc("far", configs)
    assert_one_clear_error(done, phrase)
    assert records("far") == []


def test_partition_memory_that_is_no_size(tmp_path, hostile_path, configs):
    write_config(system_toml("here", "local", hostile_path / "runs", ssh=False,
                             extra='[systems.here.partitions.big]\nmemory = "lots"\n'))
    done = calc("here", configs)
    assert done.returncode == 1 and b"memory 'lots' is not a size" in done.stderr, done.stderr
    assert records("here") == []


def test_mem_larger_than_the_partition_is_refused(tmp_path, hostile_path, configs):
    write_config(system_toml("here", "local", hostile_path / "runs", ssh=False,
                             extra='[systems.here.partitions.big]\nmemory = "4G"\n'))
    done = calc("here", configs, "--mem", "8G")
    assert done.returncode == 2 and b"has 4G of memory per node" in done.stderr, done.stderr
    done = calc("here", configs, "--mem", "lots")
    assert done.returncode == 2 and b"--mem: 'lots' is not a size" in done.stderr, done.stderr


@pytest.mark.slow
def test_wfl_that_cannot_run_on_the_far_side_then_fixed(tmp_path, hostile_path, configs):
    """``wfl = /bin/false``: one error, records failed (not queued), sync leaves them
    failed, and the rerun with the right wfl submits afresh instead of re-attaching."""
    text = system_toml("here", "local", hostile_path / "runs", ssh=False)
    config = write_config(text.replace(f'wfl = "{PROGRAM}"', 'wfl = "/bin/false"'))
    done = calc("here", configs)
    assert_one_clear_error(done, "wfl failed in job", "exit 1")
    assert {r["state"] for r in records("here")} == {"failed"}
    assert len(records("here")) == 3
    synced = wfl_program("remote", "sync", timeout=BOUND)
    assert synced.returncode == 0 and {r["state"] for r in records("here")} == {"failed"}
    config.write_text(text)
    fixed = calc("here", configs)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout == wfl_program("--no-cache", "calc", "--calc", "emt", configs,
                                       timeout=BOUND).stdout
    assert b"re-attached to" not in fixed.stderr
    assert [r["state"] for r in records("here")] == ["failed"] * 3 + ["done"] * 3


def sbatch_wrapper(tmp_path, body: str) -> dict:
    """An environment whose PATH puts a wrapper ``sbatch`` first (body, then the real one)."""
    require_cluster("slurm")
    folder = tmp_path / "bin"
    folder.mkdir()
    wrapper = folder / "sbatch"
    wrapper.write_text(f"#!/bin/sh\n{body}\nexec /usr/bin/sbatch \"$@\"\n")
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


@pytest.mark.cluster
@pytest.mark.slow
def test_sbatch_refusing_a_header_line(tmp_path, configs):
    require_cluster("slurm")
    write_config(system_toml("slurm-here", "slurm", tmp_path / "runs", ssh=False,
                             extra='header = ["#SBATCH --no-such-option=1"]\n'))
    done = calc("slurm-here", configs)
    assert_one_clear_error(done, "slurm-here: submitting failed (exit",
                          "unrecognized option '--no-such-option=1'")
    assert records("slurm-here") == []


@pytest.mark.cluster
@pytest.mark.slow
def test_store_locked_at_submission_cancels_the_unrecorded_job(tmp_path, configs):
    """The store stays locked (past WFLCLI_BUSY_TIMEOUT) while sbatch runs: the job is
    cancelled, not left running unrecorded, and the rerun submits it once. The first job
    may not begin for minutes, so it is still pending when it is cancelled (a job that
    starts at once can finish in the second before: seen in CI)."""
    store = Path(os.environ["WFLCLI_HOME"]) / "store.sqlite"
    locker = (f"import sqlite3, time; db = sqlite3.connect({str(store)!r}, "
              "isolation_level=None); db.execute('BEGIN EXCLUSIVE'); time.sleep(4)")
    marker = tmp_path / "locked-once"
    env = sbatch_wrapper(tmp_path, f'[ -e {marker} ] || {{ touch {marker}; python3 -c '
                                   f'"{locker}" >/dev/null 2>&1 & sleep 1; }}')
    config = write_config(system_toml("slurm-here", "slurm", tmp_path / "runs", ssh=False,
                                      extra='header = ["#SBATCH --begin=now+600"]\n'))
    env["WFLCLI_BUSY_TIMEOUT"] = "1"
    done = calc("slurm-here", configs, env=env)
    assert_one_clear_error(done, "stayed locked", "cancelled job")
    job = done.stderr.decode().split("cancelled job ")[1].split()[0]
    states = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j", job],
                            capture_output=True, text=True).stdout.splitlines()
    assert records("slurm-here") == []
    assert states and all(state.startswith("CANCELLED") for state in states), states
    config.write_text(system_toml("slurm-here", "slurm", tmp_path / "runs", ssh=False))
    again = calc("slurm-here", configs, env=env)
    assert again.returncode == 0, again.stderr
    assert b"1 job(s) with 3 task(s) submitted" in again.stderr
    assert [r["state"] for r in records("slurm-here")] == ["done"] * 3


@pytest.mark.slow
def test_task_is_done_only_after_its_results_are_committed(tmp_path, hostile_path):
    """A trigger in the store notes how many results the cache holds at the moment each
    task is marked done: every task's configs are already there."""
    write_config(system_toml("here", "local", hostile_path / "runs", ssh=False))
    path = write_configs(tmp_path / "in.xyz", rattled_cells(30))
    assert wfl_program("remote", "ls", timeout=BOUND).returncode == 0  # creates the store
    db = sqlite3.connect(Path(os.environ["WFLCLI_HOME"]) / "store.sqlite")
    db.executescript("""
        CREATE TABLE probe (job INTEGER, results INTEGER);
        CREATE TRIGGER noted AFTER UPDATE OF state ON jobs WHEN NEW.state = 'done'
        BEGIN INSERT INTO probe VALUES (NEW.id, (SELECT count(*) FROM results)); END;""")
    db.commit()
    done = wfl_program("--remote", "here", "--per-job", "10", "calc", "--calc", "emt", path,
                       timeout=120)
    assert done.returncode == 0, done.stderr
    seen = db.execute("SELECT job, results FROM probe ORDER BY rowid").fetchall()
    assert len(seen) == 3
    for order, (_, results) in enumerate(seen, 1):
        assert results >= 10 * order
