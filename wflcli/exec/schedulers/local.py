"""No scheduler: the job's tasks run one after another in a detached background process.

For a workstation or a login node where batch jobs are not needed. The job id is the
process id (also its process group, which ``cancel`` signals).
"""

from __future__ import annotations

from wflcli.exec.schedulers import RUNNING, JobRequest, Scheduler, leading_id


class LocalScheduler(Scheduler):
    name = "local"
    prefix = "#"
    task_variable = "WFL_TASK"

    def directives(self, request: JobRequest) -> list[str]:
        return []

    def submit_argv(self, script: str, tasks: int) -> list[str]:
        loop = ('i=1; while [ "$i" -le "$2" ]; do WFL_TASK=$i /bin/bash "$1"; i=$((i+1)); done')
        return ["sh", "-c", 'setsid nohup sh -c "$0" wfl-job "$1" "$2" </dev/null >local.log 2>&1 & '
                'echo $!', loop, script, str(tasks)]

    def parse_submit(self, stdout: str) -> str:
        return leading_id(stdout, "the background launcher")

    def query_argv(self, job_ids: list[str]) -> list[str]:
        # ps exits 1 when none of the processes is left: that is an answer, not a failure
        return ["sh", "-c", 'ps -o pid=,stat= -p "$1"; exit 0', "query",
                ",".join(job_ids or ["1"])]

    def parse_query(self, stdout: str) -> dict:
        # a live launcher runs its tasks in turn: each without a status file counts as running.
        # A zombie (Z) has ended: a container's minimal init may never reap it.
        running = [row[0] for row in map(str.split, stdout.splitlines())
                   if len(row) == 2 and not row[1].startswith("Z")]
        return {(pid, 0): RUNNING for pid in running}

    def cancel_argv(self, tasks: list) -> list[str]:
        return ["kill", "-s", "TERM", "--", *sorted({f"-{job}" for job, _ in tasks})]
