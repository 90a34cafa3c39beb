#!/usr/bin/env python3
"""A stand-in for PBS Pro's qsub, qstat and qdel, for tests only.

PBS cannot be installed on the test machine from packages (see the project notes), so the
PBS backend is tested against this: it reads the ``#PBS`` directives wflcli writes, runs
each array subjob as a detached local process, and answers ``qstat -f -F json -t -x`` in
PBS Pro's JSON layout (subjobs ``123[4].server``, the array parent ``123[].server`` in
state B, finished jobs in state F with ``Exit_status``). A job over its ``-l walltime``
is killed and ends with PBS Pro's JOB_EXEC_KILL_WALLTIME, Exit_status -29. Its state lives
in ``$PBS_STANDIN_HOME``.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

SERVER = "standin"
HOME = Path(os.environ.get("PBS_STANDIN_HOME", "/tmp/pbs-standin"))


def qsub(args):
    script = Path(args[-1]).resolve()
    text = script.read_text()
    name = re.search(r"^#PBS -N (\S+)", text, re.M)
    array = re.search(r"^#PBS -J (\d+)-(\d+)", text, re.M)
    walltime = re.search(r"^#PBS -l walltime=(\d+):(\d\d):(\d\d)", text, re.M)
    seconds = (3600 * int(walltime.group(1)) + 60 * int(walltime.group(2))
               + int(walltime.group(3))) if walltime else 0
    HOME.mkdir(parents=True, exist_ok=True)
    counter = HOME / "counter"
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    tasks = range(int(array.group(1)), int(array.group(2)) + 1) if array else [None]
    for task in tasks:
        job = f"{number}[{task}].{SERVER}" if array else f"{number}.{SERVER}"
        env = dict(os.environ, **({"PBS_ARRAY_INDEX": str(task)} if task else {}))
        record = HOME / f"{job}.json"
        process = subprocess.Popen(
            ["sh", "-c", 'if [ "$4" -gt 0 ]; then timeout "$4" bash "$1" > "$2" 2>&1; else '
             'bash "$1" > "$2" 2>&1; fi; code=$?; [ "$4" -gt 0 ] && [ $code = 124 ] && '
             'code=-29; echo $code > "$3.exit"', "job", str(script),
             str(script.parent / f"{name.group(1) if name else 'job'}.o{number}"),
             str(record), str(seconds)], env=env, start_new_session=True,
            cwd=os.environ.get("HOME", "/"),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        record.write_text(json.dumps({"Job_Name": name.group(1) if name else "job",
                                      "pid": process.pid, "array_index": task}))
    print(f"{number}[].{SERVER}" if array else f"{number}.{SERVER}")


def _state(record: Path) -> dict:
    job = json.loads(record.read_text())
    exit_file = Path(f"{record}.exit")
    if exit_file.exists():
        text = exit_file.read_text().strip()
        return {"Job_Name": job["Job_Name"], "job_state": "F",
                "Exit_status": int(text) if text else 271}
    return {"Job_Name": job["Job_Name"], "job_state": "R"}


def qstat(args):
    wanted = [a for a in args if not a.startswith("-") and a not in ("json",)]
    jobs = {}
    for record in sorted(HOME.glob("*.json")):
        job = record.name[:-len(".json")]
        if wanted and job not in wanted and re.sub(r"\[\d+\]", "[]", job) not in wanted:
            continue
        jobs[job] = _state(record)
        parent = re.sub(r"\[\d+\]", "[]", job)
        if parent != job:
            running = jobs.get(parent, {}).get("job_state") == "B" or jobs[job]["job_state"] != "F"
            jobs[parent] = {"Job_Name": jobs[job]["Job_Name"], "array": "True",
                            "job_state": "B" if running else "F"}
    print(json.dumps({"timestamp": int(time.time()), "pbs_version": "23.06.06",
                      "pbs_server": SERVER, "Jobs": jobs}, indent=4))


def qdel(args):
    for job in args:
        names = [job] if "[]" not in job else [p.name[:-5] for p in HOME.glob(
            job.replace("[]", "[*]") + ".json")]
        for name in names:
            record = HOME / f"{name}.json"
            if not record.exists():
                print(f"qdel: Unknown Job Id {name}", file=sys.stderr)
                sys.exit(1)
            try:
                os.killpg(json.loads(record.read_text())["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
            Path(f"{record}.exit").write_text("271\n")


if __name__ == "__main__":
    {"qsub": qsub, "qstat": qstat, "qdel": qdel}[sys.argv[1]](sys.argv[2:])
