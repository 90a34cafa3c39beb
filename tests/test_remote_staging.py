"""Input files travel with ``--remote`` jobs (issue 27 item 2): models with their
companions, the user's ``.py`` files with the modules beside them, ``--stage`` paths,
uploaded once per content to ``rundir/staged/`` and found in the job by the path as typed;
and a file-based code's config folders come back into the local ``--scratch`` (item 4).

On this one machine the far side could read the local files by their absolute paths, so
the tests run from a working folder the jobs never see by name (relative paths, which only
staging makes resolve in a job folder), read the job's recorded command to see that
absolute paths were pointed at the staged copies, and count the uploads from the line
wfl prints for each run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import PROGRAM, wfl_program
from helpers_remote import records, require_cluster, system_toml, write_config
from wflcli.exec.transport.local import LocalTransport

pytestmark = pytest.mark.slow

CALC = '''
from ase.calculators.lj import LennardJones
import helper


class Calc(LennardJones):
    def __init__(self, **kwargs):
        super().__init__(sigma=helper.SIGMA, epsilon=1.0, rc=4.0, **kwargs)
'''
OPS = '''
import helper


def tag(atoms):
    atoms.info["tag"] = helper.SIGMA * len(atoms)
    return atoms
'''
HOSTILE = ["it's", 'say "hi"', "a; touch x", "$(touch y)", "`touch z`", "line\nbreak", "*",
           "-n"]


def wfl_run(*args, cwd, timeout=300):
    """``wfl ARGS`` in ``cwd``, text out, each argument as it is."""
    return wfl_program("", *args, text=True, cwd=cwd, timeout=timeout)


def uploads(stderr: str) -> tuple[int, int]:
    """(files uploaded, bundles reused) from wfl's staging line."""
    found = re.search(r"staged \d+ input file\(s\) in .*: (\d+) uploaded \(\d+ bytes\), "
                      r"(\d+) bundle\(s\) reused, [\d.]+ s", stderr)
    assert found, stderr
    return int(found[1]), int(found[2])


@pytest.fixture
def project(tmp_path):
    """A working folder with a calculator, a map function, their helper module and input."""
    work = tmp_path / "work"
    (work / "code").mkdir(parents=True)
    (work / "code" / "mycalc.py").write_text(CALC)
    (work / "code" / "ops.py").write_text(OPS)
    (work / "code" / "helper.py").write_text("SIGMA = 2.3\n")
    write_configs(work / "in.xyz", rattled_cells(6, "Cu", (1, 1, 1)))
    return work


def local_system(tmp_path) -> str:
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    return "here"


def slurm_system(tmp_path) -> str:
    require_cluster("slurm")
    write_config(system_toml("slurm", "slurm", tmp_path / "runs", ssh=True))
    return "slurm"


def staged_bundles(tmp_path) -> list[str]:
    return sorted(os.listdir(tmp_path / "runs" / "staged"))


def same_as_local(work, system, *args):
    local = wfl_run("--no-cache", *args, "in.xyz", cwd=work)
    remote = wfl_run("--no-cache", "--refresh", "--remote", system, "--per-job", "3", *args,
                     "in.xyz", cwd=work)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    return remote


def test_user_code_is_staged_once_and_again_when_changed(tmp_path, project):
    """A python: calculator by relative path (its helper imported beside it): two runs
    upload its two files once; an edited helper is uploaded again, and its new value is
    what the job computes."""
    system = local_system(tmp_path)
    args = ("calc", "--calc", "python:code/mycalc.py:Calc", "--prefix", "LJ_")
    first = same_as_local(project, system, *args)
    assert uploads(first.stderr) == (2, 0)
    second = same_as_local(project, system, *args)
    assert uploads(second.stderr) == (0, 1)
    assert len(staged_bundles(tmp_path)) == 1
    job = next(p for p in (tmp_path / "runs").iterdir() if p.name.startswith("wfl-"))
    assert os.path.islink(job / "code" / "mycalc.py")  # the relative layout, mirrored

    (project / "code" / "helper.py").write_text("SIGMA = 2.4\n")
    third = same_as_local(project, system, *args)
    assert uploads(third.stderr) == (2, 0)
    assert len(staged_bundles(tmp_path)) == 2
    energies = {round(a.info["LJ_energy"], 6) for a in read_text(third.stdout)}
    assert energies != {round(a.info["LJ_energy"], 6) for a in read_text(second.stdout)}


def test_clean_staged_removes_only_copies_no_unfinished_task_uses(tmp_path, project):
    system = local_system(tmp_path)
    same_as_local(project, system, "calc", "--calc", "python:code/mycalc.py:Calc")
    [bundle] = staged_bundles(tmp_path)
    dry = wfl_run("remote", "clean", "--staged", "--dry-run", cwd=project)
    assert dry.returncode == 0 and f"would remove here:{tmp_path}/runs/staged/{bundle}" \
        in dry.stderr
    done = wfl_run("remote", "clean", "--staged", "--yes", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "1 staged input(s)" in done.stdout and staged_bundles(tmp_path) == []
    assert records() == []


def test_a_missing_stage_path_is_a_usage_error_before_submission(tmp_path, project):
    system = local_system(tmp_path)
    done = wfl_run("--remote", system, "--stage", "pseudos", "calc", "--calc", "emt",
                   "in.xyz", cwd=project)
    assert done.returncode == 2
    assert "--stage: no such folder 'pseudos' (nothing was submitted)" in done.stderr
    assert "Traceback" not in done.stderr and records() == []


def test_system_stage_list_and_stage_option_reach_the_job(tmp_path, project):
    """A folder from the system's stage list and a file from --stage appear in the job by
    the paths as typed: a map function reads both."""
    (project / "data").mkdir()
    (project / "data" / "scale.txt").write_text("3\n")
    (project / "offset.txt").write_text("0.5\n")
    (project / "code" / "reader.py").write_text(
        "def scaled(atoms):\n"
        "    atoms.info['k'] = float(open('data/scale.txt').read()) + "
        "float(open('offset.txt').read())\n    return atoms\n")
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False,
                             extra='stage = ["data"]'))
    remote = wfl_run("--no-cache", "--remote", "here", "--stage", "offset.txt", "map",
                     "code/reader.py:scaled", "in.xyz", cwd=project)
    assert remote.returncode == 0, remote.stderr
    assert {a.info["k"] for a in read_text(remote.stdout)} == {3.5}
    assert uploads(remote.stderr) == (3, 0)
    [task] = records("here")[:1]
    assert f"{tmp_path}/runs/staged/" in " ".join(task["command"])  # map's absolute path


@pytest.mark.cluster
def test_gap_model_python_calc_and_map_from_relative_paths_on_slurm(tmp_path, project):
    """Over SSH to the real SLURM: a gap: model given by a relative path (with its
    .sparse companions), a python: calculator and a wfl map function from local files,
    nothing copied by hand; the same output as local runs; the second use uploads
    nothing."""
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    system = slurm_system(tmp_path)
    training = project / "train.xyz"
    labelled = wfl_run("calc", "--calc", "emt", "--prefix", "REF_", "in.xyz", cwd=project)
    training.write_text(labelled.stdout)
    (project / "models").mkdir()
    fit = wfl_run("fit-gap", "train.xyz", "--ref", "REF_", "--gap",
                  "distance_2b cutoff=4.0 covariance_type=ard_se delta=0.5 "
                  "theta_uniform=1.0 sparse_method=uniform n_sparse=10",
                  "--e0", "average", "-o", "models/gap.xml", cwd=project)
    assert fit.returncode == 0, fit.stderr
    assert [p for p in os.listdir(project / "models") if ".sparse" in p]  # companions
    gap = same_as_local(project, system, "calc", "--calc", "gap:models/gap.xml",
                        "--prefix", "GAP_")
    model = [p for p in os.listdir(project / "models") if not p.endswith(".log")]
    assert uploads(gap.stderr) == (len(model), 0)  # the model and its .sparse files
    calc = same_as_local(project, system, "calc", "--calc", "python:code/mycalc.py:Calc")
    assert uploads(calc.stderr) == (2, 0)
    mapped = same_as_local(project, system, "map", "code/ops.py:tag")
    assert uploads(mapped.stderr) == (2, 0)  # its own bundle: ops.py and helper.py
    again = same_as_local(project, system, "calc", "--calc", "gap:models/gap.xml",
                          "--prefix", "GAP_")
    assert uploads(again.stderr) == (0, 1)
    assert len(staged_bundles(tmp_path)) == 3


def test_a_renamed_gap_model_takes_the_sparse_files_its_xml_names(tmp_path, project):
    """A model copied to another name still reads the sparse files its XML names by
    their first names: they travel with it (before, only files named after the copy
    did, and the job failed in quippy)."""
    pytest.importorskip("quippy", reason="quippy-ase is the gap extra; CI installs it")
    system = local_system(tmp_path)
    labelled = wfl_run("calc", "--calc", "emt", "--prefix", "REF_", "in.xyz", cwd=project)
    (project / "train.xyz").write_text(labelled.stdout)
    fit = wfl_run("fit-gap", "train.xyz", "--ref", "REF_", "--gap",
                  "distance_2b cutoff=4.0 covariance_type=ard_se delta=0.5 "
                  "theta_uniform=1.0 sparse_method=uniform n_sparse=10",
                  "--e0", "average", "-o", "gap.xml", cwd=project)
    assert fit.returncode == 0, fit.stderr
    shutil.copy(project / "gap.xml", project / "renamed.xml")
    sparse = [name for name in os.listdir(project) if name.startswith("gap.xml.sparse")]
    done = same_as_local(project, system, "calc", "--calc", "gap:renamed.xml")
    assert uploads(done.stderr) == (1 + len(sparse), 0)  # the copy and gap.xml's sparse files


@pytest.mark.cluster
def test_hostile_names_in_staged_paths_stay_inert(tmp_path, project):
    """Files whose names hold quotes, ;, $(), backquotes, a line break, * and -n go
    through sha256sum and links on the far side as data: nothing runs, every file arrives
    under its own name with its own content."""
    system = slurm_system(tmp_path)
    folder = project / "odd; $(touch q)"
    folder.mkdir()
    for number, name in enumerate(HOSTILE):
        (folder / name).write_text(f"{number}\n")
    reader = project / "code" / "count.py"
    reader.write_text(
        "import os\n\ndef count(atoms):\n"
        "    folder = 'odd; $(touch q)'\n"
        "    atoms.info['seen'] = ','.join(sorted(open(os.path.join(folder, n)).read()"
        ".strip() for n in os.listdir(folder)))\n    return atoms\n")
    remote = wfl_run("--no-cache", "--remote", system, "--stage", folder.name, "map",
                     "code/count.py:count", "in.xyz", cwd=project)
    assert remote.returncode == 0, remote.stderr
    expected = ",".join(sorted(str(n) for n in range(len(HOSTILE))))
    assert {a.info["seen"] for a in read_text(remote.stdout)} == {expected}
    for marker in ("x", "y", "z", "q"):
        for where in (project, tmp_path / "runs", tmp_path, tmp_path / "runs" / "staged"):
            assert not (where / marker).exists()
    staged = tmp_path / "runs" / "staged"
    [bundle] = [b for b in staged_bundles(tmp_path) if (staged / b / "-n").exists()]
    assert sorted(os.listdir(staged / bundle)) == sorted(HOSTILE)


def config_folders(root) -> dict:
    """Each config folder under ``root`` and the names of the files in it."""
    return {name: sorted(os.listdir(os.path.join(root, name)))
            for name in sorted(os.listdir(root))}


@pytest.mark.cluster
@pytest.mark.skipif(shutil.which("nwchem") is None,
                    reason="NWChem is not installed: scripts/install_codes.sh")
def test_nwchem_keep_files_outputs_come_back_as_a_local_run_leaves_them(tmp_path):
    from ase.build import molecule

    system = slurm_system(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    write_configs(work / "in.xyz", [molecule("H2O"), molecule("H2"), molecule("CH4")])
    spec = "nwchem:theory=dft,xc=PBE,basis=3-21G"
    local = wfl_run("--no-cache", "calc", "--calc", spec, "in.xyz", "-o", "local.xyz",
                    cwd=work)
    remote = wfl_run("--no-cache", "--remote", system, "--per-job", "2", "calc", "--calc",
                     spec, "in.xyz", "-o", "remote.xyz", cwd=work)
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert (work / "local.xyz").read_text() == (work / "remote.xyz").read_text()
    here, back = config_folders(work / "local-files"), config_folders(work / "remote-files")
    assert here == back and len(back) == 3 and all("nwchem.nwo" in f for f in back.values())
    def without_folder(path):  # the input names its own folder, here or in the job
        return re.sub(r"\S*/config-\d+", "FOLDER", path.read_text())

    for name in back:  # the code's input for each config, as a local run wrote it
        assert without_folder(work / "remote-files" / name / "nwchem.nwi") == \
            without_folder(work / "local-files" / name / "nwchem.nwi")

    none = wfl_run("--no-cache", "--refresh", "--remote", system, "calc", "--calc", spec,
                   "--keep-files", "none", "in.xyz", "-o", "none.xyz", cwd=work)
    assert none.returncode == 0, none.stderr
    assert not (work / "none-files").exists()


def test_rewrite_replaces_whole_values_only():
    from wflcli.exec.batch.staging import rewrite

    moves = {"/m/GAP.xml": "/r/staged/d/GAP.xml", "/p": "/r/staged/e"}
    assert rewrite("gap:/m/GAP.xml,e0=1", moves) == "gap:/r/staged/d/GAP.xml,e0=1"
    assert rewrite("espresso:pseudo_dir=/p,ecut=30", moves) == \
        "espresso:pseudo_dir=/r/staged/e,ecut=30"
    assert rewrite("/p/x.upf", moves) == "/r/staged/e/x.upf"
    assert rewrite("/pq", moves) == "/pq" and rewrite("a/m/GAP.xml", moves) == "a/m/GAP.xml"
    assert json.dumps(rewrite("/m/GAP.xml.sparse", moves)) == '"/m/GAP.xml.sparse"'


class DamagingTransport(LocalTransport):
    """A transfer that loses its last byte (stands in for a broken link or a full disk on
    the far side, which cannot be made to happen on demand here)."""

    async def put(self, data, path, mode=None):
        await super().put(data[:-1], path, mode)


def test_a_damaged_upload_is_refused_and_leaves_nothing_staged(tmp_path):
    import asyncio

    from wflcli.exec.batch.staging import plan_staging, upload

    (tmp_path / "GAP.xml").write_text("<GAP/>\n")
    (tmp_path / "GAP.xml.sparseX.GAP_1").write_text("1 2 3\n")
    plan = plan_staging(files=[(str(tmp_path / "GAP.xml"), "--calc")])
    members = [name for name, _ in plan.bundles[0].members]
    assert members == ["GAP.xml", "GAP.xml.sparseX.GAP_1"]
    with pytest.raises(OSError, match="GAP.xml arrived as"):
        asyncio.run(upload(DamagingTransport(), str(tmp_path / "run"), plan))
    assert os.listdir(tmp_path / "run" / "staged") == []


def test_an_absolute_stage_path_is_pointed_at_in_arguments_and_environment(tmp_path, project):
    """An absolute folder in the system's stage list and env: the job's environment names
    the staged copy, not the local folder (which a real cluster would not have)."""
    data = tmp_path / "pseudos"
    data.mkdir()
    (data / "H.upf").write_text("hydrogen\n")
    (project / "code" / "env.py").write_text(
        "import os\n\ndef where(atoms):\n    folder = os.environ['MY_PSEUDOS']\n"
        "    atoms.info['where'] = folder\n"
        "    atoms.info['h'] = open(os.path.join(folder, 'H.upf')).read().strip()\n"
        "    return atoms\n")
    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False,
                             extra=f"stage = [{json.dumps(str(data))}]\n[systems.here.env]\n"
                                   f"MY_PSEUDOS = {json.dumps(str(data))}"))
    done = wfl_run("--no-cache", "--remote", "here", "map", "code/env.py:where", "in.xyz",
                   cwd=project)
    assert done.returncode == 0, done.stderr
    configs = read_text(done.stdout)
    [bundle] = [b for b in staged_bundles(tmp_path)
                if (tmp_path / "runs" / "staged" / b / "H.upf").exists()]
    assert {a.info["h"] for a in configs} == {"hydrogen"}
    assert {a.info["where"] for a in configs} == {str(tmp_path / "runs" / "staged" / bundle)}


def test_clean_staged_keeps_the_copies_a_running_task_links_to(tmp_path, project):
    import time

    system = local_system(tmp_path)
    (project / "code" / "slow.py").write_text(
        "import time\n\ndef slow(atoms):\n    time.sleep(3)\n    return atoms\n")
    (project / "code" / "spare.py").write_text("def f(atoms):\n    return atoms\n")
    spare = wfl_run("--no-cache", "--remote", system, "map", "code/spare.py:f", "in.xyz",
                    cwd=project)
    assert spare.returncode == 0, spare.stderr
    running = subprocess.Popen([PROGRAM, "--no-cache", "--remote", system, "--per-job", "6",
                                "map", "code/slow.py:slow", "in.xyz"], cwd=project,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not any(r["state"] in ("queued", "running") for r in records(system)):
            assert time.time() < deadline and running.poll() is None
            time.sleep(0.5)
        [busy] = [r for r in records(system) if r["state"] in ("queued", "running")]
        used = json.loads(open(os.path.join(busy["folder"], "staged.json")).read())
        done = wfl_run("remote", "clean", "--staged", "--yes", cwd=project)
        assert done.returncode == 0, done.stderr
        assert staged_bundles(tmp_path) == used  # the spare function's copy went
    finally:
        assert running.wait(timeout=120) == 0
