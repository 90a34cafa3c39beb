"""The issue's targets, checked against the medians of one run: met or missed, by how much,
and, where the calculator bounds every tool, the most any tool could reach here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from benchmarks.pipeline import PIPELINE

COMPUTE = "compute only (EMT on atoms in memory)"
ASE_READ_WRITE, C_READ = "ase.io.iread -> ase.io.write", "extxyz C parser, read to dicts"
PASSING_VERBS = ("wfl cat", "wfl head", "wfl filter 'REF_energy < 1e9' (keeps all)")
LIB_SERIAL, LIB_TWO = "libAtoms wfl calculate (serial)", "libAtoms wfl calculate, 2 subprocesses"


@dataclass
class Target:
    claim: str
    measure: Callable[[dict], float]    # from {contender: median}; KeyError if not run
    limit: float
    at_least: bool = True               # False: the measure must stay at or below the limit
    unit: str = "x"
    ceiling: Callable[[dict], float] | None = None  # the best any tool can do on this machine


def speedup(fast: str, slow: str) -> Callable[[dict], float]:
    return lambda m: m[slow] / m[fast]


TARGETS = [
    Target("calc serial at least 1.0x the plain ASE loop",
           speedup("wfl calc (serial)", "plain ASE loop"), 1.0,
           ceiling=speedup(COMPUTE, "plain ASE loop")),
    Target("calc serial at least 2x libAtoms wfl serial",
           speedup("wfl calc (serial)", LIB_SERIAL), 2.0, ceiling=speedup(COMPUTE, LIB_SERIAL)),
    Target("calc --parallel 2 at least 1.8x the plain serial loop",
           speedup("wfl calc --parallel 2", "plain ASE loop"), 1.8),
    Target("calc --parallel 2 at least 2x libAtoms wfl at 2 subprocesses",
           speedup("wfl calc --parallel 2", LIB_TWO), 2.0,
           ceiling=lambda m: m[LIB_TWO] / (m[COMPUTE] / 2)),
    Target("framework overhead (serial wall time over compute only) at most 15 %",
           lambda m: 100 * (m["wfl calc (serial)"] / m[COMPUTE] - 1), 15, at_least=False,
           unit=" %"),
    Target("calc --reuse-state serial at least 1.0x the loop reusing one EMT",
           speedup("wfl calc --reuse-state (serial)", "natural ASE loop, one EMT reused"), 1.0),
    Target("framework overhead per config, 2-atom LJ, at most 150 us",
           lambda m: m["overhead per config, lj"], 150, at_least=False, unit=" us"),
    Target("framework overhead per config, 8-atom EMT, at most 150 us",
           lambda m: m["overhead per config, emt"], 150, at_least=False, unit=" us"),
    Target("cache rerun at least 3x faster than the bare ASE read + write",
           speedup("wfl calc --calc emt, rerun (all cached)",
                   "plain ASE read + write, 8-atom cells"), 3.0),
    Target("extxyz read at least 2x ase.io.iread",
           speedup("read: wflcli reader", "read: ase.io.iread"), 2.0),
    Target("extxyz write at least 1x ase.io.write",
           speedup("write: wflcli writer (full precision)", "write: ase.io.write"), 1.0),
    *(Target(f"`{verb}` at least 8x ASE's read + write (8-atom frames)",
             speedup(verb, ASE_READ_WRITE), 8.0) for verb in PASSING_VERBS),
    *(Target(f"`{verb}` at most 3x the extxyz C parser's read", speedup(C_READ, verb), 3.0,
             at_least=False) for verb in PASSING_VERBS),
    Target("pipeline cat, rattle, calc, filter within 1.3x its slowest stage alone",
           lambda m: m[PIPELINE] / max(v for k, v in m.items() if k.startswith("alone: ")),
           1.3, at_least=False),
    Target("`wfl --help` at most 0.15 s", lambda m: m["wfl --help"], 0.15, at_least=False,
           unit=" s"),
    Target("`wfl --version` at most 0.15 s", lambda m: m["wfl --version"], 0.15,
           at_least=False, unit=" s"),
    Target("`wfl --help` at most 1/5 of libAtoms `wfl --help`",
           lambda m: m["wfl --help"] / m["libAtoms wfl --help"], 0.2, at_least=False),
    Target("cache rerun at least 10x faster than the first run",
           speedup("wfl calc, rerun (all cached)", "wfl calc, first run"), 10.0),
    Target("peak RSS at 10x the frames within 10 % of the smaller run",
           lambda m: 100 * (max(v for k, v in m.items() if k.startswith("wfl calc --calc lj"))
                            / min(v for k, v in m.items() if k.startswith("wfl calc --calc lj"))
                            - 1), 10, at_least=False, unit=" %"),
    Target("select-cur on the pool under a minute", lambda m: m["wfl select-cur -n 100"], 60,
           at_least=False, unit=" s"),
    Target("GAP evaluation serial at least 0.95x the plain loop",
           speedup("wfl calc --calc gap: (serial)", "plain loop, one Potential"), 0.95),
    Target("map (trivial function) serial at least 2x the plain iread -> f -> write loop",
           speedup("wfl map (serial)", "plain loop: iread -> f -> write"), 2.0),
    Target("map (CPU-bound function) --parallel 2 at least 1.8x serial",
           speedup("wfl --parallel 2 map busy", "wfl map busy (serial)"), 1.8),
]


def targets_table(medians: dict, measured_only: bool = False) -> str:
    """One row per target; ``measured_only``: leave out those whose contenders did not run."""
    lines = ["| target | measured | met | note |", "| --- | --- | --- | --- |"]
    for target in TARGETS:
        try:
            value = target.measure(medians)
        except (KeyError, ValueError):
            if measured_only:
                continue
            lines.append(f"| {target.claim} | - | not measured | a contender did not run |")
            continue
        met = value >= target.limit if target.at_least else value <= target.limit
        note = ""
        if not met:
            gap = (target.limit - value) if target.at_least else (value - target.limit)
            note = f"missed by {gap:.2f}{target.unit}"
            if target.ceiling is not None:
                note += (f"; the calculator alone allows at most {target.ceiling(medians):.2f}x "
                         "here, whatever the tool")
        lines.append(f"| {target.claim} | {value:.2f}{target.unit} | {'yes' if met else 'no'} "
                     f"| {note} |")
    return "\n".join(lines)
