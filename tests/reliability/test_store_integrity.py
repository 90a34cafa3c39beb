"""What the store trusts: every entry's checksum is checked on read (bits flipped in the real
SQLite file are misses, computed again, with one warning); a schema version wflcli does not
know and someone else's SQLite database at the store's path are one clear line, and are left
as they were; a store from before checksums is upgraded in place."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_argv
from wflcli.store.db import MIGRATIONS


def store_path() -> Path:
    return Path(os.environ["WFLCLI_HOME"]) / "store.sqlite"


def database(path: Path):
    """The SQLite file itself, each statement committed as it runs."""
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def run(*args):
    return subprocess.run(wfl_argv(*map(str, args)), capture_output=True, text=True,
                          timeout=120)


def one_clear_line(done, *words):
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert len(lines) == 1 and lines[0].startswith("wfl: error: "), done.stderr
    assert all(word in lines[0] for word in words), lines[0]


def flip_a_bit_in_every_stress(store: Path) -> int:
    """Flip the lowest bit of the first stress component of every stored result, and a
    bit in the middle of the output kept under each config's text, in the file's own bytes
    (as a failing disk or a stray write would). Returns how many results were hit."""
    with database(store) as db:
        rows = db.execute("SELECT kind, payload FROM results").fetchall()
    data = bytearray(store.read_bytes())
    for kind, payload in rows:
        # every copy: a page split can leave a stale one in the page's free space
        copies = list(_occurrences(data, payload))
        assert copies
        if kind == "annotation":
            head = payload.index(b"\n") + 1  # the JSON header; the stress bytes come first
            assert b'"emt_stress"' in payload[:head]
            offset = head
        else:
            offset = len(payload) // 2
        for at in copies:
            data[at + offset] ^= 1
    store.write_bytes(bytes(data))
    return sum(kind == "annotation" for kind, _ in rows)


def _occurrences(data: bytearray, piece: bytes):
    at = data.find(piece)
    while at >= 0:
        yield at
        at = data.find(piece, at + 1)


def results(db) -> int:
    """Result entries (one a config; the copies kept under each config's text apart)."""
    return db.execute("SELECT COUNT(*) FROM results WHERE kind = 'annotation'").fetchone()[0]


def stresses(text: str) -> list:
    return [atoms.info["emt_stress"].tolist() for atoms in read_text(text)]


def test_flipped_bits_in_stored_results_are_recomputed_with_one_warning(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(100, "Cu", (1, 1, 1)))
    fresh = run("--no-cache", "calc", "--calc", "emt", source).stdout
    assert run("calc", "--calc", "emt", source).stdout == fresh
    assert flip_a_bit_in_every_stress(store_path()) == 100
    with database(store_path()) as db:  # SQLite's own check cannot see it
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = run("calc", "--calc", "emt", source)
    assert again.returncode == 0
    assert stresses(again.stdout) == stresses(fresh) and again.stdout == fresh
    warnings = again.stderr.strip().splitlines()
    assert len(warnings) == 1 and "damaged results" in warnings[0], again.stderr
    assert str(store_path()) in warnings[0]
    healed = run("calc", "--calc", "emt", source)  # the damaged entries were replaced
    assert healed.stdout == fresh and healed.stderr == ""


def test_a_store_damaged_past_its_first_page_costs_no_output(tmp_path):
    # the first page (schema version) reads; the damage shows only at the first lookup
    source = write_configs(tmp_path / "in.xyz", rattled_cells(50, "Cu", (1, 1, 1)))
    fresh = run("--no-cache", "calc", "--calc", "emt", source).stdout
    assert run("calc", "--calc", "emt", source).stdout == fresh
    size = store_path().stat().st_size
    with open(store_path(), "r+b") as stream:
        stream.seek(4096)
        stream.write(bytes(range(256)) * ((size - 4096) // 256))
    done = run("calc", "--calc", "emt", source)
    assert done.returncode == 0 and done.stdout == fresh
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 1 and "move it away" in warnings[0], done.stderr


@pytest.mark.parametrize("version", [-5, len(MIGRATIONS) + 1])
def test_a_schema_version_wflcli_does_not_know_is_one_clear_line(tmp_path, version):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2, "Cu", (1, 1, 1)))
    store_path().parent.mkdir(exist_ok=True)
    with database(store_path()) as db:
        db.execute(f"PRAGMA user_version={version}")
    done = run("calc", "--calc", "emt", source)
    one_clear_line(done, str(store_path()), f"schema version {version}")
    with database(store_path()) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == version


def test_another_programs_database_at_the_store_path_is_refused(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2, "Cu", (1, 1, 1)))
    store_path().parent.mkdir(exist_ok=True)
    with database(store_path()) as db:
        db.execute("CREATE TABLE photos (id INTEGER, taken TEXT)")
        db.execute("INSERT INTO photos VALUES (1, 'today')")
    before = store_path().read_bytes()
    one_clear_line(run("calc", "--calc", "emt", source), str(store_path()),
                   "not a wflcli store", "photos")
    assert store_path().read_bytes() == before  # no tables of ours added


def test_an_empty_file_at_the_store_path_becomes_the_store(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2, "Cu", (1, 1, 1)))
    store_path().parent.mkdir(exist_ok=True)
    store_path().write_bytes(b"")
    done = run("calc", "--calc", "emt", source)
    assert done.returncode == 0 and done.stderr == ""
    with database(store_path()) as db:
        assert results(db) == 2


def test_a_store_from_before_checksums_is_upgraded(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(3, "Cu", (1, 1, 1)))
    store_path().parent.mkdir(exist_ok=True)
    with database(store_path()) as db:  # version 2: results and jobs, no checksums
        for migration in MIGRATIONS[:2]:
            db.executescript(migration)
        db.execute("INSERT INTO results VALUES (x'00', 'calc', 'annotation', x'00', 1, 0)")
        db.execute("INSERT INTO jobs (system, scheduler, job_id, task, state, verb, command, "
                   "chunk_hash, configs, folder, attempt, submitted, updated) VALUES "
                   "('c', 'slurm', '7', 0, 'done', 'calc', '[]', 'h', 1, '/f', 1, 0, 0)")
        db.execute("PRAGMA user_version=2")
    fresh = run("--no-cache", "calc", "--calc", "emt", source).stdout
    done = run("calc", "--calc", "emt", source)
    assert done.returncode == 0 and done.stdout == fresh and done.stderr == ""
    with database(store_path()) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert results(db) == 3  # the old one
        assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1     # went, jobs kept
    assert run("calc", "--calc", "emt", source).stdout == fresh
