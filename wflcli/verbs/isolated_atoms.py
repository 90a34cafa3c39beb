"""``wfl atoms``: one isolated atom per species, the reference configs of MLIP fits."""

from __future__ import annotations

from dataclasses import dataclass

from wflcli.exec.contracts import TaskDefaults


def species_placeholder(symbol: str):
    from ase import Atoms

    atoms = Atoms()
    atoms.info["species"] = symbol
    return atoms


@dataclass(frozen=True)
class IsolatedAtomTask(TaskDefaults):
    box: float | None = None  # cube edge in Angstrom; None = no cell, not periodic

    verb = "atoms"

    def parameters(self) -> dict:
        return {"box": self.box}

    def start(self):
        from ase import Atoms

        def build(placeholder, context):
            symbol = placeholder.info["species"]
            atoms = Atoms(symbol, cell=[self.box] * 3 if self.box else None, pbc=False)
            if self.box:
                atoms.center()
            atoms.info["config_type"] = "isolated_atom"
            return [atoms]

        return build
