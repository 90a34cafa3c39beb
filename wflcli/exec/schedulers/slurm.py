"""SLURM: sbatch arrays, one ``squeue --me`` per poll, scontrol (or sacct) for post-mortems."""

from __future__ import annotations

import re

from wflcli.exec.schedulers import (QUEUED, RUNNING, JobRequest, Scheduler, expand_tasks,
                                    leading_id, safe_job_name)

_RUNNING = {"R", "CG", "SO", "ST"}


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
        # scontrol knows a job for MinJobAge after its end; sacct needs accounting storage
        target = f"{job_id}_{task}"
        return ["sh", "-c", 'scontrol -o show job "$1" 2>/dev/null || sacct -n -X -P '
                '-o State,ExitCode,Reason -j "$1"', "explain", target]

    def parse_explain(self, stdout: str) -> str:
        fields = dict(re.findall(r"(\w+)=(\S+)", stdout))
        if "JobState" in fields:
            return (f"SLURM: {fields['JobState']} (reason {fields.get('Reason', '?')}, "
                    f"exit code {fields.get('ExitCode', '?')})")
        parts = stdout.strip().split("|")
        return f"SLURM: {' '.join(parts)}" if parts and parts[0] else ""

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["scancel", *(f"{job}_{task}" for job, task in tasks)]
