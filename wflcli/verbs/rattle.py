"""``wfl rattle``: random displacements (and cell strain) of each input, seeded per config."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.exec.contracts import TaskDefaults


@dataclass(frozen=True)
class RattleTask(TaskDefaults):
    copies: int = 1
    stdev: float = 0.05            # Angstrom, per Cartesian component
    strain: float = 0.0            # largest |strain| component, uniform in [-strain, strain]
    supercell: tuple = (1, 1, 1)
    seed: int = 0

    verb = "rattle"

    def parameters(self) -> dict:
        return {"copies": self.copies, "stdev": self.stdev, "strain": self.strain,
                "supercell": list(self.supercell), "seed": self.seed}

    def start(self):
        def rattle(atoms, context):
            base = atoms * self.supercell if self.supercell != (1, 1, 1) else atoms
            rng = context.rng
            configs = []
            for copy in range(self.copies):
                new = base.copy()
                if self.strain and new.cell.rank == 3:
                    strain = rng.uniform(-self.strain, self.strain, (3, 3))
                    strain = (strain + strain.T) / 2
                    new.set_cell(new.cell.array @ (np.eye(3) + strain), scale_atoms=True)
                new.set_positions(new.positions + rng.normal(0.0, self.stdev, (len(new), 3)))
                new.info["rattle_copy"] = copy
                configs.append(new)
            return configs

        return rattle
