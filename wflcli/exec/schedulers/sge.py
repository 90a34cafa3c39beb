"""Grid Engine (SGE, Son of Grid Engine, OGS): qsub -t arrays, qstat, qacct, qdel."""

from __future__ import annotations

from wflcli.exec.schedulers import (QUEUED, RUNNING, STUCK, JobRequest, Scheduler,
                                    expand_tasks, leading_id, safe_job_name)
from wflcli.exec.schedulers.verdict import EndState, Verdict

# qacct's "failed" codes: 37 the master enforced a limit (h_rt, h_cpu, h_vmem), 100 the job
# was ended by a signal after it started (qdel, or a limit enforced by the execution daemon)
_FAILED_CODES = {37: EndState.TIMEOUT, 100: EndState.CANCELLED}


class SGEScheduler(Scheduler):
    name = "sge"
    prefix = "#$"
    task_variable = "SGE_TASK_ID"

    def directives(self, request: JobRequest) -> list[str]:
        r = request.resources
        # -N always: Grid Engine derives a name with spaces otherwise, and rejects it
        lines = [f"-N {safe_job_name(request.name)}", f"-t 1-{request.tasks}", "-cwd",
                 "-S /bin/bash", "-j y", "-o sge-$TASK_ID.log"]
        if r.nodes > 1:  # slots over several hosts: the site's MPI parallel environment
            lines.append(f"-pe {r.pe or 'mpi'} {r.nodes * r.cores}")
        elif r.cores > 1:
            lines.append(f"-pe smp {r.cores}")
        lines += [f"-l {resource}={value}" for resource, value in
                  (("h_rt", r.time), ("h_vmem", r.memory), ("gpu", r.gpus)) if value]
        lines += [f"-{option} {value}" for option, value in
                  (("q", r.partition), ("A", r.account)) if value]
        return lines

    def submit_argv(self, script: str, tasks: int) -> list[str]:
        return ["qsub", "-terse", script]

    def parse_submit(self, stdout: str) -> str:
        return leading_id(stdout, "qsub")  # arrays print 123.1-10:1

    def query_argv(self, job_ids: list[str]) -> list[str]:
        return ["qstat"]

    def parse_query(self, stdout: str) -> dict:
        states = {}
        for line in stdout.splitlines():
            fields = line.split()
            if len(fields) < 6 or not fields[0].isdigit():
                continue  # the header and its rule
            state = fields[4]
            label = STUCK if "E" in state else RUNNING if set(state) & set("rtR") else QUEUED
            for task in expand_tasks(fields[-1]) or [1]:
                states[(fields[0], task)] = label
        return states

    def explain_argv(self, job_id: str, task: int) -> list[str]:
        return ["qacct", "-j", job_id, "-t", str(task)]

    def parse_explain(self, stdout: str) -> Verdict | None:
        fields = {}
        for line in stdout.splitlines():
            key, _, value = line.partition(" ")
            fields.setdefault(key, value.strip())
        if "exit_status" not in fields:
            return None  # not accounted yet (qacct lags the end by its flush time)
        failed = fields.get("failed", "0")
        code = (fields["exit_status"].split() or ["?"])[0]  # "137   (Killed)"
        number = int(failed.split()[0]) if failed.split()[0].isdigit() else -1
        if number == 0:
            end = EndState.COMPLETED if code == "0" else EndState.FAILED
        else:
            end = _FAILED_CODES.get(number, EndState.FAILED)
        detail = "" if number == 0 else f"failed {failed}"
        return Verdict("Grid Engine", end, code, detail)

    def log_name(self, job_id: str, task: int) -> str:
        return f"sge-{task}.log"

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["qdel", *(f"{job}.{task}" for job, task in tasks)]
