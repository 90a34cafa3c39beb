"""A store that cannot be written never loses the run: on a full disk, a read-only store, a
folder or file that cannot be created, something else in its place, or the store removed
mid-run, the command writes its whole output, says once that results were not cached, and
exits as it would without a store. Hits that can still be read are still served.

Tests run as root here, and root ignores permission bits, so a store is made unwritable in
ways that hold for root too: a small tmpfs filled up (mount), the immutable attribute
(chattr +i), a folder in the store file's place. Each test skips, saying why, where the
machine does not allow its way."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import wfl_argv

FIRST, LATER = 40, 20  # configs cached before the store breaks, and configs after
COUNTING = "python:helpers_calc:CountingEMT"  # EMT that counts its calculations


@pytest.fixture
def inputs(tmp_path, calc_log):
    configs = rattled_cells(FIRST + LATER, "Cu", (1, 1, 1))
    first = write_configs(tmp_path / "first.xyz", configs[:FIRST])
    later = write_configs(tmp_path / "later.xyz", configs[FIRST:])
    whole = run("--no-cache", "calc", "--calc", COUNTING, first, later)
    assert whole.returncode == 0 and calc_log() == FIRST + LATER
    return first, later, whole.stdout


def run(*args, home=None, **kwargs):
    env = dict(os.environ, **({"WFLCLI_HOME": str(home)} if home else {}))
    return subprocess.run(wfl_argv(*map(str, args)), capture_output=True, text=True,
                          timeout=120, env=env, **kwargs)


def entries(store: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.OperationalError:  # not set up yet
            return 0


def assert_whole_output_and_one_warning(done, expected: str, *words):
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wfl: warning: "), done.stderr
    assert all(word in lines[0] for word in words), lines[0]


def need(tool: str, *args):
    """Run a root tool (mount, chattr), or skip the test when this machine does not allow it."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    done = subprocess.run([tool, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"{tool} {' '.join(map(str, args))} is not allowed here: "
                    f"{done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs, unmounted afterwards."""
    where = tmp_path / "small disk"
    where.mkdir()
    need("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", where)
    yield where
    done = subprocess.run(["umount", where], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as stream:
        try:
            while stream.write(b"\0" * 4096):
                pass
        except OSError:  # no space left
            pass


def test_a_full_disk_under_the_store(inputs, small_disk, calc_log):
    first, later, expected = inputs
    assert run("calc", "--calc", COUNTING, first, home=small_disk).returncode == 0
    calc_log()
    fill(small_disk)
    done = run("calc", "--calc", COUNTING, first, later, home=small_disk)
    assert_whole_output_and_one_warning(done, expected, "not cached", "full",
                                        str(small_disk / "store.sqlite"))
    assert calc_log() == LATER  # the hits were still served
    assert entries(small_disk / "store.sqlite") == FIRST


def test_a_full_disk_before_the_store_exists(inputs, small_disk):
    first, later, expected = inputs
    fill(small_disk)
    done = run("calc", "--calc", COUNTING, first, later, home=small_disk)
    assert_whole_output_and_one_warning(done, expected, "without the cache", "full")
    os.unlink(small_disk / "filler")  # space again: the empty file left is ours to set up
    assert run("calc", "--calc", COUNTING, first, home=small_disk).returncode == 0
    assert entries(small_disk / "store.sqlite") == FIRST


@pytest.fixture
def immutable(tmp_path):
    """chattr +i on paths (which even root cannot then write), undone afterwards."""
    made = []

    def make(path: Path):
        need("chattr", "+i", path)
        made.append(path)

    yield make
    for path in reversed(made):
        subprocess.run(["chattr", "-i", path], check=True)


def test_a_read_only_store(inputs, tmp_path, immutable, calc_log):
    first, later, expected = inputs
    home = tmp_path / "home"
    assert run("calc", "--calc", COUNTING, first, home=home).returncode == 0
    immutable(home / "store.sqlite")
    calc_log()
    done = run("calc", "--calc", COUNTING, first, later, "-o", tmp_path / "out.xyz", home=home)
    assert_whole_output_and_one_warning(done, "", "not cached", "readonly")
    assert (tmp_path / "out.xyz").read_text() == expected
    assert calc_log() == LATER  # the hits were still served
    assert entries(home / "store.sqlite") == FIRST


def test_a_store_folder_that_cannot_be_written(inputs, tmp_path, immutable):
    first, later, expected = inputs
    home = tmp_path / "home"
    home.mkdir()
    immutable(home)  # no store can be created in it
    done = run("calc", "--calc", COUNTING, first, later, home=home)
    assert_whole_output_and_one_warning(done, expected, "without the cache", str(home))


def test_a_store_folder_that_cannot_be_created(inputs, tmp_path):
    first, later, expected = inputs
    blocker = tmp_path / "a file"
    blocker.write_text("")
    done = run("calc", "--calc", COUNTING, first, later, home=blocker / "home")
    assert_whole_output_and_one_warning(done, expected, "without the cache", "store folder")


def test_a_folder_in_the_store_files_place(inputs, tmp_path):
    first, later, expected = inputs
    home = tmp_path / "home"
    (home / "store.sqlite").mkdir(parents=True)
    done = run("calc", "--calc", COUNTING, first, later, home=home)
    assert_whole_output_and_one_warning(done, expected, "without the cache",
                                        str(home / "store.sqlite"))


@pytest.mark.parametrize("removed", ["the store file", "the store folder"])
def test_the_store_removed_mid_run(inputs, tmp_path, removed):
    first, later, expected = inputs
    home = tmp_path / "home"
    store = home / "store.sqlite"
    process = subprocess.Popen(wfl_argv("calc", "--calc", COUNTING), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, WFLCLI_HOME=str(home)))
    try:
        process.stdin.write(first.read_bytes())
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not (store.exists() and entries(store) > 0):  # some results are cached
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        os.unlink(store) if removed == "the store file" else shutil.rmtree(home)
        time.sleep(0.6)  # past the writer's hand-off interval: the next result is written
        out, err = process.communicate(later.read_bytes(), timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    done = subprocess.CompletedProcess(process.args, process.returncode, out.decode(),
                                       err.decode())
    assert_whole_output_and_one_warning(done, expected, "not cached", str(store))
