"""``--remote`` for the verbs that read their whole input (fit-gap, fit-mace, select-*,
split, error): one job, the inputs sent with it, every file the verb writes fetched back
into place, the job recorded, re-attached by a rerun and cleaned by ``wfl remote clean``.
Against the local scheduler here, and the real SLURM over the real sshd on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from helpers_data import fifo_reader, rattled_cells, read_text, write_configs
from helpers_remote import records, require_cluster, system_toml, write_config

from wflcli.exec.batch.whole import whole_body
from wflcli.exec.schedulers import JobRequest, Resources, get_scheduler
from helpers_wfl import PROGRAM, wfl_program

GOLDEN = Path(__file__).parent / "golden"

TWO_BODY = ("distance_2b cutoff=4.5 covariance_type=ard_se delta=0.5 theta_uniform=1.0 "
            "sparse_method=uniform n_sparse=10")
SOAP = ("soap cutoff=4.0 l_max=3 n_max=4 atom_sigma=0.5 delta=0.1 zeta=2 "
        "covariance_type=dot_product sparse_method=cur_points n_sparse=20")
# what gap_fit stamps with the time: the label (the model's first tag, GAP_2026_12_1_...),
# in GAP.xml and in the sparse files' names
LABEL = re.compile(rb"<(GAP_[0-9_]+)>")


def wfl_run(*args, timeout=300, **kwargs):
    """``wfl ARGS``, each argument as it is."""
    return wfl_program("", *args, timeout=timeout, **kwargs)


@pytest.fixture
def here(tmp_path):
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    return "here"


@pytest.fixture
def slurm(tmp_path):
    require_cluster("slurm")
    write_config(system_toml("slurm", "slurm", tmp_path / "runs", ssh=True))
    return "slurm"


@pytest.fixture
def pool(tmp_path):
    """40 rattled cells, each with a descriptor vector in info['desc'] and a group."""
    rng = np.random.default_rng(5)
    cells = rattled_cells(40)
    for index, atoms in enumerate(cells):
        atoms.info["desc"] = rng.normal(size=6)
        atoms.info["config_type"] = f"group{index % 3}"
    return write_configs(tmp_path / "pool.xyz", cells)


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """A tiny GAP training set: the isolated Cu atom and 12 rattled cells, with EMT."""
    folder = tmp_path_factory.mktemp("train")
    cells = write_configs(folder / "cells.xyz", rattled_cells(12, "Cu", (2, 1, 1)))
    atom = subprocess.run(f"'{PROGRAM}' atoms Cu | '{PROGRAM}' --no-cache calc --calc emt "
                          "--prefix REF_", shell=True, capture_output=True, check=True).stdout
    labelled = wfl_run("--no-cache", "calc", "--calc", "emt", "--prefix", "REF_", cells)
    (folder / "train.xyz").write_bytes(atom + labelled.stdout)
    return folder / "train.xyz"


def fit_args(train, model, *extra):
    return ["fit-gap", train, "--gap", TWO_BODY, "--gap", SOAP, "-o", model, *extra]


def model_files(folder) -> dict:
    """GAP.xml and its sparse files with gap_fit's time-stamped label made one."""
    label = LABEL.search((folder / "GAP.xml").read_bytes()).group(1)
    return {path.name.encode().replace(label, b"LABEL"):
            path.read_bytes().replace(label, b"LABEL")
            for path in folder.iterdir() if not path.name.endswith(".log")}


def same_predictions(model_a, model_b, configs) -> None:
    first, second = (read_text(wfl_run("--no-cache", "calc", "--calc", f"gap:{m}", "--prefix",
                                       "GAP_", configs).stdout.decode())
                     for m in (model_a, model_b))
    assert len(first) == len(second) == 13
    for a, b in zip(first, second):
        assert a.info["GAP_energy"] == b.info["GAP_energy"]
        assert np.array_equal(a.arrays["GAP_forces"], b.arrays["GAP_forces"])


def test_whole_job_script_matches_golden_file():
    """What a cluster receives for ``wfl --remote SYS --cores 4 --mem 8G --time 2:00:00
    --partition standard --gpus 1 fit-gap ...``: one task, no draining."""
    command = ["--no-cache", "--seed", "0", "--parallel", "4", "--chunk", "10", "fit-gap",
               "--gap", "distance_2b cutoff=4", "--output", "out/1/GAP.xml", "--",
               "in/1/train set.xyz"]
    script = get_scheduler("slurm").script(JobRequest(
        "wfl-fit-gap", 1, "/scratch/me/wfl runs/wfl-20261201-120000-abcdef",
        whole_body(["wfl"], command),
        Resources(cores=4, memory="8G", time="2:00:00", partition="standard", gpus=1),
        drain_margin=0))
    golden = GOLDEN / "slurm-whole.sh"
    if os.environ.get("WFL_UPDATE_GOLDEN"):
        golden.write_text(script)
    assert script == golden.read_text()


def test_split_there_equals_split_here(here, pool, tmp_path):
    args = ["--seed", "3", "split", "--fraction", "0.7", "--by", "config_type"]
    local = wfl_run(*args, "--train", tmp_path / "a.xyz", "--test", tmp_path / "b.xyz", pool)
    remote = wfl_run("--remote", here, *args, "--train", tmp_path / "ra.xyz", "--test",
                     tmp_path / "rb.xyz", pool)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert (tmp_path / "ra.xyz").read_bytes() == (tmp_path / "a.xyz").read_bytes()
    assert (tmp_path / "rb.xyz").read_bytes() == (tmp_path / "b.xyz").read_bytes()
    # the far side's message names the local files
    assert f"to {tmp_path / 'ra.xyz'}".encode() in remote.stderr
    [task] = records(here)
    assert (task["verb"], task["state"], task["task"]) == ("split", "done", 1)


def test_hostile_file_names_stay_inert(here, pool, tmp_path):
    from test_remote_config import HOSTILE

    for number, name in enumerate(HOSTILE):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        source = folder / f"-{name}.xyz"
        source.write_bytes(pool.read_bytes())
        train, test = folder / f"{name} train.xyz", folder / f"--{name}"
        done = wfl_run("--remote", here, "split", "--train", train, "--test", test, source,
                       cwd=folder)
        assert done.returncode == 0, (name, done.stderr)
        assert len(read_text(train.read_text()) + read_text(test.read_text())) == 40
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [source.name, train.name, test.name])  # nothing touched, nothing left over


def test_selection_from_stdin_with_exclude_and_rest(here, pool, tmp_path):
    exclude = write_configs(tmp_path / "ex.xyz", read_text(pool.read_text())[:3])
    args = ["select-cur", "-n", "5", "--key", "desc", "--keep-descriptor", "--exclude",
            exclude]
    local = wfl_run(*args, "--rest", tmp_path / "rest.xyz", input=pool.read_bytes())
    remote = wfl_run("--remote", here, *args, "--rest", tmp_path / "rrest.xyz",
                     input=pool.read_bytes())
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.count(b"Lattice") == 5
    assert (tmp_path / "rrest.xyz").read_bytes() == (tmp_path / "rest.xyz").read_bytes()
    # the configs sent (stdin's 40, not the 3 excluded), as `wfl remote ls` shows them
    assert [task["configs"] for task in records(here)] == [40]


def test_an_output_that_is_a_fifo_is_written_in_place(here, pool, tmp_path):
    import stat

    fifo = tmp_path / "rest.fifo"
    reader, got = fifo_reader(fifo)
    args = ["select-fps", "-n", "4", "--key", "desc", pool]
    remote = wfl_run("--remote", here, *args, "--rest", fifo)
    reader.join(timeout=30)
    assert remote.returncode == 0, remote.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    local = wfl_run(*args, "--rest", tmp_path / "rest.xyz")
    assert got == [(tmp_path / "rest.xyz").read_bytes()] and remote.stdout == local.stdout


def test_error_table_and_plot_come_back(here, tmp_path):
    cells = write_configs(tmp_path / "c.xyz", rattled_cells(6))
    both = subprocess.run(f"'{PROGRAM}' --no-cache calc --calc emt --prefix A_ '{cells}' | '{PROGRAM}' "
                          "--no-cache calc --calc lj --prefix B_", shell=True,
                          capture_output=True, check=True).stdout
    (tmp_path / "ab.xyz").write_bytes(both)
    local = wfl_run("error", "--ref", "A_", "--pred", "B_", "--json", tmp_path / "ab.xyz")
    remote = wfl_run("--remote", here, "error", "--ref", "A_", "--pred", "B_", "--json",
                     "--plot", tmp_path / "p.svg", tmp_path / "ab.xyz")
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and b"energy/atom" in local.stdout
    assert (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    assert not list(tmp_path.glob(".*.part"))


def test_a_failing_verb_there_gives_its_message_and_exit_code(here, tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("2\nLattice=\"1 0 0 0 1 0 0 0 1\" Properties=species:S:1:pos:R:3\n"
                   "Cu 0 0 0\n")
    done = wfl_run("--remote", here, "split", "--train", tmp_path / "a.xyz", "--test",
                   tmp_path / "b.xyz", bad)
    assert done.returncode == 1
    assert f"wfl: error: {bad}:".encode() in done.stderr  # the local name, with the line
    assert not (tmp_path / "a.xyz").exists() and not (tmp_path / "b.xyz").exists()
    [task] = records(here)
    assert task["state"] == "failed" and "exit code 1" in task["reason"]


def test_a_system_that_does_not_exist_is_a_usage_error(here, pool, tmp_path):
    done = wfl_run("--remote", "nowhere", "split", "--train", tmp_path / "a.xyz", "--test",
                   tmp_path / "b.xyz", pool)
    assert done.returncode == 2
    assert b"--remote nowhere: no such system" in done.stderr and b"known: here" in done.stderr
    assert records() == []


def test_rerun_reattaches_to_the_finished_job_and_clean_removes_it(here, pool, tmp_path):
    args = ["--remote", here, "split", "--train", tmp_path / "a.xyz", "--test",
            tmp_path / "b.xyz", pool]
    assert wfl_run(*args).returncode == 0
    (tmp_path / "a.xyz").unlink()
    again = wfl_run(*args)
    assert again.returncode == 0 and b"re-attached to job" in again.stderr
    assert (tmp_path / "a.xyz").exists() and len(records(here)) == 1
    [task] = records(here)
    assert task["configs"] == 40
    folder = task["folder"]
    shown = wfl_run("remote", "show", task["id"])
    assert shown.returncode == 0 and b"split" in shown.stderr + shown.stdout
    cleaned = wfl_run("remote", "clean", "--done", "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    assert records() == [] and not (tmp_path / "runs").joinpath(folder).exists()
    third = wfl_run(*args)  # folder and record gone: submitted afresh
    assert third.returncode == 0 and b"submitted job" in third.stderr


def interrupted(args: list[str], system: str) -> bytes:
    """Run ``args``, Ctrl-C it as soon as its job is recorded; what it said on stderr
    (it must have exited 130, as after SIGINT)."""
    client = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not records(system) and time.monotonic() < deadline:
        time.sleep(0.1)
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=60)
    assert client.returncode == 130, stderr
    return stderr


def test_interrupted_then_synced_then_rerun_fetches_without_submitting(here, pool, tmp_path):
    args = [PROGRAM, "--remote", here, "select-fps", "-n", "4", "--key", "desc", str(pool), "-o",
            str(tmp_path / "picked.xyz")]
    interrupted(args, here)
    assert not (tmp_path / "picked.xyz").exists()
    deadline = time.monotonic() + 60
    while records(here)[0]["state"] != "done" and time.monotonic() < deadline:
        assert wfl_run("remote", "sync").returncode == 0
        time.sleep(0.5)
    rerun = subprocess.run(args, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert b"re-attached to job" in rerun.stderr and b"submitted job" not in rerun.stderr
    local = wfl_run("select-fps", "-n", "4", "--key", "desc", pool)
    assert (tmp_path / "picked.xyz").read_bytes() == local.stdout
    assert len(records(here)) == 1


@pytest.mark.slow
def test_fit_gap_on_the_local_scheduler_and_the_local_up_to_date_check(here, training,
                                                                      tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    model = tmp_path / "r" / "GAP.xml"
    first = wfl_run("--remote", here, *fit_args(training, model))
    assert first.returncode == 0, first.stderr
    assert model.exists() and list(model.parent.glob("GAP.xml.sparse*"))
    again = wfl_run("--remote", here, *fit_args(training, model))
    assert again.returncode == 0 and b"is up to date" in again.stderr
    assert b"submitted" not in again.stderr and len(records(here)) == 1


# the real SLURM over SSH -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.cluster
def test_fit_gap_on_slurm_equals_a_local_fit(slurm, training, tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    remote = wfl_run("--remote", slurm, "--time", "0:05:00", "--cores", "2", "--mem", "500M",
                     *fit_args(training, tmp_path / "r" / "GAP.xml", "--threads", "2"))
    local = wfl_run(*fit_args(training, tmp_path / "l" / "GAP.xml", "--threads", "2"))
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    fetched = model_files(tmp_path / "r")
    assert len(fetched) == 3  # GAP.xml and a sparse file per descriptor
    assert fetched == model_files(tmp_path / "l")
    logs = [(tmp_path / f / "GAP.xml.log").read_text().splitlines()[1] for f in "lr"]
    assert logs[0] == logs[1] and logs[0].startswith("# wflcli fingerprint: ")
    same_predictions(tmp_path / "l" / "GAP.xml", tmp_path / "r" / "GAP.xml", training)
    [task] = records(slurm)
    assert (task["verb"], task["state"], task["configs"]) == ("fit-gap", "done", 13)
    script = subprocess.run(["scontrol", "show", "job", task["job_id"]], capture_output=True,
                            text=True).stdout
    if script:  # still known to the controller: what the job was given
        assert "TimeLimit=00:05:00" in script and "MinMemoryNode=500M" in script
        assert "NumCPUs=2" in script


@pytest.mark.slow
@pytest.mark.cluster
def test_sigint_during_a_slurm_fit_then_rerun_reattaches(slurm, training, tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    args = [PROGRAM, "--remote", slurm, *map(str, fit_args(training, tmp_path / "GAP.xml"))]
    stderr = interrupted(args, slurm)
    assert b"keeps running on slurm" in stderr and not (tmp_path / "GAP.xml").exists()
    rerun = subprocess.run(args, capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert b"re-attached to job" in rerun.stderr and b"submitted job" not in rerun.stderr
    [task] = records(slurm)  # one submission in total
    assert task["state"] == "done" and (tmp_path / "GAP.xml").exists()


@pytest.mark.slow
@pytest.mark.cluster
def test_split_and_select_cur_on_slurm_equal_local_runs(slurm, pool, tmp_path):
    split = ["--seed", "4", "split", "--fraction", "0.6"]
    local = wfl_run(*split, "--train", tmp_path / "a.xyz", "--test", tmp_path / "b.xyz", pool)
    remote = wfl_run("--remote", slurm, *split, "--train", tmp_path / "ra.xyz", "--test",
                     tmp_path / "rb.xyz", pool)
    assert local.returncode == remote.returncode == 0, remote.stderr
    for name in "ab":
        assert (tmp_path / f"r{name}.xyz").read_bytes() == (tmp_path / f"{name}.xyz").read_bytes()
    select = ["select-cur", "-n", "6", "--key", "desc", "--by", "config_type", pool]
    local = wfl_run(*select)
    remote = wfl_run("--remote", slurm, *select)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and local.stdout.count(b"Lattice") == 18  # 6 per group
    assert [t["verb"] for t in records(slurm)] == ["split", "select-cur"]


@pytest.mark.slow
@pytest.mark.cluster
def test_a_failing_fit_on_slurm_brings_back_its_message_and_exit_code(slurm, training,
                                                                     tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    params = tmp_path / "fit.json"  # sent with the job; gap_fit there refuses the setting
    params.write_text('{"no_such_setting": 3}')
    model = tmp_path / "G.xml"
    done = wfl_run("--remote", slurm, "fit-gap", training, "--gap", TWO_BODY, "--params",
                   params, "-o", model)
    assert done.returncode == 1
    assert b"wfl: error: gap_fit failed (exit code 1)" in done.stderr
    assert f"(its whole output: {model}.failed.log)".encode() in done.stderr
    assert not model.exists()
    assert "no_such_setting=3" in (tmp_path / "G.xml.failed.log").read_text()
    [task] = records(slurm)
    assert task["state"] == "failed" and "exit code 1" in task["reason"]


@pytest.mark.slow
def test_fit_mace_there_equals_a_fit_here(here, tmp_path):
    pytest.importorskip("mace", reason="mace-torch is the mace extra; CI installs it")
    from ase import Atoms
    from ase.calculators.emt import EMT

    cells = rattled_cells(12, "Cu", (1, 1, 1), stdev=0.1)
    atom = Atoms("Cu", pbc=False)
    atom.info["config_type"] = "isolated_atom"
    for atoms in [atom, *cells]:
        atoms.calc = EMT()
        atoms.info["REF_energy"] = atoms.get_potential_energy()
        atoms.arrays["REF_forces"] = atoms.get_forces()
        atoms.calc = None
    train = write_configs(tmp_path / "train.xyz", [atom, *cells[:10]])
    test = write_configs(tmp_path / "test.xyz", cells[10:])
    args = ["fit-mace", train, "--test", test, "--r-max", "4", "--channels", "8", "--max-L",
            "0", "--correlation", "2", "--batch-size", "5", "--epochs", "1"]
    local = wfl_run(*args, "-o", tmp_path / "l" / "cu.model", timeout=600)
    remote = wfl_run("--remote", here, *args, "-o", tmp_path / "r" / "cu.model", timeout=600)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert (tmp_path / "r" / "cu.model").read_bytes() == \
        (tmp_path / "l" / "cu.model").read_bytes()
    assert "--test" in (tmp_path / "r" / "cu.model.log").read_text()  # its log came back
    again = wfl_run("--remote", here, *args, "-o", tmp_path / "r" / "cu.model")
    assert again.returncode == 0 and b"is up to date" in again.stderr
    assert len(records(here)) == 1


@pytest.mark.slow
@pytest.mark.cluster
def test_a_fit_cancelled_outside_wfl_is_submitted_again(slurm, training, tmp_path):
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    client = subprocess.Popen([PROGRAM, "--remote", slurm, *map(str, fit_args(
        training, tmp_path / "GAP.xml"))], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not records(slurm) and time.monotonic() < deadline:
        time.sleep(0.1)
    subprocess.run(["scancel", records(slurm)[0]["job_id"]], check=True)
    _, stderr = client.communicate(timeout=300)
    assert client.returncode == 0, stderr
    assert b"submitting it again (retry 1 of 2)" in stderr and b"CANCELLED" in stderr
    assert [t["state"] for t in records(slurm)] == ["failed", "done"]
    assert (tmp_path / "GAP.xml").exists()
