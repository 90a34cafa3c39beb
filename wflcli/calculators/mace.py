"""``mace:MODEL``: a MACE model (mace-torch) as an ASE calculator.

MACE's own ``MACECalculator``, opened the way the command line says (``device=auto`` picks
CUDA when torch sees a GPU; ``dtype`` defaults to the model's own), checked cheaply where
the command line is read, and able to evaluate many configs in one model call.

A model file is a pickle, so loading one runs code from it: name only models you trust.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

from ase.calculators.calculator import all_changes
from ase.data import chemical_symbols
from ase.stress import full_3x3_to_voigt_6_stress

from wflcli.calculators.registry import KINDS
from wflcli.calculators.spec_error import SPEC, CalcSpecError


@contextlib.contextmanager
def _quiet():
    """MACE and torch announce each import and load (cuequivariance missing, dtype choices,
    TorchScript, weights_only) with prints, warnings and log lines: stdout is for data and
    stderr for a verb's own messages."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


with _quiet():
    from mace import data as mace_data
    from mace.calculators import MACECalculator
    from mace.tools import torch_geometric, torch_tools

DEVICES = "cpu, cuda, cuda:N or auto"
DTYPES = ("float64", "float32")


class MaceCalculator(MACECalculator):
    """MACE's calculator for one model file; unknown elements fail with their names."""

    default_parameters = {"model": "", "device": "auto", "dtype": "", "head": None}

    def __init__(self, model: str = "", device: str = "auto", dtype: str = "",
                 head: str | None = None):
        device = chosen_device(device)
        with _quiet():
            super().__init__(model_paths=model, device=device, default_dtype=dtype,
                             **({"head": head} if head is not None else {}))
        self.known = {int(z) for z in self.z_table.zs}
        # atoms per model call by default in calc: on a CPU a group pays only while its
        # graph is small (measured: 8 4-atom cells 1.6x faster per config than one at a
        # time, 2 32-atom cells 1.3x slower; benchmarks/RESULTS.md); a GPU wants thousands
        on_cpu, on_gpu = KINDS["mace"].batch_atoms
        self.batch_atoms = on_cpu if self.device.type == "cpu" else on_gpu

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        self.check_elements(atoms)
        with _as_written():
            super().calculate(atoms, properties, system_changes)

    def check_elements(self, atoms) -> None:
        unknown = sorted({int(z) for z in atoms.numbers} - self.known)
        if unknown:
            raise ValueError(f"the MACE model does not know {_symbols(unknown)} "
                             f"(it knows {_symbols(sorted(self.known))})")

    @property
    def batches(self) -> bool:
        """Whether ``calculate_many`` is exact: not with the padded graphs of a compiled
        model (none is compiled here, but MACE_ASE_PAD_NUM_* may ask for padding)."""
        return not (self.use_compile or self.pad_num_atoms or self.pad_num_edges)

    def calculate_many(self, configs: list) -> list[dict]:
        """Energy, forces and (Voigt) stress of each config from one model call per model
        (their mean for a committee), as ``calculate`` gives them one by one."""
        import torch

        for atoms in configs:
            self.check_elements(atoms)
        batch = torch_geometric.Batch.from_data_list([self._graph(a) for a in configs])
        batch = batch.to(self.device)
        with _as_written():
            outputs = [_evaluate(model, batch) for model in self.models]
        energy, forces, stress = (torch.mean(torch.stack([out[key] for out in outputs]), dim=0)
                                  .cpu().numpy() for key in ("energy", "forces", "stress"))
        ptr = batch["ptr"].cpu().numpy()
        return [{"energy": float(energy[i]), "free_energy": float(energy[i]),
                 "forces": forces[ptr[i]:ptr[i + 1]].copy(),
                 "stress": full_3x3_to_voigt_6_stress(stress[i])}
                for i in range(len(configs))]

    def _graph(self, atoms):
        """One config as MACE's graph, built as ``calculate`` builds it (without padding)."""
        self.arrays_keys.update({self.charges_key: "charges"})
        keys = mace_data.KeySpecification(info_keys=self.info_keys,
                                          arrays_keys=self.arrays_keys)
        with torch_tools.default_dtype(self.default_dtype):
            config = mace_data.config_from_atoms(atoms, key_specification=keys,
                                                 head_name=self.head)
            return mace_data.AtomicData.from_config(config, z_table=self.z_table,
                                                    cutoff=self.r_max,
                                                    heads=self.available_heads)


def _evaluate(model, batch) -> dict:
    """One model on a batch of graphs, its inputs in the model's dtype (as MACE does)."""
    import torch

    dtype = next(model.parameters()).dtype
    inputs = batch.clone()
    for key in inputs.keys:
        if torch.is_tensor(inputs[key]) and torch.is_floating_point(inputs[key]):
            inputs[key] = inputs[key].to(dtype=dtype)
    out = model(inputs.to_dict(), compute_stress=True, training=False)
    return {key: out[key].detach() for key in ("energy", "forces", "stress")}


@contextlib.contextmanager
def _as_written():
    """TorchScript's graph executor rewrites the model's scripted parts after a few calls,
    and the rewritten graph rounds differently (seen: 3e-18 eV/A in a force), so a result
    would depend on which configs a worker saw before; unoptimized, it never does."""
    import torch

    with torch.jit.optimized_execution(False):
        yield


def chosen_device(device: str) -> str:
    """``auto`` -> cuda when torch sees a GPU, else cpu; a device that is not there is an
    error. Counted without initialising CUDA, so worker processes forked later can use it."""
    import torch

    text = str(device).strip().lower()
    count = torch.cuda.device_count()
    if text == "auto":
        return "cuda" if count > 0 else "cpu"
    if text == "cpu":
        return text
    name, _, number = text.partition(":")
    if name != "cuda" or (number and not number.isdigit()):
        raise ValueError(f"device={device} is not one of {DEVICES}")
    if count == 0:
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise ValueError(f"device={device}, but torch ({torch.__version__}, {build}) "
                         "sees no CUDA device")
    if number and int(number) >= count:
        raise ValueError(f"device={device}, but torch sees {count} CUDA device(s)")
    return text


def checked_parameters(params: dict) -> dict:
    """The parameters with the device chosen and the dtype settled, checked without
    building the calculator here (that would start CUDA before workers fork): the file must
    hold a MACE model, the head must be one of its heads."""
    if not params.get("model"):
        raise CalcSpecError(SPEC, "needs a model file: mace:MODEL[,device=...,dtype=...]",
                            "mace", " ")
    checked = dict(params)
    try:
        checked["device"] = chosen_device(params.get("device", "auto"))
    except ValueError as exc:
        raise CalcSpecError(SPEC, str(exc), "mace") from None
    model = _load_model(params["model"])
    dtype = params.get("dtype") or str(next(model.parameters()).dtype).replace("torch.", "")
    if dtype not in DTYPES:
        raise CalcSpecError(SPEC, f"dtype={dtype} is not one of {', '.join(DTYPES)}", "mace")
    checked["dtype"] = dtype
    heads = list(getattr(model, "heads", None) or ["Default"])
    if params.get("head") is not None and params["head"] not in heads:
        raise CalcSpecError(SPEC, f"head={params['head']} is not one of the model's "
                            f"heads ({', '.join(heads)})", "mace")
    return checked


def _load_model(path: str):
    import torch

    try:
        with _quiet():
            model = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many kinds for a file that is not its own
        raise CalcSpecError(SPEC, f"{path} is not a MACE model file "
                            f"({type(exc).__name__}: {str(exc).splitlines()[0][:120]})",
                            "mace") from None
    if not (isinstance(model, torch.nn.Module) and hasattr(model, "atomic_numbers")
            and hasattr(model, "r_max")):
        what = "a training checkpoint?" if isinstance(model, dict) else "not a MACE model"
        raise CalcSpecError(SPEC, f"{path} holds a {type(model).__name__} ({what}); "
                            "give the .model file that mace_run_train writes", "mace")
    return model


def _symbols(numbers) -> str:
    return ", ".join(chemical_symbols[z] for z in numbers)

