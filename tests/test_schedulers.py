"""Job scripts (golden files) and the parsing of each scheduler's answers.

The golden scripts in tests/golden/ are what a user's cluster receives: review a change to
them as you would a change to the cluster's job. Regenerate after an intended change with
WFL_UPDATE_GOLDEN=1 pytest tests/test_schedulers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from wflcli.exec.batch.layout import task_body
from wflcli.exec.schedulers import (QUEUED, RUNNING, STUCK, JobRequest, Resources,
                                    expand_tasks, format_walltime, get_scheduler,
                                    safe_job_name, walltime_seconds)
from wflcli.exec.schedulers.verdict import EndState, Verdict

GOLDEN = Path(__file__).parent / "golden"
FOLDER = "/scratch/me/wfl runs/wfl-20261124-120000-abcdef"
COMMAND = ["--seed", "0", "--parallel", "4", "--chunk", "10", "calc", "--calc", "emt"]


def request(tasks: int, nodes: int = 1) -> JobRequest:
    return JobRequest("wfl-calc", tasks, FOLDER, task_body(["wfl"], COMMAND),
                      Resources(cores=4, memory="8G", time="2:00:00", partition="standard",
                                gpus=1, account="chem42", qos="normal", nodes=nodes),
                      header=("#EXTRA site line",),
                      commands=("module load python/3.11", "source ~/venvs/wfl/bin/activate"))


@pytest.mark.parametrize("scheduler, tasks, nodes", [
    ("slurm", 10, 1), ("sge", 10, 1), ("pbs", 10, 1), ("pbs", 1, 1), ("local", 3, 1),
    ("slurm", 10, 2), ("sge", 10, 2), ("pbs", 10, 2)])
def test_job_script_matches_golden_file(scheduler, tasks, nodes):
    """``--nodes 2``: MPI ranks over two nodes, and WFL_NODES / WFL_CORES for the code."""
    script = get_scheduler(scheduler).script(request(tasks, nodes))
    golden = GOLDEN / (f"{scheduler}-{tasks}.sh" if nodes == 1 else
                       f"{scheduler}-{tasks}-nodes{nodes}.sh")
    if os.environ.get("WFL_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(script)
    assert script == golden.read_text()


def test_job_script_runs_and_writes_status_last(tmp_path):
    """The body, run by bash with a stand-in wfl, writes output, log and then the status."""
    fake = tmp_path / "fake-wfl"
    fake.write_text('#!/bin/sh\nfor a; do case $prev in --outcomes) printf \'{"end": 0}\\n\' '
                    '> "$a";; esac; prev=$a; done\necho ran; exit 3\n')
    fake.chmod(0o755)
    job = JobRequest("t", 2, str(tmp_path), task_body([str(fake)], ["calc"]))
    script = tmp_path / "job.sh"
    script.write_text(get_scheduler("slurm").script(job))
    done = subprocess.run(["bash", str(script)], env={**os.environ,
                                                      "SLURM_ARRAY_TASK_ID": "2"})
    assert done.returncode == 0  # exit 3 (some configs failed) is a finished task
    status = json.loads((tmp_path / "status-2.json").read_text())
    assert status["task"] == 2 and status["exit"] == 3 and len(status["sha256"]) == 64
    assert (tmp_path / "log-2.txt").read_text() == "ran\n"
    assert not (tmp_path / "status-2.json.part").exists()


def test_task_number_must_be_a_number(tmp_path):
    job = JobRequest("t", 1, str(tmp_path), ["echo ran > ran.txt"])
    script = tmp_path / "job.sh"
    script.write_text(get_scheduler("sge").script(job))
    done = subprocess.run(["bash", str(script)], capture_output=True,
                          env={**os.environ, "SGE_TASK_ID": "1;touch x"})
    assert done.returncode == 2 and b"bad task number" in done.stderr
    assert not (tmp_path / "ran.txt").exists() and not (tmp_path / "x").exists()


def test_job_names_keep_only_safe_characters():
    assert safe_job_name("wfl-calc") == "wfl-calc"
    assert safe_job_name("a b;$(rm -rf ~)\n") == "a_b___rm_-rf____"
    assert safe_job_name("--array=1") == "array_1"
    assert safe_job_name("") == "wfl"


def test_slurm_parses_squeue_and_scontrol():
    slurm = get_scheduler("slurm")
    states = slurm.parse_query("12_[3-5,7] PD\n12_1 R\n12_2 CG\n13 R\nsqueue: noise\n")
    assert states == {("12", 3): QUEUED, ("12", 4): QUEUED, ("12", 5): QUEUED,
                      ("12", 7): QUEUED, ("12", 1): RUNNING, ("12", 2): RUNNING}
    assert slurm.parse_submit("4242;cluster\n") == "4242"
    explained = slurm.parse_explain("JobId=13 ArrayJobId=12 JobState=TIMEOUT Reason=TimeLimit "
                                    "ExitCode=0:15 RunTime=00:10:00")
    assert explained == Verdict("SLURM", EndState.TIMEOUT, "0:15", "reason TimeLimit")
    assert slurm.cancel_argv([("12", 3), ("12", 4)]) == ["scancel", "12_3", "12_4"]


def test_sge_parses_qstat_and_qacct():
    sge = get_scheduler("sge")
    qstat = """job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID
-----------------------------------------------------------------------------------------------------------------
      7 0.55500 wfl-calc   root         r     11/24/2026 07:27:10 all.q@localhost                    1 1
      7 0.55500 wfl-calc   root         Eqw   11/24/2026 07:27:10 all.q@localhost                    1 2
      7 0.00000 wfl-calc   root         qw    11/24/2026 07:27:09                                    1 3-10:1
      8 0.00000 single     root         qw    11/24/2026 07:27:09                                    1
"""
    states = sge.parse_query(qstat)
    assert states[("7", 1)] == RUNNING and states[("7", 2)] == STUCK
    assert [states[("7", t)] for t in range(3, 11)] == [QUEUED] * 8
    assert states[("8", 1)] == QUEUED
    assert sge.parse_submit("7.1-10:1\n") == "7"
    assert sge.parse_explain("qname all.q\nfailed 100 : assumedly after job\nexit_status 137"
                             "\n") == Verdict("Grid Engine", EndState.CANCELLED, "137",
                                              "failed 100 : assumedly after job")


def test_pbs_parses_qstat_json():
    pbs = get_scheduler("pbs")
    answer = {"Jobs": {"5[].srv": {"job_state": "B"}, "5[1].srv": {"job_state": "R"},
                       "5[2].srv": {"job_state": "Q"}, "5[3].srv": {"job_state": "F",
                                                                    "Exit_status": 271},
                       "6.srv": {"job_state": "H"}}}
    states = pbs.parse_query(json.dumps(answer))
    assert states == {("5[].srv", 1): RUNNING, ("5[].srv", 2): QUEUED, ("6.srv", 1): QUEUED}
    assert pbs.parse_submit("5[].srv\n") == "5[].srv"
    assert pbs.cancel_argv([("5[].srv", 2), ("6.srv", 1)]) == ["qdel", "5[2].srv", "6.srv"]
    assert pbs.parse_explain(json.dumps({"Jobs": {"5[3].srv": answer["Jobs"]["5[3].srv"]}})) \
        == Verdict("PBS", EndState.CANCELLED, "271")
    with pytest.raises(ValueError, match="no job id"):
        pbs.parse_submit("qsub: Unknown queue\n")


def test_local_launchers_that_ended_are_not_running_even_unreaped():
    # a container's minimal init may never reap an ended launcher: it stays a zombie
    local = get_scheduler("local")
    live = subprocess.Popen(["sleep", "30"])
    ended = subprocess.Popen(["true"])  # not waited for: a zombie of this process
    try:
        for _ in range(500):
            if subprocess.run(["ps", "-o", "stat=", "-p", str(ended.pid)], capture_output=True,
                              text=True).stdout.startswith("Z"):
                break
            time.sleep(0.01)
        answer = subprocess.run(local.query_argv([str(live.pid), str(ended.pid), "999999999"]),
                                capture_output=True, text=True, check=True).stdout
        assert local.parse_query(answer) == {(str(live.pid), 0): RUNNING}
    finally:
        live.kill()
        live.wait()
        ended.wait()


def test_task_lists_expand():
    assert expand_tasks("1-10:3") == [1, 4, 7, 10]
    assert expand_tasks("[1,5-6]") == [1, 5, 6]
    assert expand_tasks("2-4%1") == [2, 3, 4]


@pytest.mark.parametrize("text, seconds", [("90", 5400), ("5:30", 330), ("2:00:00", 7200),
                                           ("1-12", 129600), ("2-00:00:00", 172800),
                                           ("48:00:00", 172800)])
def test_walltimes_in_slurm_forms(text, seconds):
    assert walltime_seconds(text) == seconds
    assert walltime_seconds(format_walltime(seconds)) == seconds


@pytest.mark.parametrize("text", ["soon", "1:75:00", "-1", "1:2:3:4"])
def test_bad_walltimes_are_refused(text):
    with pytest.raises(ValueError, match="walltime"):
        walltime_seconds(text)


# sacct lines as the explain command prints them ("sacct|State|ExitCode"), captured from the
# test cluster's SLURM 22.05 (and, for the states it cannot produce, written in its format)
@pytest.mark.parametrize("answer, end, code, detail", [
    ("sacct|COMPLETED|0:0", EndState.COMPLETED, "0:0", ""),
    ("sacct|FAILED|3:0", EndState.FAILED, "3:0", ""),
    ("sacct|TIMEOUT|0:0", EndState.TIMEOUT, "0:0", ""),
    ("sacct|OUT_OF_MEMORY|0:125", EndState.OUT_OF_MEMORY, "0:125", ""),
    ("sacct|CANCELLED by 0|0:15", EndState.CANCELLED, "0:15", "by 0"),
    ("sacct|NODE_FAIL|0:0", EndState.NODE_FAIL, "0:0", ""),
    ("sacct|PREEMPTED|0:15", EndState.PREEMPTED, "0:15", ""),
    ("sacct|BOOT_FAIL|0:0", EndState.NODE_FAIL, "0:0", ""),
    ("sacct|DEADLINE|0:0", EndState.TIMEOUT, "0:0", ""),
])
def test_slurm_verdicts_from_sacct(answer, end, code, detail):
    assert get_scheduler("slurm").parse_explain(answer + "\n") == Verdict("SLURM", end, code,
                                                                          detail)


def test_slurm_verdict_of_a_task_still_pending_in_accounting_is_none():
    assert get_scheduler("slurm").parse_explain("sacct|PENDING|0:0\n") is None
    assert get_scheduler("slurm").parse_explain("") is None


def test_slurm_over_memory_kill_without_cgroups_is_out_of_memory():
    """OverMemoryKill (no cgroups) ends the task FAILED with signal 9; slurmstepd's line in
    the task's log (captured from the test cluster) names the cause."""
    slurm = get_scheduler("slurm")
    log = ("slurmstepd-localhost: error: StepId=3.batch exceeded memory limit (434741248 > "
           "52428800), being killed\nslurmstepd-localhost: error: Exceeded job memory limit\n")
    refined = slurm.refine(slurm.parse_explain("sacct|FAILED|0:9\n"), log)
    assert refined.state is EndState.OUT_OF_MEMORY and "--mem" in refined.describe()
    assert slurm.refine(slurm.parse_explain("sacct|FAILED|0:9\n"), "").state is EndState.FAILED


@pytest.mark.parametrize("qacct, end, code", [
    ("failed       0\nexit_status  0\n", EndState.COMPLETED, "0"),
    ("failed       0\nexit_status  3\n", EndState.FAILED, "3"),
    ("failed       37  : qmaster enforced h_rt, h_cpu, or h_vmem limit\n"  # the real one's
     "exit_status  137                  (Killed)\n", EndState.TIMEOUT, "137"),
    ("failed       100 : assumedly after job\nexit_status  137\n", EndState.CANCELLED, "137"),
    ("failed       26  : opening input/output file\nexit_status  0\n", EndState.FAILED, "0"),
])
def test_grid_engine_verdicts_from_qacct(qacct, end, code):
    found = get_scheduler("sge").parse_explain(qacct)
    assert (found.scheduler, found.state, found.exit_code) == ("Grid Engine", end, code)


@pytest.mark.parametrize("status, end", [(0, EndState.COMPLETED), (3, EndState.FAILED),
                                         (-29, EndState.TIMEOUT), (-27, EndState.OUT_OF_MEMORY),
                                         (-26, EndState.OUT_OF_MEMORY), (271, EndState.CANCELLED),
                                         (-1, EndState.NODE_FAIL)])
def test_pbs_verdicts_from_qstat_x(status, end):
    answer = {"Jobs": {"9[2].srv": {"job_state": "F", "Exit_status": status}}}
    found = get_scheduler("pbs").parse_explain(json.dumps(answer))
    assert found == Verdict("PBS", end, str(status))
    assert get_scheduler("pbs").parse_explain(json.dumps(
        {"Jobs": {"9[2].srv": {"job_state": "R"}}})) is None
