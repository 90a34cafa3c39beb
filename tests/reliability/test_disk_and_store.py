"""Disk and store faults: an output that cannot be written, a file-size limit hit mid-write,
a store locked by another process past the busy timeout, a damaged store. Each is one clear
line and exit code 1; the previous output stays intact; a rerun after the fix completes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import PROGRAM, wfl_program
from wflcli.io.output import _HOST

PREVIOUS = b"the previous output, which must survive\n"


@pytest.fixture
def setup(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(100))
    out = tmp_path / "out.xyz"
    out.write_bytes(PREVIOUS)
    expected = wfl_program("--no-cache", "calc", "--calc", "emt", source, check=True).stdout
    return source, out, expected


def run(*args, env=None, prefix=()):
    return subprocess.run([*prefix, PROGRAM, *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=env)


def one_clear_line(done, *words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and lines[0].startswith("wfl: error: "), done.stderr
    assert all(word in lines[0] for word in words), lines[0]


@pytest.mark.parametrize("where", ["missing folder", "a file as folder"])
def test_unwritable_output_place(setup, tmp_path, where):
    source, _, expected = setup
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    target = (tmp_path / "no" / "such" / "out.xyz" if where == "missing folder"
              else blocker / "out.xyz")
    one_clear_line(run("calc", "--calc", "emt", source, "-o", target), str(target),
                   "cannot write here")
    fixed = tmp_path / "out-fixed.xyz"
    assert run("calc", "--calc", "emt", source, "-o", fixed).returncode == 0
    assert fixed.read_bytes() == expected


def test_file_size_limit_mid_write(setup):
    source, out, expected = setup
    limited = run("--no-cache", "calc", "--calc", "emt", source, "-o", out,
                  prefix=("bash", "-c", 'ulimit -f 40; exec "$@"', "limited"))
    one_clear_line(limited, str(out), "write failed", "File too large")
    assert out.read_bytes() == PREVIOUS
    assert sorted(p.name for p in out.parent.iterdir()) == ["in.xyz", "out.xyz"]
    assert run("calc", "--calc", "emt", source, "-o", out).returncode == 0
    assert out.read_bytes() == expected


def test_temporary_files_of_ended_writers_are_removed_even_unreaped(setup):
    # a killed writer in a container whose minimal init never reaps it stays a zombie
    source, out, expected = setup
    ended = subprocess.Popen(["true"])  # not waited for until the end: a zombie meanwhile
    live = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.3)
        left = {pid: out.parent / f".out.xyz.{_HOST}-{pid}.x1y2.part"
                for pid in (ended.pid, live.pid)}
        for path in left.values():
            path.write_text("partial")
        assert run("calc", "--calc", "emt", source, "-o", out).returncode == 0
        assert out.read_bytes() == expected
        assert not left[ended.pid].exists()
        assert left[live.pid].exists()  # a writer still running keeps its file
    finally:
        live.kill()
        live.wait()
        ended.wait()


def test_store_locked_longer_than_the_busy_timeout(setup):
    source, out, expected = setup
    assert run("calc", "--calc", "emt", source, "-o", out).returncode == 0  # makes the store
    out.write_bytes(PREVIOUS)
    store = os.path.join(os.environ["WFLCLI_HOME"], "store.sqlite")
    holder = subprocess.Popen(["python3", "-c", "import sqlite3, sys, time; db = sqlite3."
                               "connect(sys.argv[1], isolation_level=None); db.execute("
                               "'BEGIN EXCLUSIVE'); print('locked', flush=True); "
                               "time.sleep(8)", store], stdout=subprocess.PIPE)
    assert holder.stdout.readline() == b"locked\n"
    started = time.monotonic()
    locked = run("calc", "--calc", "emt", source, "-o", out,
                 env=dict(os.environ, WFLCLI_BUSY_TIMEOUT="1"))
    assert time.monotonic() - started < 7
    one_clear_line(locked, "stayed locked by another process", "WFLCLI_BUSY_TIMEOUT")
    assert out.read_bytes() == PREVIOUS
    holder.wait()
    assert run("calc", "--calc", "emt", source, "-o", out).returncode == 0
    assert out.read_bytes() == expected


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_damaged_store(setup, damage):
    source, out, expected = setup
    assert run("calc", "--calc", "emt", source).returncode == 0
    store = os.path.join(os.environ["WFLCLI_HOME"], "store.sqlite")
    if damage == "truncated":
        os.truncate(store, os.path.getsize(store) // 2)
    else:
        with open(store, "r+b") as stream:
            stream.write(os.urandom(200))
    done = run("calc", "--calc", "emt", source, "-o", out)
    one_clear_line(done, store, "cannot be used", "move it away")
    assert out.read_bytes() == PREVIOUS
    os.rename(store, store + ".damaged")  # what the message says to do
    assert run("calc", "--calc", "emt", source, "-o", out).returncode == 0
    assert out.read_bytes() == expected
    assert sqlite3.connect(store).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
