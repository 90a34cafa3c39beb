"""Scenario 14: what staging an input costs a ``--remote`` run, on first and second use:
the same one-task ``wfl calc`` through the test cluster's SLURM over SSH to 127.0.0.1,
without a staged file, with a new one (uploaded and checked there), and with the same one
again (found in rundir/staged/, linked into the job folder)."""

from __future__ import annotations

import os
import re
import shutil

from benchmarks.calc_emt import inputs
from benchmarks.common import WORK, Measurement, fresh_store, timed_with_stderr, wfl
from benchmarks.remote_slurm import _system_config

STAGED = re.compile(r"(\d+) uploaded \((\d+) bytes\), (\d+) bundle\(s\) reused, "
                    r"([\d.]+) s")


def run(megabytes: int, repeat: int) -> list[Measurement]:
    source = inputs(10)
    data = WORK / "staged-input"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    for number in range(4):  # a pseudopotential folder's worth: a few large files
        (data / f"part-{number}.bin").write_bytes(os.urandom(megabytes * 2 ** 18))
    out = WORK / "staging_out.xyz"
    base = wfl("--no-cache", "--refresh", "--remote", "slurm-local", "--per-job", "10")
    calc = ["calc", "--calc", "emt", str(source), "-o", str(out)]
    plain = Measurement("nothing staged")
    first = Measurement(f"first use: {megabytes} MB in 4 files staged")
    second = Measurement("second use: the same files, reused")
    seen = []
    for _ in range(repeat):
        store = fresh_store()
        _system_config(store)
        shutil.rmtree(WORK / "remote-runs", ignore_errors=True)
        plain.seconds.append(timed_with_stderr(base + calc, store)[0])
        for measurement in (first, second):
            seconds, stderr = timed_with_stderr(base + ["--stage", str(data)] + calc, store)
            measurement.seconds.append(seconds)
            found = STAGED.search(stderr)
            seen.append(found.groups() if found else ("?", "?", "?", "nan"))
    steps = [sorted(float(s[3]) for s in seen[part::2]) for part in (0, 1)]
    first.note = (f"{seen[0][0]} files uploaded ({seen[0][1]} bytes), checked by sha256sum "
                  f"there: the staging step itself {steps[0][len(steps[0]) // 2]:.2f} s "
                  "(median); the rest of the difference is the queue")
    second.note = (f"{seen[1][0]} uploaded, {seen[1][2]} bundle reused: the staging step "
                   f"{steps[1][len(steps[1]) // 2]:.2f} s (median)")
    return [plain, first, second]
