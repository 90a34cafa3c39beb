"""Grid Engine (SGE, Son of Grid Engine, OGS): qsub -t arrays, qstat, qacct, qdel."""

from __future__ import annotations

from wflcli.exec.schedulers import (QUEUED, RUNNING, STUCK, JobRequest, Scheduler,
                                    expand_tasks, leading_id, safe_job_name)


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

    def parse_explain(self, stdout: str) -> str:
        fields = {}
        for line in stdout.splitlines():
            key, _, value = line.partition(" ")
            fields.setdefault(key, value.strip())
        if "exit_status" not in fields:
            return ""
        return f"Grid Engine: failed {fields.get('failed', '?')}, exit status " \
               f"{fields['exit_status']}"

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["qdel", *(f"{job}.{task}" for job, task in tasks)]
