"""Text-addressed cache hits: a frame read from extxyz is first looked up by its text as
read, and a hit writes the output stored for that text without reading the frame. Each
test checks what a user sees: the same output as a fresh run, the calculator not called,
the exit code; the store's rows show which key answered."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import ase.io
import pytest
from ase.build import bulk
from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program

COUNTING = "python:helpers_calc:CountingEMT"
CALC = ["calc", "--calc", COUNTING]


def store_db():
    return contextlib.closing(sqlite3.connect(Path(os.environ["WFLCLI_HOME"]) / "store.sqlite"))


def rows(kind: str | None = None) -> int:
    with store_db() as db:
        if kind is None:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM results WHERE kind = ?", (kind,)).fetchone()[0]


def drop(kind: str) -> None:
    """Remove every entry of one kind: what is left must answer the rerun alone."""
    with store_db() as db, db:
        db.execute("DELETE FROM results WHERE kind = ?", (kind,))


def cells(path: Path, count: int = 6) -> Path:
    return write_configs(path, rattled_cells(count, "Cu", (1, 1, 1)))


def test_a_rerun_is_answered_by_text_keys_alone(wfl, calc_log, tmp_path):
    src = cells(tmp_path / "in.xyz", 8)
    first = wfl(*CALC, src)
    assert first.code == 0 and calc_log() == 8
    assert rows("annotation") == 8 and rows("outputs") == 8
    drop("annotation")  # the results by value gone: only the outputs by text are left
    again = wfl(*CALC, src)
    assert again.code == 0 and calc_log() == 0
    assert again.stdout == first.stdout == wfl("--no-cache", *CALC, src).stdout


def test_a_relabelled_config_hits_by_value_and_is_then_stored_by_text(wfl, calc_log,
                                                                       tmp_path):
    configs = rattled_cells(3, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", configs)
    assert wfl(*CALC, src).code == 0 and calc_log() == 3
    configs[1].info["config_type"] = "relabelled"
    write_configs(src, configs)
    relabelled = wfl(*CALC, src)
    assert relabelled.code == 0 and calc_log() == 0
    assert "config_type=relabelled" in relabelled.stdout
    assert rows("annotation") == 3 and rows("outputs") == 4  # its new text, stored
    drop("annotation")
    again = wfl(*CALC, src)
    assert again.stdout == relabelled.stdout and calc_log() == 0


def test_a_rerun_from_a_pipe_is_answered_by_text_keys(wfl, calc_log, tmp_path):
    text = cells(tmp_path / "in.xyz", 4).read_text()
    first = wfl(*CALC, "-", input=text)
    assert first.code == 0 and calc_log() == 4
    drop("annotation")
    assert wfl(*CALC, input=text).stdout == first.stdout and calc_log() == 0


def test_a_pipeline_is_one_entry_a_config_answered_by_its_text(wfl, calc_log, tmp_path):
    """wfl pipe's outputs are text (its stages' last), so its text key is its value key."""
    src = cells(tmp_path / "in.xyz", 3)
    pipeline = ["pipe", f"rattle --copies 2 | calc --calc {COUNTING}", src]
    first = wfl(*pipeline)
    assert first.code == 0 and calc_log() == 6 and rows() == rows("outputs") == 3
    assert wfl(*pipeline).stdout == first.stdout and calc_log() == 0


def test_other_reading_or_writing_code_misses(wfl, calc_log, tmp_path, monkeypatch):
    """The output kept for a text is what this wflcli's reader and writer made of it."""
    from wflcli.exec import digest

    src = cells(tmp_path / "in.xyz", 2)
    first = wfl(*CALC, src)
    assert calc_log() == 2
    monkeypatch.setattr(digest, "io_fingerprint", lambda: b"another reader and writer")
    assert wfl(*CALC, src).stdout == first.stdout and calc_log() == 2


def test_an_edited_digit_recomputes_that_config(wfl, calc_log, tmp_path):
    src = cells(tmp_path / "in.xyz", 4)
    assert wfl(*CALC, src).code == 0 and calc_log() == 4
    lines = src.read_text().splitlines(keepends=True)
    row = 2 * (int(lines[0]) + 2) + 2  # config 2's first atom
    symbol, x, *rest = lines[row].split()
    lines[row] = " ".join([symbol, x[:-1] + str((int(x[-1]) + 1) % 10), *rest]) + "\n"
    src.write_text("".join(lines))
    edited = wfl(*CALC, src)
    assert edited.code == 0 and calc_log() == 1
    assert edited.stdout == wfl("--no-cache", *CALC, src).stdout


def test_refresh_recomputes_and_replaces_both_entries(wfl, calc_log, tmp_path):
    src = cells(tmp_path / "in.xyz", 3)
    first = wfl(*CALC, src)
    with store_db() as db, db:
        db.execute("UPDATE results SET created = 0")
    refreshed = wfl("--refresh", *CALC, src)
    assert refreshed.stdout == first.stdout and calc_log() == 6
    with store_db() as db:
        assert db.execute("SELECT kind, COUNT(*) FROM results WHERE created > 0 GROUP BY kind"
                          ).fetchall() == [("annotation", 3), ("outputs", 3)]
    assert rows() == 6


def test_a_damaged_text_entry_is_a_miss_and_is_replaced(wfl, calc_log, tmp_path):
    src = cells(tmp_path / "in.xyz", 3)
    first = wfl(*CALC, src)
    assert calc_log() == 3
    with store_db() as db, db:  # one byte of each output changed, its checksum not
        for key, payload in db.execute("SELECT key, payload FROM results "
                                       "WHERE kind = 'outputs'").fetchall():
            db.execute("UPDATE results SET payload = ? WHERE key = ?",
                       (payload[:-2] + b"7" + payload[-1:], key))
    damaged = wfl(*CALC, src)
    assert damaged.stdout == first.stdout and calc_log() == 0  # answered by value instead
    assert "damaged" in damaged.stderr
    drop("annotation")
    again = wfl(*CALC, src)
    assert again.stdout == first.stdout and calc_log() == 0 and "damaged" not in again.stderr


def test_text_that_ase_wrote_is_its_own_key(wfl, calc_log, tmp_path):
    src = tmp_path / "ase.xyz"
    ase.io.write(src, rattled_cells(3, "Cu", (1, 1, 1)))
    canonical = wfl("cat", src).stdout
    assert canonical != src.read_text()  # wfl writes it otherwise: two keys a config
    first = wfl(*CALC, src)
    assert first.code == 0 and calc_log() == 3
    drop("annotation")
    assert wfl(*CALC, src).stdout == first.stdout and calc_log() == 0
    rewritten = tmp_path / "wfl.xyz"
    rewritten.write_text(canonical)
    assert wfl(*CALC, rewritten).stdout == first.stdout and calc_log() == 3


def test_md_keys_each_position_apart_in_one_entry_a_config(wfl, calc_log, tmp_path):
    """md records the input position (MD_source): the same frame twice is two entries; its
    key by text is its key by value (wfl wrote the frame), so one entry each."""
    config = rattled_cells(1, "Cu", (1, 1, 1))[0]
    src = write_configs(tmp_path / "in.xyz", [config, config])
    md = ["md", "--calc", COUNTING, "--steps", "2", "--every", "1", src]
    first = wfl(*md)
    assert first.code == 0 and calc_log() > 0
    assert rows() == rows("outputs") == 2
    frames = read_text(first.stdout)
    assert [a.info["MD_source"] for a in frames] == [0, 0, 0, 1, 1, 1]
    assert wfl(*md).stdout == first.stdout and calc_log() == 0
    assert wfl("--no-cache", *md).stdout == first.stdout


MAP_OPS = '''
import os

def tagged(atoms):
    with open(os.environ["MAP_LOG"], "a") as log:
        log.write("call\\n")
    atoms.info["tagged"] = 1
    return atoms
'''


@pytest.fixture
def map_ops(tmp_path, monkeypatch):
    (tmp_path / "ops.py").write_text(MAP_OPS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAP_LOG", str(tmp_path / "map.log"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path / "map.log"
    sys.modules.pop("ops", None)


def calls(log: Path) -> int:
    count = len(log.read_text().splitlines()) if log.exists() else 0
    log.unlink(missing_ok=True)
    return count


def test_map_reruns_by_text_however_the_input_is_laid_out(wfl, map_ops, tmp_path):
    ours = cells(tmp_path / "in.xyz", 3)
    first = wfl("map", "ops.py:tagged", ours)
    assert first.code == 0 and calls(map_ops) == 3 and rows() == 3  # text key = value key
    assert wfl("map", "ops.py:tagged", ours).stdout == first.stdout and calls(map_ops) == 0
    theirs = tmp_path / "spaced.xyz"  # the same values, laid out as wfl does not write them
    theirs.write_text("".join(line if line[0] in "4L" else "   " + line.replace(" ", "   ")
                              for line in ours.read_text().splitlines(keepends=True)))
    assert wfl("cat", theirs).stdout == ours.read_text() != theirs.read_text()
    again = wfl("map", "ops.py:tagged", theirs)
    assert again.stdout == first.stdout and calls(map_ops) == 0  # a hit by value
    assert rows() == 6  # and stored under each new text too
    assert wfl("map", "ops.py:tagged", theirs).stdout == first.stdout and calls(map_ops) == 0


def test_cached_configs_after_many_new_ones_are_still_found(wfl, map_ops, tmp_path):
    """After many configs no text key answered, a run asks by text only now and then
    (core.py's _TextProbe); the cached configs that follow are found all the same."""
    configs = rattled_cells(23, "Cu", (1, 1, 1))
    cached = write_configs(tmp_path / "cached.xyz", configs[20:])
    assert wfl("map", "ops.py:tagged", cached).code == 0 and calls(map_ops) == 3
    both = write_configs(tmp_path / "both.xyz", configs)
    first = wfl("map", "ops.py:tagged", both)
    assert first.code == 0 and calls(map_ops) == 20
    assert first.stdout == wfl("--no-cache", "map", "ops.py:tagged", both).stdout


@pytest.mark.slow
def test_parallel_and_chunks_store_and_hit_as_serial(calc_log, tmp_path):
    src = cells(tmp_path / "in.xyz", 12)
    serial = wfl_program("--no-cache", *CALC, src)
    assert calc_log() == 12
    parallel = wfl_program("--parallel", "2", "--chunk", "5", *CALC, src)
    assert parallel.stdout == serial.stdout and calc_log() == 12
    drop("annotation")
    for args in (["--parallel", "2", "--chunk", "3"], ["--chunk", "4"], []):
        again = wfl_program(*args, *CALC, src)
        assert again.stdout == serial.stdout and calc_log() == 0, args


def test_a_config_failed_upstream_stays_failed(wfl, calc_log, tmp_path):
    configs = rattled_cells(2, "Cu", (1, 1, 1)) + [bulk("Si", "diamond", a=5.43)]
    src = write_configs(tmp_path / "in.xyz", configs)
    upstream = wfl("calc", "--calc", "emt", src)
    assert upstream.code == 3
    failed_in = tmp_path / "upstream.xyz"
    failed_in.write_text(upstream.stdout)
    calc_log()
    for computed in (2, 0):
        result = wfl(*CALC, "--prefix", "X_", failed_in, "--failed", tmp_path / "failed.xyz")
        assert result.code == 3 and calc_log() == computed
        assert "1 of 3 configs failed" in result.stderr
        (failed,) = read_text((tmp_path / "failed.xyz").read_text())
        assert failed.info["wfl_error"]["verb"] == "calc" and "X_energy" not in failed.info


def test_a_frame_with_a_wrong_value_still_fails_with_its_line(wfl, tmp_path):
    src = cells(tmp_path / "in.xyz", 2)
    assert wfl(*CALC, src).code == 0
    lines = src.read_text().splitlines(keepends=True)
    words = lines[3].split()
    lines[3] = " ".join([words[0], "x1.0", *words[2:]]) + "\n"
    src.write_text("".join(lines))
    result = wfl(*CALC, src)
    assert result.code != 0 and f"{src}:4" in result.stderr and "x1.0" in result.stderr
