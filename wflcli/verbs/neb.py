"""``wfl neb``: nudged elastic band between two endpoints with ASE's NEB.

The executor works on one config at a time, so a band's two endpoints travel as one: the
initial endpoint carrying the final one's positions in ``arrays['neb_final_positions']``
(text on the wire, like any config; a batch job receives its pairs this way).
"""

from __future__ import annotations

from dataclasses import dataclass

from wflcli.calculators.spec import CalcSpec
from wflcli.exec.contracts import TaskDefaults
from wflcli.verbs.optimize import OPTIMIZERS
from wflcli.verbs.results import store_current_results

FINAL = "neb_final_positions"


def paired(initial, final):
    """The initial endpoint carrying the final one; a pair that cannot be a band is marked
    failed with the reason (so it is reported, never computed)."""
    import numpy as np

    from wflcli.exec.task import mark_failed

    pair = initial.copy()
    problem = None
    if len(final) != len(initial) or (final.numbers != initial.numbers).any():
        problem = "the endpoints have different atoms (species, in order)"
    elif not (np.allclose(final.cell.array, initial.cell.array)
              and (final.pbc == initial.pbc).all()):
        problem = "the endpoints have different cells"
    if problem:
        return mark_failed(pair, "neb", ValueError(problem), where="input")
    pair.arrays[FINAL] = final.positions.copy()
    return pair


def endpoint_pairs(configs, by: str | None = None):
    """Consecutive pairs (1st with 2nd, 3rd with 4th, ...) or, with ``by``, the two configs
    of each info[by] group, in order of first appearance. Configs that are pairs already
    pass as they are."""
    from wflcli.exec.task import mark_failed

    configs = iter(configs)
    if by is None:
        for initial in configs:
            if FINAL in initial.arrays or "wfl_error" in initial.info:
                yield initial
                continue
            final = next(configs, None)
            if final is None:
                yield mark_failed(initial, "neb", ValueError(
                    "an odd number of endpoints: the last has no partner"), where="input")
                return
            yield paired(initial, final)
        return
    groups: dict = {}
    for atoms in configs:
        groups.setdefault(str(atoms.info.get(by)), []).append(atoms)
    for name, members in groups.items():
        if len(members) != 2:
            yield mark_failed(members[0], "neb", ValueError(
                f"{by}={name} has {len(members)} configs; a band needs two endpoints"),
                where="input")
        else:
            yield paired(*members)


@dataclass(frozen=True)
class NebTask(TaskDefaults):
    calc: CalcSpec
    prefix: str
    images: int = 7              # between the endpoints
    climb: bool = False
    relax_ends: bool = False
    interpolation: str = "linear"
    optimizer: str = "fire"
    fmax: float = 0.05           # eV/A
    steps: int = 1000
    spring: float = 0.1          # eV/A^2
    method: str = "improvedtangent"

    verb = "neb"

    def parameters(self) -> dict:
        return {"calc": self.calc.fingerprint, "prefix": self.prefix, "images": self.images,
                "climb": self.climb, "relax_ends": self.relax_ends,
                "interpolation": self.interpolation, "optimizer": self.optimizer,
                "fmax": self.fmax, "steps": self.steps, "spring": self.spring,
                "method": self.method}

    def start(self):
        import importlib

        module, name = OPTIMIZERS[self.optimizer].split(":")
        optimizer_class = getattr(importlib.import_module(module), name)
        calculators = [self.calc.build() for _ in range(self.images + 2)]

        def band(pair, context):
            if FINAL not in pair.arrays:
                raise ValueError(f"not an endpoint pair (no arrays['{FINAL}'])")
            for calculator in calculators:
                calculator.reset()
            return self._run(pair, calculators, optimizer_class)

        return band

    def _run(self, pair, calculators, optimizer_class) -> list:
        from ase.mep import NEB

        initial = pair.copy()
        del initial.arrays[FINAL]
        final = initial.copy()
        final.positions = pair.arrays[FINAL]
        images = [initial] + [initial.copy() for _ in range(self.images)] + [final]
        for image, calculator in zip(images, calculators):
            image.calc = calculator
        if self.relax_ends:
            for end in (initial, final):
                optimizer_class(end, logfile=None).run(fmax=self.fmax, steps=self.steps)
        neb = NEB(images, k=self.spring, climb=self.climb, method=self.method)
        neb.interpolate(method=self.interpolation)
        optimizer = optimizer_class(neb, logfile=None)
        converged = bool(optimizer.run(fmax=self.fmax, steps=self.steps))
        energies = [image.get_potential_energy() for image in images]
        frames = []
        for number, image in enumerate(images):
            frame = image.copy()
            frame.calc = None
            store_current_results(frame, image.calc, self.prefix)
            frame.info.update(neb_image=number, neb_barrier=max(energies) - energies[0],
                              neb_reverse_barrier=max(energies) - energies[-1],
                              neb_converged=converged, neb_steps=optimizer.nsteps)
            frames.append(frame)
            image.calc = None
        return frames
