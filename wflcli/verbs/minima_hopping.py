"""``wfl minima-hopping``: global optimization by ASE's MinimaHopping (MD escapes from each
minimum, then local relaxation), seeded, every minimum found written with its energy.

ASE writes its trajectories and log into the working folder, so each config runs in a new
scratch folder of its own (removed afterwards): parallel workers never share files."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.results import results_annotation


@contextlib.contextmanager
def scratch_folder():
    """A new empty folder as the working folder, then back and removed."""
    here = os.getcwd()
    folder = tempfile.mkdtemp(prefix="wfl-minima-hopping-")
    try:
        os.chdir(folder)
        yield folder
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class MinimaHoppingTask(TaskDefaults):
    calc: CalcSpec
    prefix: str
    steps: int = 10              # minima-hopping steps (MD + relaxation each)
    temperature: float = 1000.0  # K, the initial MD temperature
    fmax: float = 0.05           # eV/A
    ediff: float = 0.5           # eV, the initial energy acceptance threshold
    mdmin: int = 2               # MD stops after passing this many minima
    timestep: float = 1.0        # fs
    seed: int = 0

    verb = "minima-hopping"

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "prefix": self.prefix, "steps": self.steps,
                "temperature": self.temperature, "fmax": self.fmax, "ediff": self.ediff,
                "mdmin": self.mdmin, "timestep": self.timestep, "seed": self.seed}

    def start(self):
        calculator = self.calc.build()

        def hop(atoms, context):
            from wflcli.io.writer import format_config

            origin = hashlib.sha256(format_config(atoms).encode()).hexdigest()[:12]
            calculator.reset()
            atoms.calc = calculator
            minima = run_minima_hopping(atoms, context.rng, self.settings())
            outputs = []
            for number, minimum in enumerate(minima):
                found = atoms.copy()
                found.calc = None
                found.positions = minimum.positions
                found.cell = minimum.cell
                results = {k: v for k, v in minimum.calc.results.items()
                           if k in ("energy", "forces")}
                annotation = results_annotation(len(found), results, self.prefix)
                found.info.update(annotation["info"])
                found.arrays.update(annotation["arrays"])
                found.info.update(config_type="minimum", minimum_number=number,
                                  minimum_origin=origin)
                outputs.append(found)
            return outputs

        return hop

    def settings(self) -> dict:
        return {"T0": self.temperature, "fmax": self.fmax, "Ediff0": self.ediff,
                "mdmin": self.mdmin, "timestep": self.timestep, "totalsteps": self.steps}


def run_minima_hopping(atoms, rng, settings: dict) -> list:
    """ASE's MinimaHopping on ``atoms`` (calculator attached) in a scratch folder; the
    minima it recorded, in the order found."""
    from ase.io import Trajectory
    from ase.optimize.minimahopping import MinimaHopping

    settings = dict(settings)
    steps = settings.pop("totalsteps")
    with scratch_folder():
        MinimaHopping(atoms, rng=rng, **settings)(totalsteps=steps)
        with Trajectory("minima.traj") as minima:
            return list(minima)
