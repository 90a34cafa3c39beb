"""One output per input file (``-o '{stem}.labelled.xyz'``): each file's outputs equal those
of the verb run on that file alone, byte for byte, serially, with --parallel and through
--remote; outputs are renamed into place as they complete; collisions are usage errors."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import time

import pytest
from ase.build import bulk

from helpers_data import rattled_cells, write_configs
from helpers_wfl import wfl_argv, wfl_program


@pytest.fixture
def inputs(tmp_path):
    """Three inputs (one compressed, one empty) and a fourth in another folder."""
    write_configs(tmp_path / "a.xyz", rattled_cells(3, repeat=(1, 1, 1)))
    (tmp_path / "empty.xyz").write_text("")
    with gzip.open(tmp_path / "b.xyz.gz", "wt") as stream:
        stream.write((write_configs(tmp_path / "tmp.xyz", rattled_cells(5, "Ni", (1, 1, 1)))
                      ).read_text())
    (tmp_path / "tmp.xyz").unlink()
    (tmp_path / "sub").mkdir()
    write_configs(tmp_path / "sub" / "c.xyz", rattled_cells(2, "Pd", (1, 1, 1)))
    return [tmp_path / name for name in ("a.xyz", "empty.xyz", "b.xyz.gz", "sub/c.xyz")]


def alone(wfl, verb_args, source, tmp_path) -> bytes:
    target = tmp_path / "alone.xyz"
    done = wfl("--no-cache", *verb_args, source, "-o", target)
    assert done.code in (0, 3), done.stderr
    return target.read_bytes()


@pytest.mark.parametrize("options", [[], ["--parallel", "2", "--chunk", "1"]])
def test_calc_outputs_per_file_equal_runs_on_each_file_alone(wfl, tmp_path, inputs, options):
    verb = ["calc", "--calc", "emt"]
    (tmp_path / "out").mkdir()
    done = wfl("--no-cache", *options, *verb, *inputs[:3], "-o",
               str(tmp_path / "out" / "{stem}.labelled.xyz"))
    assert done.code == 0, done.stderr
    assert done.stdout == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.labelled.xyz", "b.labelled.xyz", "empty.labelled.xyz"]
    assert (tmp_path / "out" / "empty.labelled.xyz").read_bytes() == b""
    for source, stem in ((inputs[0], "a"), (inputs[2], "b")):
        assert (tmp_path / "out" / f"{stem}.labelled.xyz").read_bytes() == \
            alone(wfl, verb, source, tmp_path)


def test_md_frames_record_their_place_in_their_own_file(wfl, tmp_path, inputs):
    """MD_source, and the cache keys that include it, count within each file."""
    verb = ["md", "--calc", "emt", "--steps", "4", "--every", "2", "-T", "300"]
    done = wfl("--parallel", "2", "--chunk", "1", *verb, inputs[0], inputs[3], "-o",
               "{dir}/{stem}.md.xyz")
    assert done.code == 0, done.stderr
    for source in (inputs[0], inputs[3]):
        written = source.with_name(source.stem + ".md.xyz").read_bytes()
        assert written == alone(wfl, verb, source, tmp_path)
    assert b"MD_source=1" in (tmp_path / "sub" / "c.md.xyz").read_bytes()


def test_failed_configs_go_to_their_own_files_with_a_failed_pattern(wfl, tmp_path):
    """EMT has no silicon: those configs fail, and each file's go beside its outputs."""
    silicon = bulk("Si", "diamond", a=5.43)
    write_configs(tmp_path / "x.xyz", [*rattled_cells(1, repeat=(1, 1, 1)), silicon])
    write_configs(tmp_path / "y.xyz", [silicon, *rattled_cells(2, "Ag", (1, 1, 1))])
    done = wfl("--no-cache", "calc", "--calc", "emt", tmp_path / "x.xyz", tmp_path / "y.xyz",
               "-o", "{dir}/{stem}.out.xyz", "--failed", "{dir}/{stem}.failed.xyz")
    assert done.code == 3
    assert "config 1 of" in done.stderr and "x.xyz" in done.stderr
    assert "config 0 of" in done.stderr and "y.xyz" in done.stderr
    for stem in ("x", "y"):
        single = wfl("--no-cache", "calc", "--calc", "emt", tmp_path / f"{stem}.xyz",
                     "-o", tmp_path / "alone.xyz", "--failed", tmp_path / "alone-failed.xyz")
        assert single.code == 3
        assert (tmp_path / f"{stem}.out.xyz").read_bytes() == \
            (tmp_path / "alone.xyz").read_bytes()
        assert (tmp_path / f"{stem}.failed.xyz").read_bytes() == \
            (tmp_path / "alone-failed.xyz").read_bytes()


@pytest.mark.parametrize("args, message", [
    (["a.xyz", "a.xyz", "-o", "{stem}.out.xyz"], "an input file is named twice"),
    (["a.xyz", "d/a.xyz", "-o", "{stem}.out.xyz"],
     "a.out.xyz for d/a.xyz is also -o for a.xyz"),
    (["a.xyz", "d/a.xyz", "-o", "{dir}/{stem}.out.xyz", "--failed", "{name}"],
     "--failed {name}: a.xyz for a.xyz is also input a.xyz"),
    (["a.xyz", "-o", "{stem}.xyz"], "a.xyz for a.xyz is also input a.xyz"),
    (["-o", "{stem}.out.xyz"], "needs input files, not stdin"),
    (["a.xyz", "-o", "one.xyz", "-o", "two.xyz"], "given 2 times (one.xyz, two.xyz)"),
])
def test_outputs_that_collide_are_usage_errors(wfl, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_configs(tmp_path / "a.xyz", rattled_cells(1, repeat=(1, 1, 1)))
    (tmp_path / "d").mkdir()
    write_configs(tmp_path / "d" / "a.xyz", rattled_cells(1, repeat=(1, 1, 1)))
    before = sorted(tmp_path.rglob("*"))
    done = wfl("calc", "--calc", "emt", *args, input="")
    assert done.code == 2 and message in done.stderr, done.stderr
    assert sorted(tmp_path.rglob("*")) == before


def test_verbs_that_make_configs_refuse_a_pattern(wfl, tmp_path):
    done = wfl("smiles", "C", "-o", str(tmp_path / "{stem}.xyz"))
    assert done.code == 2 and "wfl smiles does not take its configs one by one" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_bad_input_leaves_earlier_outputs_complete_and_no_partial_file(wfl, tmp_path):
    write_configs(tmp_path / "good.xyz", rattled_cells(2, repeat=(1, 1, 1)))
    (tmp_path / "bad.xyz").write_text("2\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n")
    (tmp_path / "bad.out.xyz").write_text("previous\n")
    # serially, good.xyz is done before bad.xyz is read (with --parallel, an input error
    # stops the run at once, and results still in flight are not written anywhere)
    done = wfl("--no-cache", "calc", "--calc", "emt",
               tmp_path / "good.xyz", tmp_path / "bad.xyz", "-o", "{dir}/{stem}.out.xyz")
    assert done.code != 0 and "bad.xyz" in done.stderr
    assert (tmp_path / "good.out.xyz").read_bytes() == \
        alone(wfl, ["calc", "--calc", "emt"], tmp_path / "good.xyz", tmp_path)
    assert (tmp_path / "bad.out.xyz").read_text() == "previous\n"
    assert not list(tmp_path.glob(".*.part"))


SLOW_CALCULATOR = """import time
from ase.calculators.emt import EMT
class SlowForBigCells(EMT):
    def calculate(self, atoms=None, *args, **kwargs):
        time.sleep(60 if len(atoms) > 4 else 0)
        super().calculate(atoms, *args, **kwargs)
"""


@pytest.mark.slow
def test_ctrl_c_keeps_finished_files_and_no_partial_one(tmp_path):
    """The first file's config is done at once; the second file's take a minute each."""
    (tmp_path / "slowcalc.py").write_text(SLOW_CALCULATOR)
    write_configs(tmp_path / "first.xyz", rattled_cells(1, repeat=(1, 1, 1)))
    write_configs(tmp_path / "second.xyz", rattled_cells(2, repeat=(2, 1, 1)))
    client = subprocess.Popen(wfl_argv("--no-cache", "--parallel", "2", "--chunk", "1",
                          "calc", "--calc", "python:slowcalc:SlowForBigCells",
                          tmp_path / "first.xyz", tmp_path / "second.xyz",
                          "-o", "{dir}/{stem}.out.xyz"), cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(tmp_path)},
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "first.out.xyz").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "first.out.xyz").exists(), "the first file was not renamed in time"
        os.killpg(client.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
        assert client.wait(timeout=30) == 130
    finally:
        client.kill()
        client.communicate()
    assert not (tmp_path / "second.out.xyz").exists()
    assert not list(tmp_path.glob(".*.part"))
    assert (tmp_path / "first.out.xyz").read_text().count("energy=") == 1


def test_outputs_per_file_through_remote_on_the_local_scheduler(tmp_path, inputs):
    """One array job for all the files; each file's output as a local run on it alone."""
    from helpers_remote import records, system_toml, write_config

    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    verb = ["md", "--calc", "emt", "--steps", "2", "-T", "300"]
    done = wfl_program("--no-cache", "--remote", "here", "--per-job", "4", *verb, inputs[0],
                       inputs[2], inputs[3], "-o", "{dir}/{stem}.remote.xyz", timeout=300)
    assert done.returncode == 0, done.stderr
    assert [task["configs"] for task in records("here")] == [4, 4, 2]
    for source, stem in ((inputs[0], "a"), (inputs[2], "b"), (inputs[3], "c")):
        local = wfl_program("--no-cache", *verb, source)
        assert (source.parent / f"{stem}.remote.xyz").read_bytes() == local.stdout


def test_filter_keeps_and_rejects_per_input_file(wfl, tmp_path, inputs):
    """``filter`` streams without the executor; its -o and --rejected take patterns too."""
    test = "volume > 45"  # the Cu cells of a.xyz (47 A^3), not the Ni ones of b.xyz.gz
    done = wfl("filter", test, inputs[0], inputs[2], "-o", "{dir}/{stem}.kept.xyz",
               "--rejected", "{dir}/{stem}.rejected.xyz")
    assert done.code == 0, done.stderr
    assert [(tmp_path / name).read_text().count("Lattice=") for name in (
        "a.kept.xyz", "a.rejected.xyz", "b.kept.xyz", "b.rejected.xyz")] == [3, 0, 0, 5]
    for source, stem in ((inputs[0], "a"), (inputs[2], "b")):
        single = wfl("filter", test, source, "-o", tmp_path / "k.xyz",
                     "--rejected", tmp_path / "r.xyz")
        assert single.code == 0
        assert (tmp_path / f"{stem}.kept.xyz").read_bytes() == (tmp_path / "k.xyz").read_bytes()
        assert (tmp_path / f"{stem}.rejected.xyz").read_bytes() == \
            (tmp_path / "r.xyz").read_bytes()
