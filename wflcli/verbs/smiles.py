"""``wfl smiles``: 3D molecules from SMILES with RDKit (hydrogens, seeded embedding, force
field clean-up), one or several distinct conformers each."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wflcli.exec.contracts import TaskDefaults

FORCE_FIELDS = ("mmff", "uff", "none")
_DISTINCT_RMSD = 0.1  # Angstrom: conformers closer than this count as the same


def smiles_placeholder(smiles: str, name: str | None):
    """The input config for one SMILES: no atoms, the string (and name) in info."""
    from ase import Atoms

    atoms = Atoms()
    atoms.info["smiles"] = smiles
    if name:
        atoms.info["name"] = name
    return atoms


@dataclass(frozen=True)
class SmilesTask(TaskDefaults):
    conformers: int = 1
    force_field: str = "mmff"
    seed: int = 0

    verb = "smiles"

    def parameters(self) -> dict:
        return {"conformers": self.conformers, "force_field": self.force_field,
                "seed": self.seed}

    def start(self):
        from rdkit import rdBase

        rdBase.LogToPythonLogger()  # RDKit's reasons become our messages, not stderr noise
        logger = logging.getLogger("rdkit")
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False

        def build(placeholder, context):
            smiles = placeholder.info["smiles"]
            molecule = _parse(smiles)
            configs = _conformers(molecule, self.conformers, self.force_field,
                                  int(context.rng.integers(2 ** 31)))
            for number, atoms in enumerate(configs):
                atoms.info.update(placeholder.info)
                atoms.info["config_type"] = "smiles"
                if self.conformers > 1:
                    atoms.info["conformer"] = number
                    atoms.info["conformers_found"] = len(configs)
            return configs

        return build


def _parse(smiles: str):
    from rdkit import Chem

    messages = _CapturedLog()
    logger = logging.getLogger("rdkit")
    logger.addHandler(messages)
    try:
        molecule = Chem.MolFromSmiles(smiles)
    finally:
        logger.removeHandler(messages)
    if molecule is None:
        reason = messages.text() or "RDKit cannot read it"
        raise ValueError(f"invalid SMILES {smiles!r}: {reason}")
    return Chem.AddHs(molecule)


class _CapturedLog(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[str] = []

    def emit(self, record) -> None:
        self.records.append(record.getMessage().split("]", 1)[-1].strip())

    def text(self) -> str:
        return "; ".join(r for r in self.records if r)


def _conformers(molecule, count: int, force_field: str, seed: int):
    """Up to ``count`` distinct conformers: embed several times more, optimize, keep the
    distinct ones. A rigid molecule has fewer than asked: those found are its answer."""
    from rdkit.Chem import AllChem, rdMolAlign

    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    ids = list(AllChem.EmbedMultipleConfs(molecule, numConfs=max(1, 4 * count) if count > 1
                                          else 1, params=params))
    if not ids:
        raise ValueError("RDKit could not embed a 3D structure")
    energies = _optimize(molecule, force_field)
    order = sorted(ids, key=lambda i: (energies.get(i, 0.0), i))
    kept: list[int] = []
    for candidate in order:
        if all(rdMolAlign.GetBestRMS(molecule, molecule, k, candidate) > _DISTINCT_RMSD
               for k in kept):
            kept.append(candidate)
        if len(kept) == count:
            break
    return [_to_atoms(molecule, i) for i in kept]


def _optimize(molecule, force_field: str) -> dict:
    from rdkit.Chem import AllChem

    if force_field == "none":
        return {}
    if force_field == "mmff" and AllChem.MMFFHasAllMoleculeParams(molecule):
        results = AllChem.MMFFOptimizeMoleculeConfs(molecule, maxIters=2000)
    else:  # UFF asked for, or MMFF lacks parameters for this molecule
        results = AllChem.UFFOptimizeMoleculeConfs(molecule, maxIters=2000)
    return {conf.GetId(): energy for conf, (_, energy) in zip(molecule.GetConformers(), results)}


def _to_atoms(molecule, conformer_id: int):
    from ase import Atoms

    conformer = molecule.GetConformer(conformer_id)
    return Atoms([a.GetSymbol() for a in molecule.GetAtoms()],
                 positions=conformer.GetPositions())
