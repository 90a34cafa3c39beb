"""``python -m benchmarks [--quick]``: run the scenarios and (full mode) write RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from dataclasses import dataclass
from typing import Callable

from benchmarks import (calc_emt, descriptors, gap_eval, io_extxyz, mace_eval, map_function,
                        nwchem_calc, overhead, pipeline, remote_pipe, remote_slurm,
                        remote_staging, startup_memory_md)
from benchmarks.common import ROOT, Unavailable, machine, table
from benchmarks.targets import targets_table


@dataclass
class Scenario:
    heading: str                 # with {n}: the size of this run
    text: str
    run: Callable[[int, int], list]
    sizes: tuple[int, int]       # (quick, full)
    baseline: str


SCENARIOS = [
    Scenario("1. `wfl calc --calc emt`, {n} rattled 32-atom Cu cells",
             "Read, compute energy/forces/stress, write. Plain loop: `ase.io.iread`, a fresh "
             "`EMT()` per config, `ase.io.write` per config. Every wfl run starts from an "
             "empty store. libAtoms wfl 0.3.5 (its own venv): `calculate(ConfigSet, "
             "OutputSpec, calculator=(EMT, [], {}))`, serial and with "
             "WFL_NUM_PYTHON_SUBPROCESSES=2. Targets: serial at least 1.0x the plain loop "
             "and 2x libAtoms wfl serial, `--parallel 2` at least 1.8x the plain loop and 2x "
             "libAtoms wfl at 2 subprocesses.", calc_emt.run, (200, 5000), "plain ASE loop"),
    Scenario("1b. `wfl calc --calc emt` against the loop that reuses one calculator, {n} "
             "rattled 32-atom Cu cells", "The natural loop: `calc = EMT()` once, "
             "`atoms.calc = calc` per config (EMT keeps its neighbour list while it stays "
             "valid), `ase.io.iread`/`ase.io.write`. wfl calc's default evaluates every "
             "config from a clean state (results never depend on chunking or order; equal "
             "to a fresh EMT bit for bit); `--reuse-state` keeps the state as the loop does "
             "(equal to rounding, cached apart). Every wfl run starts from an empty store. "
             "Target: `--reuse-state` serial at least 1.0x the natural loop.",
             calc_emt.run_reuse, (200, 1500), "natural ASE loop, one EMT reused"),
    Scenario("2. extxyz I/O, {n} frames of 8-atom Cu with energy, stress and forces",
             "In process, the import not counted. Targets: read at least 2x `ase.io.iread`, "
             "write at least 1x `ase.io.write` (which rounds positions to 8 decimals; wflcli "
             "writes full precision).", io_extxyz.run, (2000, 20000), "read: ase.io.iread"),
    Scenario("2b. `wfl cat`, `head`, `filter` of {n} frames of 8-atom Cu with energy, stress "
             "and forces", "Whole commands, start-up included, each writing to /dev/null; CPU "
             "time (user + system) beside each. Frames that wfl wrote are passed on as their "
             "text once proved to be what the writer gives; a filter judges them from the "
             "values it names (info keys where they sit in the comment line, arrays from "
             "the rows), without making Atoms. Targets: cat, head and filter at least 8x ASE's "
             "read + write, and at most 3x the C parser's read time.", io_extxyz.run_verbs,
             (2000, 20000), "ase.io.iread -> ase.io.write"),
    Scenario("3. Start-up: the median of {n} runs of each command",
             "Targets: `wfl --help` and `wfl --version` at most 0.15 s, and `wfl --help` at "
             "most 1/5 of libAtoms `wfl --help`.", startup_memory_md.run_startup, (3, 11),
             "python -c pass"),
    Scenario("4. Cache: the same `wfl calc --calc emt` again, {n} configs",
             "The rerun finds every config in the store. Bare read + write: `ase.io.iread` "
             "and `ase.io.write` of the same file, nothing computed. Targets: rerun at least "
             "10x faster than the first run, and as fast as the bare read + write.",
             calc_emt.run_cache, (200, 5000), "wfl calc, first run"),
    Scenario("5. Streaming memory: peak RSS of `wfl calc --calc lj` on {n} and 10 x {n} "
             "4-atom frames", "Target: peak RSS at 10x the frames within 10 % of the "
             "smaller run.", startup_memory_md.run_memory, (500, 20000),
             "wfl calc --calc lj, {n} frames"),
    Scenario("6. `wfl md`: 8 configs of 32-atom Cu, Langevin 300 K with EMT, {n} steps "
             "each", "A frame written every 10 steps; 'configs/s' here is MD steps per "
             "second.", startup_memory_md.run_md, (50, 500), "plain ASE Langevin loop"),
    Scenario("7a. SOAP descriptors, {n} rattled 32-atom Cu cells",
             f"Settings: {descriptors.SETTINGS}, averaged per config. The libraries are "
             "called in a plain loop over `ase.io.iread`; `wfl descriptor` includes its own "
             "reading and writing.", descriptors.run_soap, (200, 5000),
             "wfl descriptor (featomic)"),
    Scenario("7b. Selection on {n} configs with 500-dimensional descriptors",
             "Each includes reading the pool file (descriptors in info). Target: under a "
             "minute.", descriptors.run_select, (2000, 20000),
             "wfl count (just reading the file)"),
    Scenario("8. GAP evaluation, {n} rattled 32-atom Cu cells",
             "A 2-body + SOAP GAP fitted here with `wfl fit-gap`; energy, forces and stress. "
             "libAtoms wfl: `wfl eval gap -pf GAP.xml` (its own venv, same quippy-ase 0.10.3), "
             "serial and with WFL_NUM_PYTHON_SUBPROCESSES=2. Target: serial at least 0.95x "
             "the plain loop.", gap_eval.run, (50, 500),
             "plain loop, one Potential"),
    Scenario("9. `wfl --remote`: `wfl calc --calc emt` on {n} configs through SLURM over SSH",
             "The test cluster of tests/cluster/ on this machine: SLURM 22.05 and sshd on "
             "127.0.0.1:2222, so the difference to the local run is wflcli's and the "
             "scheduler's overhead (submission, queueing, polling, SFTP), not the network. "
             "Tasks of `--per-job n/10` configs in one array job.", remote_slurm.run,
             (100, 1000), "wfl calc (serial, here)"),
    Scenario("10. `wfl calc --calc nwchem`: DFT (PBE/3-21G) energies and forces of {n} small "
             "molecules", "NWChem 7.0.2 from Debian, one process per calculation. The plain "
             "loop gives each config a fresh `NWChem` calculator in a folder of its own, as "
             "wflcli does, and asks for the energy and then the forces (ASE then runs NWChem "
             "twice); the second loop asks for the forces first (one run, as wflcli). libAtoms "
             "wfl has no NWChem calculator, so it is not a contender here.", nwchem_calc.run,
             (4, 24), "plain ASE loop, a folder per config"),
    Scenario("11a. `wfl map`: a trivial function (adds one info key) over {n} 8-atom Cu "
             "configs", "The function is `benchmarks/map_ops.py:tag`. Plain loop: "
             "`ase.io.iread` -> f -> `ase.io.write` per config, in one process, as a user "
             "would write it. `wfl map` starts from an empty store and writes every result "
             "to it; `--no-cache` neither reads nor writes it. Besides reading and writing, "
             "wfl formats each input config once more (its digest: cache key and seed), "
             "copies it for the function, compresses the outputs for the store, and looks "
             "up and stores each config. Target: serial at least 2x the plain loop.",
             map_function.run, (2000, 20000),
             "plain loop: iread -> f -> write"),
    Scenario("11b. `wfl map`: a CPU-bound function (about 3 ms of pure Python per config) "
             "over {n} 8-atom Cu configs", "The function is `benchmarks/map_ops.py:busy`. "
             "Target: `--parallel 2` at least 1.8x serial.", map_function.run_parallel,
             (100, 2000), "wfl map busy (serial)"),
    Scenario("15. A four-stage pipeline on {n} 4-atom Ar clusters: `wfl cat | wfl rattle | "
             "wfl calc --calc lj | wfl filter`", "Each stage alone reads the file that it "
             "gets in the pipeline and writes to /dev/null; every run starts from an empty "
             "store; CPU times beside. Target: the pipeline within 1.3x the wall time of its "
             "slowest stage alone (speed vs that stage at least 0.77x).", pipeline.run,
             (2000, 20000), "alone: wfl calc --calc lj"),
    Scenario("16a. Framework overhead: `wfl calc --calc lj` on {n} 2-atom dimers",
             "Serial, the cache on, from an empty store (every result looked up and "
             "stored). Overhead per config: (wfl's time less the calculator's compute-only "
             "time on the same configs in memory, a fresh calculator each, as wfl does) / "
             "configs, from wall times and (note) from CPU times. Target: at most 150 us.",
             overhead.run_lj, (2000, 20000), "compute only (lj in memory)"),
    Scenario("16b. Framework overhead: `wfl calc --calc emt` on {n} 8-atom Cu cells",
             "As 16a. Target: at most 150 us per config.", overhead.run_emt, (1000, 5000),
             "compute only (emt in memory)"),
    Scenario("16c. Cache rerun: `wfl calc --calc emt` again on {n} 8-atom Cu cells",
             "Every config found in the store. Bare read + write: `ase.io.iread` and "
             "`ase.io.write` of the same file, nothing computed. Target: the rerun at least "
             "3x faster than the bare read + write.", overhead.run_rerun, (2000, 20000),
             "plain ASE read + write, 8-atom cells"),
    *(Scenario(f"12{part}. MACE evaluation, {{n}} rattled {size} Cu cells",
               "A MACE model fitted here with `wfl fit-mace` (32 channels, L=1, 2 "
               "interactions, correlation 3, float64); energy, forces and stress, on the "
               f"device WFL_BENCH_DEVICE names (now {mace_eval.DEVICE}; auto: cuda when torch "
               "sees a GPU, else cpu). Batched: `wfl calc`'s default atom budget per "
               "model call. Targets: batched at least 1.5x the plain loop on a CPU, 5x one "
               "at a time on a GPU.", run, (20, 1000), "plain loop, one MACECalculator")
      for part, size, run in (("a", "4-atom", mace_eval.run_small),
                              ("b", "32-atom", mace_eval.run_large))),
    Scenario("13. A pipeline as one remote job: three stages on {n} 4-atom Cu cells through "
             "SLURM over SSH", "`wfl --remote slurm-local pipe '" + remote_pipe.PIPELINE
             + "'` against the same three verbs each run with `--remote slurm-local`, files "
             "between them, on the test cluster of scenario 9; `--per-job n/4` for every run "
             "(so md's 5 frames per config give the separate calc 5 times the tasks). "
             "Transfers: files the client put into and got from the job folders. Every "
             "remote output equals `wfl pipe` run here, byte for byte (checked).",
             remote_pipe.run, (40, 200), "wfl pipe (serial, here)"),
    Scenario("14. `wfl --remote` staging: {n} MB of input files on first and second use",
             "One task of `wfl calc --calc emt` on 10 configs through the test cluster's "
             "SLURM over SSH to 127.0.0.1 (as scenario 9), without staged files, with "
             "`--stage DIR` of 4 new files (uploaded over SFTP, size and sha256 checked on "
             "the far side, renamed into rundir/staged/), and again with the same files "
             "(found there, linked into the job folder). The network is loopback: on a "
             "real link the first use adds the transfer time.", remote_staging.run,
             (4, 64), "nothing staged"),
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true",
                        help="small inputs, one repetition (a smoke run); RESULTS.md untouched")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", metavar="N", action="append",
                        help="run only the scenarios numbered N (11 runs 11a and 11b; "
                             "repeatable); their sections and targets replace those in "
                             "RESULTS.md")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    command = ("python -m benchmarks" + (" --quick" if args.quick else "")
               + "".join(f" --only {n}" for n in args.only or ()))
    chosen = [s for s in SCENARIOS if not args.only or _number(s.heading) in args.only
              or _number(s.heading).rstrip("abc") in args.only]
    sections, medians = [], {}
    load_before = os.getloadavg()[0]
    for scenario in chosen:
        size = scenario.sizes[0 if args.quick else 1]
        try:
            measurements = scenario.run(size, repeat)
            result = table(measurements, scenario.baseline.format(n=size))
            for m in measurements:  # a later scenario's "plain ASE loop" is another size
                medians.setdefault(m.name, m.median)
        except Unavailable as exc:
            result = f"Not measured: {exc}."
        sections.append(f"## {scenario.heading.format(n=size)}\n\n{scenario.text}\n\n"
                        + result)
        print(sections[-1] + "\n", flush=True)
    targets = targets_table(medians, measured_only=bool(args.only))
    print("## Against the targets\n\n" + targets + "\n", flush=True)
    if args.only:
        if not args.quick:
            load = f"1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
            _update_results(sections, targets, f"{machine()}; {load}", command, repeat)
        return
    sections.insert(0, "## Against the targets\n\nFrom the medians below. A ceiling is "
                    "what the compute-only limit leaves for any tool on this machine.\n\n"
                    + targets)
    report = (f"# Benchmark results\n\nMachine: {machine()}\n\n"
              f"Date: {datetime.date.today()}; command: `{command}`; repetitions: {repeat} "
              "(median, min, max); every contender runs with OMP_NUM_THREADS=1.\n\n"
              + "\n\n".join(sections) + "\n")
    if not (args.quick or args.only):
        (ROOT / "RESULTS.md").write_text(report)


def _number(heading: str) -> str:
    return heading.split(".", 1)[0]


def _update_results(sections: list[str], targets: str, where: str, command: str,
                    repeat: int) -> None:
    """Put a partial run's sections (replacing those of the same number) and its target
    rows (replacing those of the same claim) into RESULTS.md, saying when and how."""
    path = ROOT / "RESULTS.md"
    text = path.read_text()
    stamp = (f"Run on its own: {datetime.date.today()}, `{command}`, repetitions: {repeat}; "
             f"machine: {where}.")
    for section in sections:
        heading = section.split("\n", 1)[0]
        number = heading.split(".", 1)[0] + "."
        body = section.replace("\n\n", f"\n\n{stamp}\n\n", 1)
        start = text.find("\n" + number)
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + body + "\n"
            continue
        end = text.find("\n## ", start + 1)
        text = text[:start + 1] + body + ("\n" + text[end:] if end >= 0 else "\n")
    for row in targets.splitlines()[2:]:
        claim = row.split("|")[1]
        old = next((line for line in text.splitlines() if line.startswith(f"|{claim}|")), None)
        if old is not None:
            text = text.replace(old, row)
        else:  # a new target: last row of the targets table
            table_end = text.find("\n\n", text.find("| target | measured |"))
            text = text[:table_end] + "\n" + row + text[table_end:]
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
