"""Scenario 13: a three-stage pipeline through the test cluster's SLURM over SSH, as one
job (``wfl --remote SYS pipe 'A | B | C'``) against three separate remote verbs that pass
files between them; what each cost the scheduler (jobs, array tasks, queue queries), the
files that crossed to and from the cluster, and the wall time.

Transfers are read from the job folders the runs leave (the client puts each task's
chunk and positions and each job's script, and gets each task's status and outcomes).
Every remote output is checked against the same stages run here before it is counted."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from benchmarks.common import WORK, Measurement, fresh_store, timed, timed_with_stderr, wfl
from benchmarks.remote_slurm import COSTS, _system_config

STAGES = [["optimize", "--calc", "emt", "--fmax", "0.2", "--steps", "10"],
          ["md", "--calc", "emt", "--ensemble", "langevin", "-T", "300", "--steps", "20",
           "--every", "5"],
          ["calc", "--calc", "lj", "--prefix", "LJ_"]]
PIPELINE = " | ".join(" ".join(stage) for stage in STAGES)
RUNS = WORK / "remote-runs"
_UP = re.compile(r"(chunk-\d+\.xyz|positions-\d+\.txt|job\.sh)$")
_DOWN = re.compile(r"(status-\d+\.json|outcomes-\d+\.jsonl)$")


def _inputs(count: int) -> Path:
    from ase.build import bulk

    from wflcli.io.writer import format_config

    path = WORK / f"pipe_in_{count}.xyz"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        cells = []
        for seed in range(count):
            atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
            atoms.rattle(0.05, seed=seed)
            cells.append(atoms)
        path.write_text("".join(format_config(atoms) for atoms in cells))
    return path


def _transfers() -> tuple[int, int, int, int]:
    """(files up, bytes up, files down, bytes down) over every job folder under RUNS."""
    up = [p.stat().st_size for p in RUNS.rglob("*") if _UP.search(p.name)]
    down = [p.stat().st_size for p in RUNS.rglob("*") if _DOWN.search(p.name)]
    return len(up), sum(up), len(down), sum(down)


def _remote(commands: list[list[str]], store: Path) -> tuple[float, tuple]:
    """Run the commands in turn on a fresh run folder: wall time, and the summed
    (jobs, tasks, queue queries) and transfers."""
    shutil.rmtree(RUNS, ignore_errors=True)
    total, costs = 0.0, [0, 0, 0]
    for command in commands:
        seconds, stderr = timed_with_stderr(command, store)
        total += seconds
        found = COSTS.search(stderr)
        costs = [a + b for a, b in zip(costs, map(int, found.groups()))] if found else costs
    return total, (*costs, *_transfers())


def _note(cost: tuple) -> str:
    jobs, tasks, queries, files_up, bytes_up, files_down, bytes_down = cost
    return (f"{jobs} job(s), {tasks} tasks, {queries} queue queries; {files_up} files "
            f"({bytes_up / 1e6:.2f} MB) up, {files_down} files ({bytes_down / 1e6:.2f} MB) "
            "down")


def run(count: int, repeat: int) -> list[Measurement]:
    source = _inputs(count)
    per_job = str(max(1, count // 4))
    remote = ["--no-cache", "--seed", "3", "--remote", "slurm-local", "--per-job", per_job]
    here = WORK / "pipe_here.xyz"
    one_job = Measurement(f"wfl --remote pipe (per job {per_job})", items=count)
    three = Measurement(f"three wfl --remote verbs (per job {per_job})", items=count)
    local = Measurement("wfl pipe (serial, here)", items=count)
    outputs = [WORK / f"pipe_stage{n}.xyz" for n in (1, 2, 3)]
    separate = [wfl(*remote, *stage, str(inp), "-o", str(out))
                for stage, inp, out in zip(STAGES, [source, *outputs[:2]], outputs)]
    piped = WORK / "pipe_remote.xyz"
    as_one = [wfl(*remote, "pipe", PIPELINE, str(source), "-o", str(piped))]
    costs = {}
    for _ in range(repeat):
        local.seconds.append(timed(wfl("--no-cache", "--seed", "3", "pipe", PIPELINE,
                                       str(source), "-o", str(here))))
        store = fresh_store()
        _system_config(store)
        for measurement, commands in ((one_job, as_one), (three, separate)):
            seconds, costs[measurement.name] = _remote(commands, store)
            measurement.seconds.append(seconds)
        if not here.read_bytes() == piped.read_bytes() == outputs[-1].read_bytes():
            raise SystemExit("remote pipe, three remote verbs and the local pipe differ")
    one_job.note = _note(costs[one_job.name])
    three.note = _note(costs[three.name])
    return [local, one_job, three]
