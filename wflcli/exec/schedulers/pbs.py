"""PBS Pro / OpenPBS: qsub -J arrays, ``qstat -f -F json -x`` for states and exit codes."""

from __future__ import annotations

import json
import re

from wflcli.exec.schedulers import QUEUED, RUNNING, JobRequest, Scheduler, safe_job_name
from wflcli.exec.schedulers.verdict import EndState, Verdict

_QUEUED, _RUNNING = set("QHWTSU"), set("REB")
# PBS Pro's own negative exit codes (JOB_EXEC_KILL_*): the server killed the job for a limit;
# other negative codes mean it could not be run on its node
_EXIT_CODES = {-29: EndState.TIMEOUT, -27: EndState.OUT_OF_MEMORY,
               -26: EndState.OUT_OF_MEMORY}


class PBSScheduler(Scheduler):
    name = "pbs"
    prefix = "#PBS"
    task_variable = "PBS_ARRAY_INDEX"

    def directives(self, request: JobRequest) -> list[str]:
        r = request.resources
        select = f"select={r.nodes}:ncpus={r.cores}" + (f":mem={r.memory}" if r.memory else "") \
            + (f":ngpus={r.gpus}" if r.gpus else "") \
            + (f":mpiprocs={r.cores}" if r.nodes > 1 else "")
        lines = [f"-N {safe_job_name(request.name)}", "-j oe", f"-l {select}"]
        if request.tasks > 1:  # PBS has no one-task arrays
            lines.append(f"-J 1-{request.tasks}")
        if r.time:
            lines.append(f"-l walltime={r.time}")
        lines += [f"-{option} {value}" for option, value in
                  (("q", r.partition), ("A", r.account)) if value]
        return lines

    def submit_argv(self, script: str, tasks: int) -> list[str]:
        return ["qsub", script]

    def parse_submit(self, stdout: str) -> str:
        job = stdout.strip().splitlines()[0] if stdout.strip() else ""
        if not re.fullmatch(r"\d+(\[\])?(\.[\w.-]+)?", job):
            raise ValueError(f"qsub printed no job id: {stdout.strip()[:200]!r}")
        return job

    def query_argv(self, job_ids: list[str]) -> list[str]:
        return ["qstat", "-f", "-F", "json", "-t", "-x", *job_ids]

    def parse_query(self, stdout: str) -> dict:
        states = {}
        for name, job in _jobs(stdout).items():
            if "[]" in name:
                continue  # an array's parent: its subjobs speak for themselves
            letter = job.get("job_state", "")
            if letter in _QUEUED or letter in _RUNNING:
                states[_split(name)] = RUNNING if letter in _RUNNING else QUEUED
        return states

    def explain_argv(self, job_id: str, task: int) -> list[str]:
        return ["qstat", "-f", "-F", "json", "-x", _task_name(job_id, task)]

    def parse_explain(self, stdout: str) -> Verdict | None:
        for job in _jobs(stdout).values():
            if job.get("job_state") not in ("F", "X") or "Exit_status" not in job:
                return None
            code = int(job["Exit_status"])
            if code == 0:
                end = EndState.COMPLETED
            elif code >= 256:  # 256 + the signal that ended it (qdel: SIGTERM, 271)
                end = EndState.CANCELLED
            else:
                end = _EXIT_CODES.get(code, EndState.NODE_FAIL if code < 0 else EndState.FAILED)
            return Verdict("PBS", end, str(code), job.get("comment", ""))
        return None

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["qdel", *(_task_name(job, task) for job, task in tasks)]


def _jobs(stdout: str) -> dict:
    try:
        jobs = json.loads(stdout or "{}").get("Jobs", {})
    except (json.JSONDecodeError, AttributeError):
        return {}
    return jobs if isinstance(jobs, dict) else {}


def _task_name(job_id: str, task: int) -> str:
    """123[].server + 4 -> 123[4].server; a job that is no array is itself task 1."""
    return job_id.replace("[]", f"[{task}]") if "[]" in job_id else job_id


def _split(name: str) -> tuple[str, int]:
    """123[4].server -> ('123[].server', 4); 123.server -> ('123.server', 1)."""
    match = re.fullmatch(r"(\d+)\[(\d+)\](.*)", name)
    if match:
        return f"{match.group(1)}[]{match.group(3)}", int(match.group(2))
    return name, 1
