"""Scenario 9: ``wfl --remote`` through the test cluster's SLURM over SSH to 127.0.0.1
(tests/cluster/start.sh), against the same ``wfl calc`` run locally and the plain ASE
loop; the cost per job and the scheduler calls it took."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

from benchmarks.calc_emt import PLAIN_LOOP, inputs
from benchmarks.common import (WORK, Measurement, Unavailable, fresh_store, python_script,
                               timed, timed_with_stderr, wfl)

CLUSTER = Path("/tmp/wflcli-cluster/sshd")
COSTS = re.compile(r"(\d+) job\(s\) with (\d+) task\(s\) submitted .*?, (\d+) queue queries")


def _system_config(store: Path) -> None:
    if not (CLUSTER / "client_ed25519").exists() or shutil.which("sbatch") is None:
        raise Unavailable("the test cluster is not installed (run tests/cluster/start.sh)")
    try:
        socket.create_connection(("127.0.0.1", 2222), timeout=2).close()
    except OSError:
        raise Unavailable("no sshd on 127.0.0.1:2222 (run tests/cluster/start.sh)") from None
    store.mkdir(parents=True, exist_ok=True)
    settings = {"host": "root@127.0.0.1", "port": 2222, "scheduler": "slurm",
                "identity": str(CLUSTER / "client_ed25519"),
                "known_hosts": str(CLUSTER / "known_hosts"),
                "rundir": str(WORK / "remote-runs"), "wfl": wfl()[0]}
    (store / "config.toml").write_text("[systems.slurm-local]\n" + "".join(
        f"{key} = {json.dumps(value)}\n" for key, value in settings.items()))


def run(count: int, repeat: int) -> list[Measurement]:
    source = inputs(count)
    out = WORK / "remote_out.xyz"
    per_job = max(1, count // 10)
    local = Measurement("wfl calc (serial, here)", items=count)
    plain = Measurement("plain ASE loop", items=count)
    remote = Measurement(f"wfl --remote slurm-local --per-job {per_job}", items=count)
    command = wfl("--no-cache", "--remote", "slurm-local", "--per-job", str(per_job), "calc",
                  "--calc", "emt", str(source), "-o", str(out))
    costs = []
    for _ in range(repeat):
        plain.seconds.append(timed(python_script(PLAIN_LOOP) + [str(source), str(out)]))
        local.seconds.append(timed(wfl("calc", "--calc", "emt", str(source), "-o", str(out))))
        store = fresh_store()
        _system_config(store)
        shutil.rmtree(WORK / "remote-runs", ignore_errors=True)
        seconds, stderr = timed_with_stderr(command, store)
        remote.seconds.append(seconds)
        found = COSTS.search(stderr)
        costs.append(tuple(map(int, found.groups())) if found else (0, 0, 0))
    jobs, tasks, queries = costs[-1]
    overhead = (remote.median - local.median) / max(tasks, 1)
    remote.note = (f"{jobs} array job, {tasks} tasks, {max(c[2] for c in costs)} queue "
                   f"queries at most; {overhead:.2f} s per task over the local run "
                   "(2 cores run the tasks two at a time)")
    return [plain, local, remote]
