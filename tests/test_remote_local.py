"""``--remote`` end to end with the ``local`` scheduler (a detached background process on
this machine, no SSH): the same batch engine, job scripts, store records and re-attaching
as on a cluster, and every error a user can make on the command line."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_remote import records, system_toml, write_config
from helpers_wfl import PROGRAM, wfl_argv, wfl_program


@pytest.fixture
def here(tmp_path, hostile_path):
    """A system 'here' with the local scheduler, and 60 configs to run on it."""
    write_config(system_toml("here", "local", hostile_path / "runs", ssh=False,
                             extra="[systems.here.partitions.short]\ncores = 2\n"
                                   'time = "1:00:00"\nnodes = 4\n'))
    return write_configs(tmp_path / "in.xyz", rattled_cells(60))


def test_calc_on_local_scheduler_equals_local_run(here):
    local = wfl_program("--no-cache", "calc", "--calc", "emt", here, timeout=300)
    remote = wfl_program("--no-cache", "--remote", "here", "--per-job", "25", "calc", "--calc",
                         "emt", here, timeout=300)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    tasks = records("here")
    assert [(t["task"], t["configs"], t["state"]) for t in tasks] == \
        [(1, 25, "done"), (2, 25, "done"), (3, 10, "done")]
    assert b"1 job(s) with 3 task(s) submitted" in remote.stderr


def test_md_outputs_come_back_identical(here):
    args = ["md", "--calc", "emt", "--steps", "4", "--every", "2", "--temperature", "300"]
    local = wfl_program("--no-cache", "--seed", "7", *args, here, timeout=300)
    remote = wfl_program("--no-cache", "--seed", "7", "--remote", "here", "--per-job", "30", *args,
                         here, timeout=300)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.count(b"Lattice") == 180


def test_cached_configs_are_not_sent(here):
    first = wfl_program("--remote", "here", "--per-job", "30", "calc", "--calc", "emt", here,
                        timeout=300)
    again = wfl_program("--remote", "here", "--per-job", "30", "calc", "--calc", "emt", here,
                        timeout=300)
    assert first.returncode == again.returncode == 0
    assert again.stdout == first.stdout
    assert b"0 job(s) with 0 task(s) submitted" in again.stderr
    assert len(records("here")) == 2


def test_results_that_come_back_are_kept_under_their_input_text_too(here):
    """A rerun is answered by the outputs kept for each frame's text alone (cache.py's
    text keys), so nothing is sent again."""
    args = ["--remote", "here", "--per-job", "30", "calc", "--calc", "emt", here]
    first = wfl_program(*args, timeout=300)
    assert first.returncode == 0, first.stderr
    with contextlib.closing(sqlite3.connect(Path(os.environ["WFLCLI_HOME"]) / "store.sqlite")
                            ) as db, db:
        assert db.execute("DELETE FROM results WHERE kind = 'annotation'").rowcount == 60
    again = wfl_program(*args, timeout=300)
    assert again.stdout == first.stdout
    assert b"0 job(s) with 0 task(s) submitted" in again.stderr


def test_rerun_reattaches_to_finished_tasks_and_refresh_runs_them_again(here):
    args = ["--no-cache", "--remote", "here", "--per-job", "30", "calc", "--calc", "emt", here]
    first = wfl_program(*args, timeout=300)
    again = wfl_program(*args, timeout=300)
    assert again.stdout == first.stdout
    assert b"re-attached to 2 task(s)" in again.stderr and len(records("here")) == 2
    refreshed = wfl_program("--refresh", *args, timeout=300)
    assert refreshed.stdout == first.stdout and len(records("here")) == 4


def test_output_file_and_failed_file_are_written_by_the_client(here, tmp_path):
    out, failed = tmp_path / "out.xyz", tmp_path / "failed.xyz"
    done = wfl_program("--no-cache", "--remote", "here", "calc", "--calc", "emt", here, "-o", out,
                       "--failed", failed, timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == wfl_program("--no-cache", "calc", "--calc", "emt", here,
                                           timeout=300).stdout
    assert failed.read_bytes() == b""


def test_failed_configs_come_back_as_failed(tmp_path, here):
    from ase import Atoms

    bad = write_configs(tmp_path / "bad.xyz", [*rattled_cells(2), Atoms("Xe", cell=[5] * 3)])
    local = wfl_program("--no-cache", "calc", "--calc", "emt", bad, timeout=300)
    remote = wfl_program("--no-cache", "--remote", "here", "calc", "--calc", "emt", bad,
                         timeout=300)
    assert local.returncode == remote.returncode == 3
    assert remote.stdout == local.stdout and b"wfl_error" in remote.stdout
    assert b"1 of 3 configs failed" in remote.stderr


def test_unknown_system_is_a_usage_error(here):
    done = wfl_program("--remote", "nowhere", "calc", "--calc", "emt", here, timeout=300)
    assert done.returncode == 2
    assert b"--remote nowhere: no such system" in done.stderr and b"known: here" in done.stderr


def test_global_option_after_the_verb_gets_a_hint(here):
    done = wfl_program("calc", "--remote", "here", "--calc", "emt", here, timeout=300)
    assert done.returncode == 2
    assert b"--remote is a global option: give it before the verb" in done.stderr


def test_verbs_that_make_configs_refuse_remote(here):
    done = wfl_program("--remote", "here", "smiles", "CCO", timeout=300)
    assert done.returncode == 2 and b"wfl smiles runs here" in done.stderr


@pytest.mark.parametrize("options, message", [
    (["--partition", "long"], b"has no such partition (known: short)"),
    (["--cores", "4"], b"partition short of here has 2 cores per node"),
    (["--time", "2:00:00"], b"allows at most 1:00:00"),
    (["--time", "soon"], b"is not a walltime"),
    (["--nodes", "5"], b"partition short of here allows at most 4 nodes per job"),
])
def test_impossible_resources_are_refused_before_submitting(here, options, message):
    done = wfl_program("--remote", "here", *options, "calc", "--calc", "emt", here, timeout=300)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert records("here") == []


def test_descriptor_needs_species_remotely(here):
    done = wfl_program("--remote", "here", "descriptor", here, timeout=300)
    assert done.returncode == 2 and b"give --species" in done.stderr


def test_a_far_side_that_cannot_run_wfl_is_one_clear_error(tmp_path, here):
    write_config(system_toml("broken", "local", tmp_path / "runs2", ssh=False).replace(
        PROGRAM, str(tmp_path / "no-such-wfl")))
    done = wfl_program("--no-cache", "--remote", "broken", "calc", "--calc", "emt", here,
                       timeout=300)
    assert done.returncode == 1
    assert b"wfl failed in job" in done.stderr and b"exit 127" in done.stderr
    assert b"Traceback" not in done.stderr and done.stdout == b""


def test_bad_verb_arguments_are_refused_before_submitting(here):
    done = wfl_program("--remote", "here", "calc", "--calc", "emt", "--calc-kwargs", '{"bad": 1}',
                       here, timeout=300)
    assert done.returncode == 2 and b"unknown parameter 'bad'" in done.stderr
    assert records("here") == []


def test_remote_doctor_and_config_on_the_local_system(here):
    doctor = wfl_program("remote", "doctor", "here", timeout=300)
    assert doctor.returncode == 0, doctor.stdout
    assert b"ok    run " in doctor.stdout and b"same wflcli version" in doctor.stdout
    shown = wfl_program("remote", "config", timeout=300)
    assert b"[systems.here]" in shown.stdout and b'scheduler = "local"  # ' in shown.stdout


def test_a_damaged_store_is_a_clear_error_not_a_hang(here):
    import os

    store = os.path.join(os.environ["WFLCLI_HOME"], "store.sqlite")
    with open(store, "wb") as stream:
        stream.write(b"not a database" * 50)
    done = wfl_program("--no-cache", "--remote", "here", "calc", "--calc", "emt", here, timeout=60)
    assert done.returncode == 1 and b"cannot be used" in done.stderr


@pytest.mark.slow
def test_client_and_sync_agree_on_a_task_that_vanished(tmp_path, hostile_path):
    """A task killed without a trace (no status file; the local scheduler keeps no
    accounting): the running client, and ``wfl remote sync`` after a killed client, record
    the same state and the same reason, from the same classifier."""
    import os
    import signal
    import time

    write_config(system_toml("here", "local", hostile_path / "runs", ssh=False,
                             commands=("sleep 60",)))
    path = write_configs(tmp_path / "in.xyz", rattled_cells(4))
    args = wfl_argv("--no-cache", "--remote", "here", "--retries", "0", "calc", "--calc", "emt",
               path)

    def started(count):
        for _ in range(300):
            found = records("here")
            if len(found) == count:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError("the task was not submitted")

    client = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.killpg(int(started(1)["job_id"]), signal.SIGKILL)
    _, stderr = client.communicate(timeout=30)
    assert client.returncode == 3, stderr
    seen_by_client = records("here")[0]

    client = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    job = int(started(2)["job_id"])
    client.kill()
    client.wait()
    os.killpg(job, signal.SIGKILL)
    synced = wfl_program("remote", "sync", timeout=30)
    assert synced.returncode == 0 and b"now 1 failed" in synced.stdout, synced.stdout
    seen_by_sync = records("here")[1]
    assert seen_by_client["state"] == seen_by_sync["state"] == "failed"
    assert seen_by_client["reason"] == seen_by_sync["reason"]
    assert seen_by_sync["reason"].startswith("left the queue without a verdict")
    assert "missing: out-1.xyz, outcomes-1.jsonl, log-1.txt, status-1.json" in \
        seen_by_sync["reason"]
