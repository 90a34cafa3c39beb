"""Shared by the ``wfl pipe`` tests: the same stages as a shell pipeline, and inputs
whose configs fail at different stages."""

from __future__ import annotations

import subprocess

from helpers_data import rattled_cells, write_configs
from helpers_wfl import PROGRAM

MD = "md --calc emt --ensemble langevin -T 300 --steps 4 --every 1"


def shell_pipeline(global_args, stages, source, last_args=()):
    """``wfl G A FILE | wfl G B | ... | wfl G Z LAST_ARGS``: the last stage's stdout and
    exit code."""
    processes, stdin = [], None
    for number, stage in enumerate(stages):
        args = [PROGRAM, *global_args, *stage.split()]
        args += [str(source)] if number == 0 else []
        args += list(last_args) if number == len(stages) - 1 else []
        last = number == len(stages) - 1
        process = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE if last else subprocess.DEVNULL)
        if stdin is not None:
            stdin.close()  # the next stage holds it now
        stdin = process.stdout
        processes.append(process)
    out, err = processes[-1].communicate(timeout=300)
    for process in processes[:-1]:
        process.wait(timeout=300)
    return processes[-1].returncode, out, err



def mixed_inputs(folder):
    """Cu cells, two Fe cells (EMT has no Fe: they fail at the first EMT stage) and one
    that failed before it came (info['wfl_error'])."""
    from ase.build import bulk

    configs = rattled_cells(5, repeat=(1, 1, 1))
    for where in (1, 4):
        iron = bulk("Fe", "bcc", a=2.87, cubic=True)
        iron.rattle(0.05, seed=where)
        configs.insert(where, iron)
    configs[2].info["wfl_error"] = {"verb": "calc", "type": "RuntimeError",
                                    "message": "failed upstream", "where": ""}
    return write_configs(folder / "mixed.xyz", configs)


def refusing_stage(folder) -> str:
    """A wfl map stage that fails MD step 2 of every trajectory and passes the rest, so
    failures arise in the middle of a config's outputs."""
    path = folder / "ops.py"
    path.write_text("def refuse_step(atoms):\n"
                    "    if atoms.info['MD_step'] == 2:\n"
                    "        raise ValueError('step 2 refused')\n"
                    "    return atoms\n")
    return f"map {path}:refuse_step"
