"""``wfl fit-mace`` with the real mace_run_train, on a small EMT-labelled Cu set: one tiny
fit per session, evaluated with ``wfl calc --calc mace:`` and ``wfl error``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest
from ase.calculators.emt import EMT

from helpers_data import rattled_cells, write_configs
from helpers_wfl import wfl_argv, wfl_program

pytest.importorskip("mace", reason="mace-torch is not installed (pip install 'wflcli[mace]')")

# tiny settings: a fit of a few epochs takes well under a minute on two busy cores
TINY = ["--r-max", "4", "--channels", "8", "--max-L", "0", "--correlation", "2",
        "--batch-size", "5"]


def labelled(configs: list) -> list:
    for atoms in configs:
        atoms.calc = EMT()
        atoms.info["REF_energy"] = atoms.get_potential_energy()
        atoms.arrays["REF_forces"] = atoms.get_forces()
        if atoms.pbc.all():
            atoms.info["REF_stress"] = atoms.get_stress()
        atoms.calc = None
    return configs


@pytest.fixture(scope="session")
def cu_set(tmp_path_factory):
    """40 training and 10 held-out rattled 4-atom Cu cells, and the isolated atom, with EMT
    labels under REF_."""
    from ase import Atoms

    folder = tmp_path_factory.mktemp("cu-set")
    cells = labelled(rattled_cells(50, "Cu", (1, 1, 1), stdev=0.1))
    isolated = Atoms("Cu", pbc=False)
    isolated.info["config_type"] = "isolated_atom"
    (isolated,) = labelled([isolated])
    return {"train": write_configs(folder / "train.xyz", cells[:40]),
            "test": write_configs(folder / "test.xyz", cells[40:]),
            "isolated": write_configs(folder / "isolated.xyz", [isolated]), "folder": folder}


def fit_command(cu_set, model, *options) -> list[str]:
    return wfl_argv("fit-mace", cu_set["train"], cu_set["isolated"], "-o", model,
       "--test", cu_set["test"], *TINY, *options)


@pytest.fixture(scope="session")
def fitted(cu_set):
    """One tiny fit per session: (model path, the run's stderr)."""
    model = cu_set["folder"] / "fits" / "cu.model"
    run = subprocess.run(fit_command(cu_set, model, "--epochs", "4"), capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return model, run.stderr


@pytest.mark.slow
def test_a_fitted_model_predicts_held_out_forces(fitted, cu_set, tmp_path):
    model, stderr = fitted
    assert "wrote" in stderr and os.path.isfile(str(model) + ".log")
    assert "epoch" not in stderr  # not a terminal: no epoch lines
    assert not [f for f in os.listdir(model.parent) if ".fit-" in f]  # work folder gone
    log = open(str(model) + ".log").read()
    assert log.startswith("# command: mace_run_train --name=wfl")
    assert "--E0s={29: 3.51" in log  # from the isolated atom (EMT's 3.51 eV)
    evaluated = wfl_program("calc", "--calc", f"mace:{model}",
               cu_set["test"], "-o", tmp_path / "pred.xyz", text=True)
    assert evaluated.returncode == 0, evaluated.stderr
    errors = wfl_program("error", "--ref", "REF_", "--pred", "MACE_",
                             "--json", tmp_path / "pred.xyz", text=True)
    rmse = json.loads(errors.stdout)["properties"]["forces"]["overall"]["rmse"]
    import ase.io

    held_out = ase.io.read(cu_set["test"], ":")
    reference = np.sqrt(np.mean(np.concatenate([a.arrays["REF_forces"] for a in held_out]) ** 2))
    # stated bound: after 4 epochs the tiny model's force RMSE on held-out cells is below
    # 0.4 eV/A, a third of the reference forces' RMS (1.2 eV/A: predicting zero)
    assert rmse < 0.4 < reference / 3 + 0.01


@pytest.mark.slow
def test_an_unchanged_rerun_is_skipped_and_a_changed_one_is_not(fitted, cu_set):
    model, _ = fitted
    before = os.stat(model).st_mtime_ns
    again = subprocess.run(fit_command(cu_set, model, "--epochs", "4"), capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0
    assert "is up to date" in again.stderr
    assert os.stat(model).st_mtime_ns == before
    from wflcli.verbs.fit_mace import fingerprint, MaceFit

    assert fingerprint({"train": "x"}, MaceFit("REF_")) != fingerprint(
        {"train": "x"}, MaceFit("REF_", options=(("max_num_epochs", 5),)))


def _checkpointed(folder):
    """The work folder in ``folder`` once it holds a checkpoint after epoch 0, else None."""
    from wflcli.verbs.fit_mace import last_checkpoint

    for work in folder.glob("*.fit-*"):
        if (last_checkpoint(str(work)) or 0) >= 1:
            return work
    return None


def _on_a_terminal(command) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal: (exit code, what it wrote there)."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=600), b"".join(chunks).decode().replace("\r\n", "\n")


def _trainers_in(work) -> list[int]:
    """Processes whose working folder is ``work`` (a trainer left running)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(work):
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.slow
def test_a_sigkilled_fit_resumes_from_its_checkpoint(cu_set, tmp_path):
    model = tmp_path / "killed.model"
    command = fit_command(cu_set, model, "--epochs", "8", "--seed", "3")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    work = None
    while work is None and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        work = _checkpointed(tmp_path)
    assert work is not None and process.poll() is None, "no checkpoint before the fit ended"
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(1)
    assert _trainers_in(work) == []  # the trainer died with wfl
    assert not model.exists()
    code, stderr = _on_a_terminal(command)  # its stderr a terminal: epochs are shown
    assert code == 0, stderr
    resumed = int(stderr.split("resuming from the checkpoint of epoch ")[1].split()[0])
    shown = [line for line in stderr.splitlines() if line.startswith("wfl fit-mace: epoch")]
    assert len(shown) == 8 - resumed
    assert re.fullmatch(r"wfl fit-mace: epoch 7  loss [0-9.e+-]+  validation "
                        r"RMSE_E_per_atom=\s*[0-9.]+ meV, RMSE_F=\s*[0-9.]+ meV / A", shown[-1])
    assert resumed >= 1
    log = open(str(model) + ".log").read()
    assert "Loading checkpoint: ./checkpoints/wfl_run-3_epoch-" in log
    epochs = [int(line.split("Epoch ")[1].split(":")[0])
              for line in log.splitlines() if "INFO: Epoch " in line]
    assert min(epochs) == resumed and max(epochs) == 7  # went on, did not start again


def test_usage_errors(wfl, cu_set, tmp_path):
    model = tmp_path / "m.model"
    both = wfl("fit-mace", cu_set["train"], "-o", model, "--valid", cu_set["test"],
               "--valid-fraction", "0.2")
    assert both.code == 2 and "not both" in both.stderr
    reserved = wfl("fit-mace", cu_set["train"], "-o", model, "--extra", "--seed=4")
    assert reserved.code == 2 and "sets --seed itself" in reserved.stderr
    no_isolated = wfl("fit-mace", cu_set["train"], "-o", model)
    assert no_isolated.code == 1
    assert "no isolated-atom config (config_type=isolated_atom with REF_energy) for Cu" \
        in no_isolated.stderr
    wrong_ref = wfl("fit-mace", cu_set["train"], "-o", model, "--ref", "DFT_")
    assert wrong_ref.code == 1 and "is --ref 'DFT_' right?" in wrong_ref.stderr
    assert not model.exists()


def _first(cu_set, folder, count: int):
    from wflcli.io.reader import read_configs

    configs = list(read_configs([str(cu_set["train"])], None))[:count]
    return write_configs(folder / f"train{count}.xyz", configs)


def test_fewer_training_configs_than_a_batch_are_refused_before_the_fit(wfl, cu_set,
                                                                        tmp_path):
    """mace_run_train drops a partial training batch: 7 configs (6 after it keeps one for
    validation) and its default batch of 10 ended in a torch traceback (torch.cat(): expected
    a non-empty list of Tensors)."""
    model = tmp_path / "m.model"
    seven = _first(cu_set, tmp_path, 7)
    split = wfl("fit-mace", seven, cu_set["isolated"], "-o", model)
    assert split.code == 2 and split.stdout == ""
    assert split.stderr == ("wfl: error: 6 training configs (7 less 1 kept for validation) "
                            "are fewer than one batch (batch size 10), and mace_run_train "
                            "trains on whole batches only: give --batch-size 6 or less, or "
                            "more configs\n")
    with_valid = wfl("fit-mace", seven, cu_set["isolated"], "-o", model, "--valid",
                     cu_set["test"], "--extra=--batch_size=8")
    assert with_valid.code == 2
    assert "7 training configs are fewer than one batch (batch size 8)" in with_valid.stderr
    one = wfl("fit-mace", _first(cu_set, tmp_path, 1), cu_set["isolated"], "-o", model)
    assert one.code == 2 and "1 training config: mace_run_train keeps at least one for " \
        "validation; give more configs or --valid FILE" in one.stderr
    assert not model.exists() and not list(tmp_path.glob("m.model.fit-*"))  # never started


@pytest.mark.slow
def test_one_whole_batch_after_the_split_is_enough(cu_set, tmp_path):
    """The other side of the refusal: 11 configs leave 10 after the split, one batch of the
    trainer's default size, and the fit runs."""
    model = tmp_path / "m.model"
    command = wfl_argv("fit-mace", _first(cu_set, tmp_path, 11), cu_set["isolated"], "-o",
                       model, *TINY[:-2], "--epochs", "1", "--device", "cpu")
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert model.exists()
