"""``python -m benchmarks [--quick]``: run the scenarios and (full mode) write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import sys

from benchmarks import calc_emt, descriptors, gap_eval
from benchmarks.common import ROOT, machine, table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true",
                        help="small inputs, one repetition (a smoke run); RESULTS.md untouched")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    count, repeat = (200, 1) if args.quick else (5000, args.repeat)
    command = "python -m benchmarks" + (" --quick" if args.quick else "")

    sections = []
    measurements = calc_emt.run(count, repeat)
    sections.append(f"## 1. `wfl calc --calc emt`, {count} rattled 32-atom Cu cells\n\n"
                    "Read, compute energy/forces/stress, write. Plain loop: `ase.io.iread`, "
                    "a fresh `EMT()` per config, `ase.io.write` per config.\n\n"
                    + table(measurements, "plain ASE loop"))
    measurements = calc_emt.run_cache(count, repeat)
    sections.append(f"## 4. Cache: the same `wfl calc --calc emt` again, {count} configs\n\n"
                    "The rerun finds every config in the store. Bare read + write: "
                    "`ase.io.iread` and `ase.io.write` of the same file, nothing computed.\n\n"
                    + table(measurements, "wfl calc, first run"))
    soap_count = 200 if args.quick else 5000
    measurements = descriptors.run_soap(soap_count, repeat)
    sections.append(f"## 7a. SOAP descriptors, {soap_count} rattled 32-atom Cu cells\n\n"
                    f"Settings: {descriptors.SETTINGS}, averaged per config. The libraries "
                    "are called in a plain loop over `ase.io.iread`; `wfl descriptor` "
                    "includes its own reading and writing.\n\n"
                    + table(measurements, "wfl descriptor (featomic)"))
    pool = (2000, 100) if args.quick else (20000, 500)
    measurements = descriptors.run_select(*pool, repeat)
    sections.append(f"## 7b. Selection on {pool[0]} configs with {pool[1]}-dimensional "
                    "descriptors\n\nEach includes reading the pool file "
                    "(descriptors in info); target: under a minute.\n\n"
                    + table(measurements, "wfl count (just reading the file)"))
    gap_count = 50 if args.quick else 500
    measurements = gap_eval.run(gap_count, repeat)
    sections.append(f"## 8. GAP evaluation, {gap_count} rattled 32-atom Cu cells\n\n"
                    "A 2-body + SOAP GAP fitted here with `wfl fit-gap`; energy, forces and "
                    "stress. Target: serial at least 0.95x the plain loop.\n\n"
                    + table(measurements, "plain loop, one Potential"))
    report = (f"# Benchmark results\n\nMachine: {machine()}\n\n"
              f"Date: {datetime.date.today()}; command: `{command}`; repetitions: {repeat} "
              "(median, min, max); every contender runs with OMP_NUM_THREADS=1.\n\n"
              + "\n\n".join(sections) + "\n")
    print(report)
    if not args.quick:
        (ROOT / "RESULTS.md").write_text(report)


if __name__ == "__main__":
    sys.exit(main())
