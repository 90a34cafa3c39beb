"""Timing, repetition and reporting shared by the benchmark scenarios."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / "_work"
BIN = Path(sys.executable).parent
# The same threading for every contender, so ratios compare code, not BLAS threads.
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


@dataclass
class Measurement:
    name: str
    seconds: list[float] = field(default_factory=list)  # or other values, in `unit`
    items: int = 0
    note: str = ""
    unit: str = "s"
    cpu: list[float] = field(default_factory=list)  # CPU seconds per run, where measured

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.items / self.median if self.items else float("nan")


def fresh_store(store: Path = WORK / "store") -> Path:
    """An empty WFLCLI_HOME, so a run neither reads nor keeps another run's results."""
    shutil.rmtree(store, ignore_errors=True)
    return store


def timed(command: list[str], store: Path | None = None) -> float:
    """Wall time of one command; a failure stops the benchmark with its stderr."""
    return timed_with_stderr(command, store)[0]


def measured(contenders: dict, count: int, repeat: int, store=fresh_store) -> list[Measurement]:
    """Wall times, and in the note the median CPU time (user + system, workers included):
    on a machine that others share, CPU time still shows what each contender costs.
    ``store()`` gives each run's WFLCLI_HOME (default: an empty one)."""
    results = {name: Measurement(name, items=count) for name in contenders}
    for _ in range(repeat):  # interleaved, so drifts of a shared machine hit all alike
        for name, command in contenders.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            results[name].seconds.append(timed(command, store=store()))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            results[name].cpu.append(after.ru_utime - before.ru_utime + after.ru_stime
                                     - before.ru_stime)
    for measurement in results.values():
        measurement.note = f"CPU {statistics.median(measurement.cpu):.2f} s"
    return list(results.values())


def timed_with_stderr(command: list[str], store: Path | None = None) -> tuple[float, str]:
    """Wall time of one command and what it said on stderr."""
    env = dict(ENV, WFLCLI_HOME=str(store or fresh_store()))
    started = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(command)}\n"
                         + result.stderr.decode()[-2000:])
    return elapsed, result.stderr.decode()


class Unavailable(Exception):
    """A scenario that cannot run on this machine; the message says why."""


def python_script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def wfl(*args: str) -> list[str]:
    return [str(BIN / "wfl"), *args]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def table(measurements: list[Measurement], baseline: str) -> str:
    """Markdown table: median/min/max, rate, and the ratio to the baseline (speed for times:
    baseline / value; for other units: value / baseline)."""
    base = next(m for m in measurements if m.name == baseline)
    unit = measurements[0].unit
    timing = unit == "s"
    ratio = f"speed vs {baseline}" if timing else f"ratio to {baseline}"
    lines = [f"| method | median {unit} | min {unit} | max {unit} | configs/s | {ratio} |",
             "| --- | --- | --- | --- | --- | --- |"]
    for m in measurements:
        if m.unit != unit:  # a derived figure beside the times (an overhead per config)
            lines.append(f"| {m.name} | {m.median:.0f} {m.unit} | {min(m.seconds):.0f} "
                         f"{m.unit} | {max(m.seconds):.0f} {m.unit} | - | - |"
                         + (f" {m.note}" if m.note else ""))
            continue
        rate = f"{m.rate:.1f}" if timing and m.items else "-"
        value = base.median / m.median if timing else m.median / base.median
        lines.append(f"| {m.name} | {m.median:.2f} | {min(m.seconds):.2f} | "
                     f"{max(m.seconds):.2f} | {rate} | {value:.2f}x |"
                     + (f" {m.note}" if m.note else ""))
    return "\n".join(lines)
