"""``wfl fit-mace``: fit a MACE model with mace-torch's own ``mace_run_train``.

The fit runs in a work folder beside the output, named by a fingerprint of the inputs and
options, so a rerun after a kill finds the folder and resumes from its latest checkpoint
(``--restart_latest``). MODEL and MODEL.log (the command, the fingerprint and the trainer's
output, error tables included) are moved into place only when the fit succeeds; then the
folder goes. A model whose log carries the same fingerprint is up to date: nothing to do.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass

from wflcli.errors import UsageError, WflError
from wflcli.verbs.follow import follow
from wflcli.verbs.fit_gap import FINGERPRINT_LINE

ISOLATED = "isolated_atom"  # the config_type of `wfl atoms`
_NAME = "wfl"               # the trainer's --name: it writes wfl.model
_LOG_TAIL_LINES = 25
VALID_FRACTION = 0.1        # of TRAIN kept for validation when no file is given
_TRAINER_BATCH = 10         # mace_run_train's own --batch_size
_EPOCH = re.compile(r"Epoch (\d+): .*?loss=([-+0-9.eE]+),?\s*(.*)")
# what wflcli sets itself: --extra may not set it again
RESERVED = frozenset({"name", "train_file", "valid_file", "valid_fraction", "test_file",
                      "E0s", "energy_key", "forces_key", "stress_key", "seed", "device",
                      "default_dtype", "work_dir", "log_dir", "model_dir", "checkpoints_dir",
                      "results_dir", "restart_latest", "foundation_model"})


@dataclass(frozen=True)
class MaceFit:
    """What a fit is asked for; ``options`` are mace_run_train's (flag, value) pairs for the
    model and training settings the user gave (r_max, num_channels, ...)."""

    ref: str
    e0s: str = "isolated"               # isolated (from isolated_atom configs) | average
    valid_fraction: float | None = None  # when no validation file
    seed: int = 0
    device: str = "auto"
    dtype: str = "float64"
    options: tuple = ()
    foundation: str | None = None       # a local model file to fine-tune
    extra: tuple = ()                   # more mace_run_train arguments, as given

    @property
    def batch_size(self) -> int:
        """The trainer's: --batch-size, else a --extra --batch_size=N, else its default."""
        for item in reversed(self.extra):  # the trainer takes the last one given
            flag, _, value = item.partition("=")
            if flag == "--batch_size" and value.isdigit():
                return int(value)
        return dict(self.options).get("batch_size", _TRAINER_BATCH)

    def arguments(self, e0s: dict, files: dict, device: str) -> list[str]:
        """mace_run_train's arguments, for the files in the work folder (train, valid,
        test) and the device chosen."""
        args = [f"--name={_NAME}", "--work_dir=.", "--restart_latest",
                *(f"--{what}_file={name}" for what, name in files.items()),
                f"--energy_key={self.ref}energy", f"--forces_key={self.ref}forces",
                f"--stress_key={self.ref}stress", f"--seed={self.seed}",
                f"--device={device}", f"--default_dtype={self.dtype}"]
        if "valid" not in files:
            args.append(f"--valid_fraction={self.valid_fraction or VALID_FRACTION}")
        args.append("--E0s=" + ("average" if self.e0s == "average" else
                                "{" + ", ".join(f"{z}: {e!r}" for z, e in sorted(e0s.items()))
                                + "}"))
        if self.foundation:
            args.append(f"--foundation_model={os.path.abspath(self.foundation)}")
        args += [f"--{flag}={value}" for flag, value in self.options]
        return args + list(self.extra)


def check_extra(extra: tuple) -> None:
    for item in extra:
        flag = item.split("=", 1)[0]
        if not flag.startswith("--"):
            raise UsageError(f"--extra {item!r}: give mace_run_train options as --flag=value")
        if flag[2:] in RESERVED:
            raise UsageError(f"--extra {item!r}: wfl fit-mace sets {flag} itself")


def check_batches(fit: MaceFit, configs: int, valid_file: bool) -> None:
    """mace_run_train drops a last partial training batch, and without a validation file it
    keeps at least one config of TRAIN for validation: with fewer training configs left than
    a batch it has nothing to train on, which it says as a torch traceback."""
    if "--lbfgs" in fit.extra:  # L-BFGS keeps the partial batch
        return
    if valid_file:
        kept = configs
    elif configs < 2:
        raise UsageError(f"{configs} training config: mace_run_train keeps at least one for "
                         "validation; give more configs or --valid FILE")
    else:
        kept = min(configs - int((fit.valid_fraction or VALID_FRACTION) * configs),
                   configs - 1)
    if kept < fit.batch_size:
        held = "" if valid_file else f" ({configs} less {configs - kept} kept for validation)"
        raise UsageError(f"{kept} training configs{held} are fewer than one batch "
                         f"(batch size {fit.batch_size}), and mace_run_train trains on "
                         f"whole batches only: give --batch-size {kept} or less, or more "
                         "configs")


def training_set(configs, ref: str, e0s: str) -> tuple[list, dict]:
    """The configs to train on and the isolated-atom energies {Z: energy}: isolated_atom
    configs are not trained on; with ``isolated`` every element needs one."""
    if not configs:
        raise WflError("no training configs")
    isolated = {}
    training = []
    for atoms in configs:
        if atoms.info.get("config_type") == ISOLATED and len(atoms) == 1:
            if ref + "energy" in atoms.info:
                isolated[int(atoms.numbers[0])] = float(atoms.info[ref + "energy"])
            continue
        training.append(atoms)
    if not any(ref + "energy" in a.info or ref + "forces" in a.arrays for a in training):
        raise WflError(f"no training config has {ref}energy or {ref}forces: is --ref "
                       f"{ref!r} right?")
    if e0s == "isolated":
        from ase.data import chemical_symbols

        missing = sorted({int(z) for a in training for z in a.numbers} - set(isolated))
        if missing:
            raise WflError("no isolated-atom config (config_type=isolated_atom with "
                           f"{ref}energy) for {', '.join(chemical_symbols[z] for z in missing)}"
                           ": add them (wfl atoms ... | wfl calc ...) or give --E0s average")
    return training, isolated


def fingerprint(texts: dict, fit: MaceFit) -> str:
    """Of the inputs' text, the options as given and the mace-torch version (and the
    foundation model's content)."""
    from importlib import metadata

    from wflcli.usercode.fingerprint import file_sha256

    digest = hashlib.sha256()
    for what, text in sorted(texts.items()):
        digest.update(f"\0{what}\0".encode() + text.encode())
    digest.update(repr(fit).encode())
    digest.update(metadata.version("mace-torch").encode())
    if fit.foundation:
        digest.update(file_sha256(fit.foundation).encode())
    return digest.hexdigest()


def work_folder(model: str, print_: str) -> str:
    folder, name = os.path.split(os.path.abspath(model))
    return os.path.join(folder, f"{name}.fit-{print_[:12]}")


def last_checkpoint(work: str) -> int | None:
    """The epoch of the latest checkpoint in a work folder, if it has one."""
    epochs = [int(m.group(1)) for f in _listing(os.path.join(work, "checkpoints"))
              if (m := re.search(r"_epoch-(\d+)\.pt$", f))]
    return max(epochs) if epochs else None


def _listing(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def run_fit(texts: dict, arguments: list[str], model: str, work: str, print_: str,
            on_epoch: Callable[[int, float, str], None] | None = None) -> None:
    """Run mace_run_train in ``work`` (kept after a failure or a kill, for the resume);
    move the model and its log into place when it succeeds."""
    os.makedirs(work, exist_ok=True)
    for what, text in texts.items():
        with open(os.path.join(work, f"{what}.xyz"), "w", encoding="utf-8") as stream:
            stream.write(text)
    command = [sys.executable, "-m", "mace.cli.run_train", *arguments]
    output_path = os.path.join(work, "mace_run_train.out")
    with open(output_path, "w", encoding="utf-8") as output:
        returncode = _follow(command, work, output, on_epoch)
    produced = os.path.join(work, _NAME + ".model")
    if returncode != 0 or not os.path.exists(produced):
        with open(output_path, encoding="utf-8", errors="replace") as stream:
            tail = "\n".join(stream.read().splitlines()[-_LOG_TAIL_LINES:])
        raise WflError(f"mace_run_train failed (exit code {returncode}); its files are in "
                       f"{work}; the end of its output:\n{tail}")
    log = os.path.join(work, "model.log")
    with open(log, "w", encoding="utf-8") as stream, \
            open(output_path, encoding="utf-8", errors="replace") as trainer:
        stream.write("# command: " + shlex.join(["mace_run_train", *arguments]) + "\n")
        stream.write(FINGERPRINT_LINE + print_ + "\n")
        shutil.copyfileobj(trainer, stream)
    os.replace(log, model + ".log")  # the log first, the model last: a model is whole
    os.replace(produced, model)
    shutil.rmtree(work, ignore_errors=True)


def _follow(command: list[str], work: str, output, on_epoch) -> int:
    """Run the trainer, calling ``on_epoch`` for each epoch it reports."""
    def on_line(line: str) -> None:
        match = _EPOCH.search(line)
        if match and on_epoch is not None:
            on_epoch(int(match.group(1)), float(match.group(2)), match.group(3).strip())

    return follow(command, work, output, on_line)
