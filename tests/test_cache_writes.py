"""How the cache keeps what it is given: output texts compressed above a size and plain
below it, read back the same; a batch larger than one SQLite statement can hold."""

from __future__ import annotations

import sqlite3

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
