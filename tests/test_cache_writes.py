"""How the cache keeps what it is given: output texts compressed above a size and plain
below it, read back the same; a batch larger than one SQLite statement can hold."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import wflcli.store.writer as writer_module
from wflcli.exec.payload import COMPRESS_ABOVE, decode_outputs, encode_outputs, stored_outputs
from wflcli.store.cache import ResultCache

_LINE = "Cu 0.0882026172983832 0.020007860418361167 0.04893689920528696\n"


@pytest.mark.parametrize("size", [10, COMPRESS_ABOVE, COMPRESS_ABOVE + 1, 4096, 4097, 70000,
                                  400000])
def test_output_texts_of_every_size_come_back_the_same(tmp_path, size):
    text = (_LINE * (size // len(_LINE) + 1))[:size]
    payload = stored_outputs(encode_outputs(text, 3))
    compressed = len(encode_outputs(text, 3)) > COMPRESS_ABOVE
    # plain payloads start with the count's digits; compressed ones never do
    assert payload[:1].isdigit() is not compressed
    assert (len(payload) < size) is compressed
    cache = ResultCache(tmp_path / "store.sqlite")
    try:
        cache.put([(b"k" * 32, "map", "outputs", lambda: payload)])
        cache.flush()
        kind, kept = cache.get(b"k" * 32)
    finally:
        cache.close()
    assert kind == "outputs" and decode_outputs(kept) == (3, text)


def test_a_batch_beyond_what_one_statement_takes_is_kept_whole(tmp_path, monkeypatch):
    """SQLite before 3.32, still the system's on older clusters, takes 999 parameters a
    statement: a batch of 5,000 results needs several."""
    opened = writer_module.connect_again

    def old_sqlite(path):
        db = opened(path)
        if hasattr(db, "setlimit"):  # Python >= 3.11
            db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return db

    monkeypatch.setattr(writer_module, "connect_again", old_sqlite)
    keys = [i.to_bytes(32, "big") for i in range(5000)]
    cache = ResultCache(tmp_path / "store.sqlite")
    try:
        cache.put([(key, "calc", "annotation", key[-4:]) for key in keys])
        cache.flush()
        found = cache.get_many(keys)
    finally:
        cache.close()
    assert found == {key: ("annotation", key[-4:]) for key in keys}


# another wfl process's cache: results committed one at a time (as a batch task's are),
# with a pause between them
_OTHER_WRITER = """
import sys, time
from pathlib import Path
from wflcli.store.cache import ResultCache
warnings = []
cache = ResultCache(Path(sys.argv[1]), warn=warnings.append)
for i in range(int(sys.argv[2])):
    cache.put([(bytes([200 + i]) * 32, "calc", "annotation", b"theirs")], then=lambda: None)
    cache.flush()
    time.sleep(0.3)
cache.close()
print(warnings)
"""


def _other_writer(store, busy_timeout: str, commits: int = 1) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _OTHER_WRITER, str(store), str(commits)],
                          env=dict(os.environ, WFLCLI_BUSY_TIMEOUT=busy_timeout),
                          capture_output=True, text=True, timeout=60)


def test_a_busy_writer_leaves_other_processes_their_turn(tmp_path):
    """Results put every 20 ms by this process; another process's commits, one at a time,
    each get in within a 1 s busy timeout (a pipeline's stages share the store)."""
    store = tmp_path / "store.sqlite"
    cache = ResultCache(store)
    stop = threading.Event()

    def busy() -> None:
        n = 0
        while not stop.is_set():
            cache.put([(n.to_bytes(32, "big"), "map", "outputs", b"1\nours")])
            n += 1
            time.sleep(0.02)

    putter = threading.Thread(target=busy)
    putter.start()
    try:
        time.sleep(0.5)
        other = _other_writer(store, "1", commits=4)
    finally:
        stop.set()
        putter.join()
        cache.close()
    assert other.returncode == 0 and other.stdout.strip() == "[]", other.stdout + other.stderr
    check = ResultCache(store)
    try:
        assert check.get(bytes([203]) * 32) == ("annotation", b"theirs")
    finally:
        check.close()


def test_a_result_that_cannot_be_made_stops_the_caching_and_keeps_what_was_kept(tmp_path):
    """A payload that fails as it is made stops the caching, with one warning; results
    committed before stay, and the store is left to others."""
    store = tmp_path / "store.sqlite"
    warnings = []
    cache = ResultCache(store, warn=warnings.append)
    try:
        cache.put([(b"a" * 32, "map", "outputs", b"1\nfine")], then=lambda: None)
        cache.flush()

        def broken() -> bytes:
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

        cache.put([(b"c" * 32, "map", "outputs", broken)], then=lambda: None)
        cache.put([(b"d" * 32, "map", "outputs", b"1\nafter")], then=lambda: None)
        cache.flush()
        assert cache.get_many([b"a" * 32, b"c" * 32, b"d" * 32]) == {
            b"a" * 32: ("outputs", b"1\nfine")}
        other = _other_writer(store, "1")
        assert other.returncode == 0 and other.stdout.strip() == "[]", other.stderr
    finally:
        cache.close()
    assert len(warnings) == 1 and "results are not cached from here on" in warnings[0]
    assert "surrogates not allowed" in warnings[0]
