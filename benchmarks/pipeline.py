"""Scenario 15: a four-stage shell pipeline on 4-atom Ar clusters, ``wfl cat | wfl rattle |
wfl calc --calc lj | wfl filter``, against each stage run alone on the input it gets in the
pipeline.

The stages overlap when none waits on another's full or empty buffer: each writes a frame as
soon as it has it and reads what the previous one wrote as soon as it is there. On two
cores four stages share the CPUs, so the pipeline can approach its slowest stage only while
the others together need less than the second core.
"""

from __future__ import annotations

import shlex

from benchmarks.calc_emt import inputs
from benchmarks.common import WORK, Measurement, measured, timed, wfl

GENERATE = """
import sys
from ase import Atoms
from wflcli.io.writer import format_config
with open(sys.argv[1], "w") as out:
    for i in range({count}):
        atoms = Atoms("Ar4", [(0, 0, 0), (3.8, 0, 0), (1.9, 3.3, 0), (1.9, 1.1, 3.1)])
        atoms.rattle(0.02, seed=i)
        atoms.info["idx"] = i
        out.write(format_config(atoms))
"""

STAGES = [("wfl cat", ["cat"]), ("wfl rattle", ["rattle", "--stdev", "0.05"]),
          ("wfl calc --calc lj", ["calc", "--calc", "lj:sigma=3.4,epsilon=0.0104"]),
          ("wfl filter", ["filter", "lj_energy < 0"])]


PIPELINE = "pipeline: " + ", ".join(name for name, _ in STAGES) + " (piped)"  # no | in tables


def run(count: int, repeat: int) -> list[Measurement]:
    source = inputs(count, "ar4", GENERATE)
    feeds = [source]  # what each stage reads in the pipeline, made once by running it
    for index, (_, args) in enumerate(STAGES[:-1]):
        feed = WORK / f"pipeline_{count}_{index + 1}.xyz"
        if not feed.exists():
            timed(wfl(*args, str(feeds[-1]), "-o", str(feed)))
        feeds.append(feed)
    commands = [wfl(*args) for _, args in STAGES]
    commands[0].append(str(source))
    contenders = {PIPELINE: [
        "bash", "-o", "pipefail", "-c", " | ".join(map(shlex.join, commands))]}
    for (name, args), feed in zip(STAGES, feeds):
        contenders[f"alone: {name}"] = wfl(*args, str(feed))
    return measured(contenders, count, repeat)
