"""``wfl fit-gap``: fit a GAP with the real ``gap_fit`` program of quippy-ase.

The fit runs in a private temporary folder beside the output; the model, its sparse files
and a log (the exact command line, gap_fit's output and a fingerprint of inputs and
parameters) are moved into place only when gap_fit succeeds. A model whose log carries the
same fingerprint is up to date and is not fitted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from wflcli.errors import WflError
from wflcli.verbs.follow import follow

FINGERPRINT_LINE = "# wflcli fingerprint: "
FAILED_LOG = ".failed.log"  # GAP.xml.failed.log: gap_fit's whole output when it failed
_ERROR_LINE = re.compile(r"SYSTEM ABORT|\bERROR\b|\bError\b|\bFATAL\b|Fatal|Traceback|"
                         r"Segmentation fault|Killed|MPI_ABORT")
_MAX_ERROR_LINES = 12
_TRACEBACK_LINES = 6
_TAIL_LINES = 10


def error_lines(output: str) -> list[str]:
    """The lines that say why gap_fit stopped, wherever they are in its output (the end
    is often a report that says nothing about it); its last lines when none does."""
    lines = [line.rstrip() for line in output.splitlines()]
    found: list[str] = []
    for number, line in enumerate(lines):
        if _ERROR_LINE.search(line):
            found.append(line)
            if "Traceback" in line:  # Fortran's: where, then the reason, then STOP
                for after in lines[number + 1:number + 1 + _TRACEBACK_LINES]:
                    if not after.strip() or after.startswith("STOP"):
                        break
                    found.append(after)
    found = list(dict.fromkeys(found))
    if not found:
        return [line for line in lines if line.strip()][-_TAIL_LINES:]
    if len(found) > _MAX_ERROR_LINES:
        found = found[:_MAX_ERROR_LINES] + [f"... ({len(found) - _MAX_ERROR_LINES} more)"]
    return found


@dataclass
class GapFit:
    ref: str                                  # prefix of reference keys, e.g. REF_
    descriptors: list[str]                    # quip-style descriptor strings
    sigma: tuple = (0.002, 0.05, 0.05, 0.0)   # energy, force, virial, hessian
    e0: str | None = None                     # "H:-13.6,C:-1029" or "average"; None: isolated
    config_type_sigma: dict = field(default_factory=dict)  # config_type -> 4 sigmas
    seed: int = 0                             # >= 0; gap_fit gets seed + 1
    extra: dict = field(default_factory=dict)  # more gap_fit key=value, from a params file

    def arguments(self, configs) -> list[str]:
        """gap_fit's arguments (without file names), from options and the training configs."""
        args = {
            "gap": "{" + " : ".join(self.descriptors) + "}",
            "default_sigma": "{" + " ".join(map(repr, map(float, self.sigma))) + "}",
            "energy_parameter_name": self.ref + "energy",
            "force_parameter_name": self.ref + "forces",
            "virial_parameter_name": self.ref + "virial",
            "config_type_parameter_name": "config_type",
            "rnd_seed": str(self.seed + 1),  # gap_fit fails on 0
            "sparse_separate_file": "T",
        }
        args.update(self._e0(configs))
        if self.config_type_sigma:
            args["config_type_sigma"] = "{" + ":".join(
                f"{name}:" + ":".join(map(repr, map(float, values)))
                for name, values in sorted(self.config_type_sigma.items())) + "}"
        args.update({key: str(value) for key, value in self.extra.items()})
        return [f"{key}={value}" for key, value in args.items()]

    def _e0(self, configs) -> dict:
        if self.e0 == "average":
            return {"e0_method": "average"}
        if self.e0:
            pairs = [part.split(":") for part in self.e0.replace(" ", "").split(",") if part]
            if not all(len(pair) == 2 for pair in pairs):
                raise WflError(f"--e0 {self.e0!r}: expected Element:energy,... or average")
            return {"e0": "{" + ":".join(f"{s}:{float(e)!r}" for s, e in pairs) + "}"}
        isolated = {}
        for atoms in configs:
            if atoms.info.get("config_type") == "isolated_atom" and len(atoms) == 1:
                energy = atoms.info.get(self.ref + "energy")
                if energy is not None:
                    isolated[atoms.get_chemical_symbols()[0]] = float(energy)
        missing = sorted({s for atoms in configs for s in atoms.get_chemical_symbols()}
                         - set(isolated))
        if missing:
            raise WflError(f"no isolated-atom config (config_type=isolated_atom with "
                           f"{self.ref}energy) for {', '.join(missing)}: add them (wfl atoms) "
                           "or give --e0 Element:energy,... or --e0 average")
        return {"e0": "{" + ":".join(f"{s}:{e!r}" for s, e in sorted(isolated.items())) + "}"}


def training_configs(configs, ref: str, descriptors: list[str]) -> list:
    """Configs ready for gap_fit: the reference stress becomes a 9-value virial, and a
    config without a cell (a molecule, an isolated atom) gets a box larger than it by twice
    the largest descriptor cutoff, since gap_fit needs a lattice for every config."""
    if not configs:
        raise WflError("no training configs")
    if not any(ref + "energy" in atoms.info or ref + "forces" in atoms.arrays
               for atoms in configs):
        raise WflError(f"no config has {ref}energy or {ref}forces: is --ref {ref!r} right?")
    cutoffs = [float(c) for text in descriptors for c in re.findall(r"cutoff=([0-9.eE+-]+)", text)]
    margin = 2 * max(cutoffs, default=10.0) + 1.0
    prepared = []
    for atoms in configs:
        atoms = atoms.copy()
        if atoms.cell.rank == 0:
            extent = np.ptp(atoms.positions, axis=0) if len(atoms) else np.zeros(3)
            atoms.set_cell(np.diag(extent + margin))
            atoms.center()
        stress = atoms.info.pop(ref + "stress", None)
        if stress is not None and atoms.cell.rank == 3:
            from ase.stress import voigt_6_to_full_3x3_stress

            full = np.asarray(stress, dtype=float)
            full = voigt_6_to_full_3x3_stress(full) if full.shape == (6,) else full.reshape(3, 3)
            atoms.info[ref + "virial"] = (-full * atoms.get_volume()).ravel()
        prepared.append(atoms)
    return prepared


def gap_fit_program() -> str:
    import quippy

    path = os.path.join(quippy.__path__[0], "gap_fit")
    if not os.path.exists(path):
        raise WflError(f"quippy-ase has no gap_fit program at {path}")
    return path


def fingerprint(training_text: str, arguments: list[str]) -> str:
    from importlib import metadata

    digest = hashlib.sha256()
    digest.update(training_text.encode())
    digest.update("\0".join(arguments).encode())
    digest.update(metadata.version("quippy-ase").encode())
    return digest.hexdigest()


def up_to_date(model: str, print_: str) -> bool:
    """Whether ``model`` exists and its log records this fingerprint."""
    try:
        with open(model + ".log") as log:
            return os.path.exists(model) and any(line.strip() == FINGERPRINT_LINE + print_
                                                 for line in log)
    except OSError:
        return False


class GapPhases:
    """Turn gap_fit's output lines into the phase of the fit, for ``on_phase``: only the
    lines gap_fit prints at each step (QUIP 0.10), so a phase shown is a phase reached."""

    _MARKS = ((re.compile(r"Initial parsing of command line"), "reading the training set"),
              (re.compile(r"^XYZ file read"), "descriptors and sparse points"),
              (re.compile(r"^Started CUR decomposition"), "sparse points by CUR"),
              (re.compile(r"^Finished CUR decomposition"), "descriptors and sparse points"),
              (re.compile(r"covariance matrix calculation of coordinate (\d+)"),
               "covariances of descriptor {0} of {gaps}"),
              (re.compile(r"gpFull_covarianceMatrix_sparse\s+done"), "solving the linear system"),
              (re.compile(r"GP sparsify\s+done|^libAtoms::Finalise"), "writing the model"))
    _GAPS = re.compile(r"^Found (\d+) GAPs")

    def __init__(self, on_phase: Callable[[str], None]):
        self.on_phase, self.gaps, self.shown = on_phase, "?", None

    def __call__(self, line: str) -> None:
        found = self._GAPS.search(line)
        if found:
            self.gaps = found.group(1)
        for pattern, phase in self._MARKS:
            match = pattern.search(line)
            if match:
                phase = "gap_fit: " + phase.format(*match.groups(), gaps=self.gaps)
                if phase != self.shown:
                    self.shown = phase
                    self.on_phase(phase)
                return


def run_fit(training_text: str, arguments: list[str], model: str, threads: int | None,
            print_: str, on_phase: Callable[[str], None] | None = None) -> None:
    """Run gap_fit in a private folder; move the model, sparse files and log into place.
    ``on_phase`` hears what gap_fit is doing, as its output tells (GapPhases)."""
    folder, name = os.path.split(os.path.abspath(model))
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{name}.fit-", dir=folder)
    try:
        with open(os.path.join(work, "train.xyz"), "w") as stream:
            stream.write(training_text)
        command = [gap_fit_program(), "at_file=train.xyz", f"gap_file={name}", *arguments]
        env = dict(os.environ)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        with open(os.path.join(work, "gap_fit.out"), "w") as out:
            returncode = follow(command, work, out, on_phase and GapPhases(on_phase), env)
        output = open(os.path.join(work, "gap_fit.out"), errors="replace").read()
        header = "# command: " + " ".join(_shell_quote(a) for a in command) + "\n"
        if returncode != 0 or not os.path.exists(os.path.join(work, name)):
            failed_log = os.path.join(folder, name + FAILED_LOG)
            with open(failed_log, "w") as log:
                log.write(header + output)
            raise WflError(f"gap_fit failed (exit code {returncode}):\n"
                           + "\n".join(error_lines(output))
                           + f"\n(its whole output: {failed_log})")
        with open(os.path.join(work, name + ".log"), "w") as log:
            log.write(header)
            log.write(FINGERPRINT_LINE + print_ + "\n")
            log.write(output)
        _move_into_place(work, folder, name)
        with contextlib.suppress(FileNotFoundError):  # an earlier failure's log is stale
            os.unlink(os.path.join(folder, name + FAILED_LOG))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _move_into_place(work: str, folder: str, name: str) -> None:
    """Sparse files and log first, the model last: a model file present is a whole model."""
    for old in os.listdir(folder):
        if old.startswith(name + ".sparse"):
            os.unlink(os.path.join(folder, old))
    produced = sorted(f for f in os.listdir(work) if f.startswith(name + "."))
    for file_name in produced + [name]:
        os.replace(os.path.join(work, file_name), os.path.join(folder, file_name))


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
