"""``wfl descriptor``: SOAP power spectra per config (averaged) or per atom, with featomic.

featomic was chosen over dscribe and quippy (see benchmarks/RESULTS.md): it installs from a
small wheel, needs no JIT and is fast. Vectors have a fixed length for a given species
list, so configs with different elements can be compared and selected together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wflcli.exec.contracts import TaskDefaults


@dataclass(frozen=True)
class SoapSettings:
    cutoff: float = 5.0        # A
    l_max: int = 4
    n_max: int = 4             # radial functions (featomic max_radial = n_max - 1)
    atom_sigma: float = 0.5    # A, Gaussian width of the atomic density
    smoothing: float = 0.5     # A, width of the cutoff's cosine smoothing
    normalize: bool = True     # unit-length per-atom vectors, and unit-length averages

    def calculator(self, species: tuple[int, ...]):
        """A featomic calculator and the keys that fix the vector layout for ``species``."""
        from featomic import SoapPowerSpectrum
        from featomic.basis import Gto, TensorProduct
        from featomic.cutoff import Cutoff, ShiftedCosine
        from featomic.density import Gaussian
        from metatensor import Labels

        calculator = SoapPowerSpectrum(
            cutoff=Cutoff(radius=self.cutoff, smoothing=ShiftedCosine(width=self.smoothing)),
            density=Gaussian(width=self.atom_sigma),
            basis=TensorProduct(max_angular=self.l_max, radial=Gto(max_radial=self.n_max - 1)))
        keys = Labels(["center_type", "neighbor_1_type", "neighbor_2_type"],
                      np.array([[c, a, b] for c in species for a in species for b in species
                                if a <= b], dtype=np.int32))
        return calculator, keys


def soap_vectors(atoms, settings: SoapSettings, species: tuple[int, ...], calculator, keys):
    """Per-atom SOAP vectors (natoms x D), in atom order, normalized if asked."""
    unknown = set(atoms.numbers.tolist()) - set(species)
    if unknown:
        raise ValueError(f"elements {sorted(unknown)} are not in the species list {list(species)}")
    tensor = calculator.compute(atoms, selected_keys=keys)
    tensor = tensor.keys_to_properties(["neighbor_1_type", "neighbor_2_type"])
    block = tensor.keys_to_samples("center_type").block()
    atom_index = block.samples.column("atom")
    vectors = np.empty((len(atoms), block.values.shape[1]))
    vectors[np.asarray(atom_index)] = block.values
    if settings.normalize:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
    return vectors


def average(vectors: np.ndarray, normalize: bool) -> np.ndarray:
    if not len(vectors):  # a config with no atoms has no environments: the zero vector
        return np.zeros(vectors.shape[1])
    mean = vectors.mean(axis=0)
    norm = np.linalg.norm(mean)
    return mean / norm if normalize and norm > 0 else mean


@dataclass(frozen=True)
class DescriptorTask(TaskDefaults):
    settings: SoapSettings
    species: tuple[int, ...]
    key: str = "soap"
    local: bool = False  # per-atom vectors in arrays instead of the average in info

    verb = "descriptor"
    annotates = True
    ignores_results = True  # reads the structure alone

    def parameters(self) -> dict:
        import dataclasses

        return {"soap": dataclasses.asdict(self.settings), "species": list(self.species),
                "key": self.key, "local": self.local}

    def start(self):
        calculator, keys = self.settings.calculator(self.species)

        def describe(atoms, context):
            vectors = soap_vectors(atoms, self.settings, self.species, calculator, keys)
            if self.local:
                return {"info": {}, "arrays": {self.key: vectors}}
            return {"info": {self.key: average(vectors, self.settings.normalize)}, "arrays": {}}

        return describe


@dataclass(frozen=True)
class QuipDescriptorTask(TaskDefaults):
    """Any quippy descriptor given as a quip-style string (``soap l_max=6 ...``)."""

    descriptor: str
    key: str = "soap"
    local: bool = False

    verb = "descriptor"
    annotates = True
    ignores_results = True  # reads the structure alone

    def parameters(self) -> dict:
        return {"quip": self.descriptor, "key": self.key, "local": self.local}

    def start(self):
        from quippy.descriptors import Descriptor

        descriptor = Descriptor(self.descriptor)

        def describe(atoms, context):
            result = descriptor.calc(atoms)
            data = np.asarray(result["data"], dtype=float)
            if self.local:
                if len(data) != len(atoms):
                    raise ValueError(f"the descriptor gives {len(data)} vectors for "
                                     f"{len(atoms)} atoms, so it has no per-atom form")
                order = np.asarray(result["ci"]).ravel() - 1  # quippy counts atoms from 1
                vectors = np.empty_like(data)
                vectors[order] = data
                return {"info": {}, "arrays": {self.key: vectors}}
            vector = data[0] if len(data) == 1 else data.mean(axis=0)
            return {"info": {self.key: vector}, "arrays": {}}

        return describe
