"""The per-config result cache: resume config by config, never compute twice, never reuse a
result computed differently."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from helpers_data import rattled_cells
from helpers_wfl import wfl_argv, wfl_program
from wflcli.io.writer import format_config
from wflcli.store.cache import HANDOFF_SECONDS

COUNTING = "python:helpers_calc:CountingEMT"


@pytest.fixture
def store(tmp_path, monkeypatch):
    home = tmp_path / "store home"
    monkeypatch.setenv("WFLCLI_HOME", str(home))
    return home


def cells_file(path: Path, count: int, repeat=(1, 1, 1)) -> Path:
    configs = rattled_cells(count, "Cu", repeat)
    for i, atoms in enumerate(configs):
        atoms.info["n"] = i
    path.write_text("".join(format_config(a) for a in configs))
    return path


def test_rerun_is_served_from_the_cache(wfl, store, calc_log, tmp_path):
    src = cells_file(tmp_path / "in.xyz", 30)
    first = wfl("calc", "--calc", COUNTING, src)
    assert first.code == 0 and calc_log() == 30
    second = wfl("calc", "--calc", COUNTING, src)
    assert second.stdout == first.stdout
    assert calc_log() == 0


def test_chunk_size_and_parallel_do_not_matter(store, calc_log, tmp_path):
    src = cells_file(tmp_path / "in.xyz", 40)
    first = wfl_program("--chunk", "3", "calc", "--calc", COUNTING, src)
    assert calc_log() == 40
    for args in (["--parallel", "2", "--chunk", "7"], ["--chunk", "1"]):
        again = wfl_program(*args, "calc", "--calc", COUNTING, src)
        assert again.stdout == first.stdout
        assert calc_log() == 0, args


def test_what_changes_the_result_misses_the_cache(wfl, store, calc_log, tmp_path):
    src = cells_file(tmp_path / "in.xyz", 5)
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"scale": 2.0}))
    scaled = "python:helpers_calc:ScaledEMT"
    base = ["calc", "--calc", f"{scaled}:model={model}", src]
    assert wfl(*base).code == 0 and calc_log() == 5
    assert wfl(*base).code == 0 and calc_log() == 0
    assert wfl("calc", "--calc", f"{scaled}:model={model},asap_cutoff=true", src).code == 0
    assert calc_log() == 5, "a calculator parameter changed"
    assert wfl(*base, "--prefix", "X_").code == 0 and calc_log() == 5, "the prefix changed"
    assert wfl(*base, "--properties", "energy").code == 0 and calc_log() == 5
    model.write_text(json.dumps({"scale": 3.0}))
    result = wfl(*base)
    assert calc_log() == 5, "the model file's content changed"
    assert "ScaledEMT_energy" in result.stdout


def test_moved_atoms_miss_but_relabelled_configs_hit(wfl, store, calc_log, tmp_path):
    configs = rattled_cells(4, "Cu", (1, 1, 1))
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    wfl("calc", "--calc", COUNTING, src)
    assert calc_log() == 4
    configs[1].info["config_type"] = "relabelled"
    configs[2].positions[0, 0] += 1e-9
    src.write_text("".join(format_config(a) for a in configs))
    result = wfl("calc", "--calc", COUNTING, src)
    assert calc_log() == 1
    assert "config_type=relabelled" in result.stdout


def test_no_cache_and_refresh(wfl, store, calc_log, tmp_path):
    src = cells_file(tmp_path / "in.xyz", 6)
    first = wfl("--no-cache", "calc", "--calc", COUNTING, src)
    assert calc_log() == 6 and not (store / "store.sqlite").exists()
    wfl("calc", "--calc", COUNTING, src)
    assert calc_log() == 6
    refreshed = wfl("--refresh", "calc", "--calc", COUNTING, src)
    assert calc_log() == 6 and refreshed.stdout == first.stdout
    wfl("calc", "--calc", COUNTING, src)
    assert calc_log() == 0


def test_failed_configs_are_retried_on_rerun(wfl, store, calc_log, tmp_path):
    from ase.build import bulk

    configs = rattled_cells(3, "Cu", (1, 1, 1)) + [bulk("Si", "diamond", a=5.43)]
    src = tmp_path / "in.xyz"
    src.write_text("".join(format_config(a) for a in configs))
    assert wfl("calc", "--calc", "emt", src).code == 3
    db = sqlite3.connect(store / "store.sqlite")
    # each done config twice: its results, and its output under its text as read
    assert db.execute("SELECT kind, COUNT(*) FROM results GROUP BY kind").fetchall() == \
        [("annotation", 3), ("outputs", 3)]
    assert wfl("calc", "--calc", "emt", src).code == 3


def test_store_is_private(wfl, store, tmp_path):
    os.umask(0o022)
    wfl("calc", "--calc", "emt", cells_file(tmp_path / "in.xyz", 1))
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "store.sqlite").stat().st_mode) == 0o600
    db = sqlite3.connect(store / "store.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_cache_info_and_clean(wfl, store, tmp_path):
    assert wfl("cache", "info").stdout.strip() == "the cache is empty"
    wfl("calc", "--calc", "emt", cells_file(tmp_path / "in.xyz", 7))
    info = wfl("cache", "info")
    # two entries a config: its results, and its output under its text as read
    assert info.code == 0 and info.stdout.splitlines()[1].split()[:2] == ["calc", "14"]
    assert wfl("cache", "clean").code == 2  # no filter given
    assert wfl("cache", "clean", "--all").code == 2  # not interactive, no --yes
    assert wfl("cache", "clean", "--older-than", "1d", "--yes").stdout.strip() == \
        "nothing to remove"
    assert "would remove 14 cached results" in wfl("cache", "clean", "--all", "--dry-run").stdout
    assert wfl("cache", "clean", "--verb", "md", "--yes").stdout.strip() == "nothing to remove"
    assert "removed 14 cached results" in wfl("cache", "clean", "--all", "--yes").stdout
    assert wfl("cache", "info").stdout.strip() == "the cache is empty"
    assert wfl("cache", "clean", "--older-than", "soon", "--yes").code == 2


@pytest.mark.slow
def test_kill_midway_then_rerun_computes_only_what_is_missing(store, calc_log, tmp_path):
    total, chunk, workers = 2000, 10, 2
    src = cells_file(tmp_path / "in.xyz", total)
    env = dict(os.environ, CALC_SLEEP="0.004")
    args = wfl_argv("--parallel", str(workers), "--chunk", str(chunk), "calc", "--calc",
       COUNTING, str(src))
    proc = subprocess.Popen(args + ["-o", str(tmp_path / "out.xyz")], env=env,
                            start_new_session=True, stderr=subprocess.PIPE)
    started = time.monotonic()
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGKILL)
    elapsed = time.monotonic() - started
    proc.wait()
    before_kill = calc_log()
    assert 0 < before_kill < total, "the kill must land midway"
    assert not (tmp_path / "out.xyz").exists()

    rerun = subprocess.run(args + ["-o", str(tmp_path / "out.xyz")], env=env,
                           capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    recomputed = calc_log()
    # chunks in flight, plus what finished within the cache's hand-off interval
    rate = before_kill / elapsed
    in_flight = 2 * workers * chunk + int(rate * HANDOFF_SECONDS) + chunk
    assert total - before_kill <= recomputed <= total - before_kill + in_flight

    fresh = subprocess.run(["env", f"WFLCLI_HOME={tmp_path / 'fresh'}", *args],
                           capture_output=True)
    assert (tmp_path / "out.xyz").read_bytes() == fresh.stdout


@pytest.mark.slow
def test_eight_concurrent_processes_share_one_store(store, tmp_path):
    sources = [cells_file(tmp_path / f"in{i}.xyz", 60, repeat) for i, repeat in
               enumerate([(1, 1, 1), (2, 1, 1)])]
    procs = [subprocess.Popen(wfl_argv("--chunk", "5", "calc", "--calc", "emt",
                          str(sources[i % 2])), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(8)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8
    for out, err in outputs:
        assert b"locked" not in err and err == b""
    assert len({out for out, _ in outputs[0::2]}) == len({out for out, _ in outputs[1::2]}) == 1
    db = sqlite3.connect(store / "store.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT kind, COUNT(*) FROM results GROUP BY kind").fetchall() == \
        [("annotation", 120), ("outputs", 120)]
