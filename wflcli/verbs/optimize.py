"""``wfl optimize``: relax each input config with an ASE optimizer, optionally the cell too
and keeping the space group, respecting the fixed atoms it came with."""

from __future__ import annotations

from dataclasses import dataclass

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.results import store_current_results

OPTIMIZERS = {
    "bfgs": "ase.optimize:BFGS",
    "lbfgs": "ase.optimize:LBFGS",
    "fire": "ase.optimize:FIRE",
    "precon-lbfgs": "ase.optimize.precon:PreconLBFGS",
}


@dataclass(frozen=True)
class OptimizeTask(TaskDefaults):
    calc: CalcSpec
    prefix: str
    optimizer: str = "bfgs"
    fmax: float = 0.05             # eV/A
    steps: int = 1000
    cell: bool = False             # relax the cell too (FrechetCellFilter)
    pressure: float = 0.0          # GPa, with cell
    symmetry: bool = False         # keep the space group (FixSymmetry)
    traj_every: int = 0            # 0: final structure only
    require_converged: bool = False

    verb = "optimize"

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "prefix": self.prefix,
                "optimizer": self.optimizer, "fmax": self.fmax, "steps": self.steps,
                "cell": self.cell, "pressure": self.pressure, "symmetry": self.symmetry,
                "traj_every": self.traj_every, "require_converged": self.require_converged}

    def start(self):
        import importlib

        module, name = OPTIMIZERS[self.optimizer].split(":")
        optimizer_class = getattr(importlib.import_module(module), name)
        calculator = self.calc.build()

        def relax(atoms, context):
            calculator.reset()
            atoms.calc = calculator
            return self._relax(atoms, optimizer_class, context)

        return relax

    def _relax(self, atoms, optimizer_class, context) -> list:
        from ase import units

        original_constraints = list(atoms.constraints)
        if self.symmetry:
            from ase.constraints import FixSymmetry

            atoms.set_constraint(original_constraints + [FixSymmetry(atoms)])
        target = atoms
        if self.cell:
            from ase.filters import FrechetCellFilter

            target = FrechetCellFilter(atoms, scalar_pressure=self.pressure * units.GPa)
        optimizer = optimizer_class(target, logfile=None)
        frames: list = []
        optimizer.attach(context.step, interval=1)
        if self.traj_every:
            optimizer.attach(lambda: frames.append(self._frame(atoms, optimizer.nsteps)),
                             interval=self.traj_every)
        converged = bool(optimizer.run(fmax=self.fmax, steps=self.steps))
        final = self._frame(atoms, optimizer.nsteps)
        final.set_constraint(original_constraints)
        final.info["optimize_converged"] = converged
        final.info["optimize_steps"] = optimizer.nsteps
        if frames and frames[-1].info["optimize_step"] == optimizer.nsteps:
            frames.pop()  # the final frame replaces the last sampled one
        if not converged and self.require_converged:
            from wflcli.exec.task import mark_failed

            mark_failed(final, self.verb, RuntimeError(
                f"not converged to fmax {self.fmax} in {self.steps} steps"),
                where=f"step {optimizer.nsteps}")
        atoms.calc = None
        return [*frames, final]

    def _frame(self, atoms, step: int):
        frame = atoms.copy()
        frame.calc = None
        frame.set_constraint([c for c in atoms.constraints
                              if type(c).__name__ in ("FixAtoms", "FixCartesian")])
        store_current_results(frame, atoms.calc, self.prefix)
        frame.info["optimize_step"] = step
        return frame
