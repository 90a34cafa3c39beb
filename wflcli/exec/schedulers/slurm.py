"""SLURM: sbatch arrays, one ``squeue --me`` per poll, scontrol (or sacct) for post-mortems."""

from __future__ import annotations

import re

from wflcli.exec.schedulers import (QUEUED, RUNNING, JobRequest, Scheduler, expand_tasks,
                                    leading_id, safe_job_name, walltime_seconds)
from wflcli.exec.batch.drain import DEFAULT_MARGIN_SECONDS
from wflcli.exec.schedulers.verdict import EndState, Verdict

_RUNNING = {"R", "CG", "SO", "ST"}
_END_STATES = {"COMPLETED": EndState.COMPLETED, "FAILED": EndState.FAILED,
               "TIMEOUT": EndState.TIMEOUT, "DEADLINE": EndState.TIMEOUT,
               "OUT_OF_MEMORY": EndState.OUT_OF_MEMORY, "NODE_FAIL": EndState.NODE_FAIL,
               "BOOT_FAIL": EndState.NODE_FAIL, "CANCELLED": EndState.CANCELLED,
               "REVOKED": EndState.CANCELLED, "PREEMPTED": EndState.PREEMPTED}


class SlurmScheduler(Scheduler):
    name = "slurm"
    prefix = "#SBATCH"
    task_variable = "SLURM_ARRAY_TASK_ID"

    def directives(self, request: JobRequest) -> list[str]:
        r = request.resources
        lines = [f"--job-name={safe_job_name(request.name)}", f"--array=1-{request.tasks}",
                 "--output=slurm-%A_%a.log", f"--nodes={r.nodes}"]
        lines += ([f"--ntasks-per-node={r.cores}", "--cpus-per-task=1"] if r.nodes > 1
                  else ["--ntasks=1", f"--cpus-per-task={r.cores}"])  # MPI ranks, or threads
        lines += [f"--{option}={value}" for option, value in
                  (("time", r.time), ("mem", r.memory), ("partition", r.partition),
                   ("account", r.account), ("qos", r.qos), ("gpus", r.gpus)) if value]
        margin = request.drain_margin or int(DEFAULT_MARGIN_SECONDS)
        if request.drains and r.time and margin < walltime_seconds(r.time):
            lines.append(f"--signal=B:TERM@{margin}")  # to the batch shell, ahead of the kill
        return lines

    def submit_argv(self, script: str, tasks: int) -> list[str]:
        return ["sbatch", "--parsable", script]

    def parse_submit(self, stdout: str) -> str:
        return leading_id(stdout, "sbatch")

    def query_argv(self, job_ids: list[str]) -> list[str]:
        return ["squeue", "--me", "--noheader", "--array", "--format=%i %t"]

    def parse_query(self, stdout: str) -> dict:
        states = {}
        for line in stdout.splitlines():
            fields = line.split()
            if len(fields) != 2 or "_" not in fields[0]:
                continue
            job, tasks = fields[0].split("_", 1)
            state = RUNNING if fields[1] in _RUNNING else QUEUED
            for task in expand_tasks(tasks):
                states[(job, task)] = state
        return states

    def explain_argv(self, job_id: str, task: int) -> list[str]:
        # sacct (accounting) keeps every job; scontrol knows one for MinJobAge after its end
        return ["sh", "-c", 'out=$(sacct -n -X -P -o State,ExitCode -j "$1" 2>/dev/null); '
                'if [ -n "$out" ]; then echo "sacct|$out"; else scontrol -o show job "$1"; fi',
                "explain", f"{job_id}_{task}"]

    def parse_explain(self, stdout: str) -> Verdict | None:
        text = stdout.strip().splitlines()[0] if stdout.strip() else ""
        if text.startswith("sacct|"):
            fields = text.split("|")[1:] + ["", ""]
            state, exit_code, detail = fields[0], fields[1], ""
        else:
            found = dict(re.findall(r"(\w+)=(\S+)", text))
            state, exit_code = found.get("JobState", ""), found.get("ExitCode", "")
            detail = f"reason {found['Reason']}" if found.get("Reason", "None") != "None" else ""
        words = state.split()
        end = _END_STATES.get(words[0]) if words else None
        if end is None:
            return None  # still pending or running in accounting's view, or unknown
        if len(words) > 1:
            detail = ", ".join(filter(None, [" ".join(words[1:]), detail]))  # "by 0"
        return Verdict("SLURM", end, exit_code, detail)

    def log_name(self, job_id: str, task: int) -> str:
        return f"slurm-{job_id}_{task}.log"

    def refine(self, verdict: Verdict, log: str) -> Verdict:
        # without cgroups (OverMemoryKill) a task over --mem ends FAILED or CANCELLED with
        # signal 9; slurmstepd says why in the task's log
        if verdict.state is not EndState.OUT_OF_MEMORY and "exceeded memory limit" in log:
            return Verdict("SLURM", EndState.OUT_OF_MEMORY, verdict.exit_code,
                           f"accounted as {verdict.state.value}; slurmstepd: exceeded "
                           "memory limit")
        return verdict

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["scancel", *(f"{job}_{task}" for job, task in tasks)]
