"""``wfl committee``: several models on the same config, and how much they disagree.

The spread of a committee's predictions is the usual uncertainty estimate of active
learning: configs where the models disagree are the ones worth labelling. Every member is
built once per worker and evaluated from a clean state, as ``wfl calc`` does, so any
in-process calculator ``--calc`` knows can be a member.

Standard deviations are the sample standard deviation over the M members (ddof=1, i.e.
divided by M - 1), so two members already give a spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.calc import calculate_once
from wflcli.verbs.results import default_properties, results_annotation

DDOF = 1  # sample standard deviation over the members


@dataclass(frozen=True)
class CommitteeTask(TaskDefaults):
    members: tuple[CalcSpec, ...]
    prefix: str                   # statistics under PREFIX, member i under PREFIX + "i_"
    committee_only: bool = False  # only the statistics, not each member's results

    verb = "committee"
    annotates = True  # output = input + results: the cache keys on the structure alone

    def parameters(self) -> dict:
        return {"members": [spec.fingerprint for spec in self.members], "prefix": self.prefix,
                "committee_only": self.committee_only}

    def start(self):
        calculators = [spec.build() for spec in self.members]  # once per worker

        def evaluate(atoms, context):
            predictions = [calculate_once(calculator, atoms, default_properties(calculator, atoms))
                           for calculator in calculators]
            annotation = committee_annotation(len(atoms), predictions, self.prefix)
            if not self.committee_only:
                for index, results in enumerate(predictions):
                    own = results_annotation(len(atoms), results, member_prefix(self.prefix, index))
                    annotation["info"].update(own["info"])
                    annotation["arrays"].update(own["arrays"])
            return annotation

        return evaluate


def member_prefix(prefix: str, index: int) -> str:
    return f"{prefix}{index}_"


def committee_annotation(natoms: int, predictions: list[dict], prefix: str) -> dict:
    """Mean and spread of the properties every member gave:

    - ``energy`` (mean, eV) and ``energy_per_atom_std`` (eV/atom);
    - ``forces`` (mean, per atom), ``forces_std`` (per atom: the root of the summed
      variances of the three components, eV/A) and ``forces_std_max`` (its largest value);
    - ``stress`` (mean, Voigt) and ``stress_std`` (per component).
    """
    shared = set.intersection(*(set(results) for results in predictions))
    info, arrays = {}, {}
    if "energy" in shared:
        energies = np.array([float(results["energy"]) for results in predictions])
        info[prefix + "energy"] = float(energies.mean())
        info[prefix + "energy_per_atom_std"] = float(np.std(energies / natoms, ddof=DDOF))
    if "forces" in shared:
        forces = np.array([np.asarray(results["forces"], dtype=float) for results in predictions])
        deviation = np.sqrt(np.var(forces, axis=0, ddof=DDOF).sum(axis=1))
        arrays[prefix + "forces"] = forces.mean(axis=0)
        arrays[prefix + "forces_std"] = deviation
        info[prefix + "forces_std_max"] = float(deviation.max()) if natoms else 0.0
    if "stress" in shared:
        stresses = np.array([np.asarray(results["stress"], dtype=float) for results in predictions])
        info[prefix + "stress"] = stresses.mean(axis=0)
        info[prefix + "stress_std"] = np.std(stresses, axis=0, ddof=DDOF)
    return {"info": info, "arrays": arrays}
