"""When an output is pushed config by config: a FIFO (read as it is written) gets each
config at its flush; a temporary file nobody reads yet is written in buffer-sized pieces;
a gzip output keeps its per-config sync flushes, so its bytes stay those of earlier runs."""

from __future__ import annotations

import gzip
import io
import os
import threading

from wflcli.io.output import open_output

FRAME = '1\nProperties=species:S:1:pos:R:3 pbc="F F F"\nCu 0.0 0.0 0.0\n'


def test_a_fifo_gets_each_config_at_its_flush(tmp_path):
    path = tmp_path / "out.xyz"
    os.mkfifo(path)
    first: list[bytes] = []
    got_first = threading.Event()

    def read():
        with open(path, "rb") as stream:
            first.append(stream.read(len(FRAME)))
            got_first.set()
            first.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with open_output(str(path), io.BytesIO()) as sink:
        sink.write(FRAME)
        sink.flush()
        assert got_first.wait(10), "the first config did not arrive before the second"
        sink.write(FRAME)
        sink.flush()
    reader.join(10)
    assert b"".join(first) == FRAME.encode() * 2


def test_a_file_output_is_not_written_a_config_at_a_time(tmp_path):
    path = tmp_path / "out.xyz"
    with open_output(str(path), io.BytesIO()) as sink:
        for _ in range(20):  # 1 kB, less than a buffer
            sink.write(FRAME)
            sink.flush()
        [part] = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert part.stat().st_size == 0  # all still in the buffer
    assert path.read_text() == FRAME * 20
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_gzip_output_keeps_a_sync_flush_a_config(tmp_path):
    path = tmp_path / "out.xyz.gz"
    with open_output(str(path), io.BytesIO()) as sink:
        for _ in range(3):
            sink.write(FRAME)
            sink.flush()
    expected = io.BytesIO()
    with gzip.GzipFile(fileobj=expected, mode="wb", mtime=0) as packed:
        for _ in range(3):
            packed.write(FRAME.encode())
            packed.flush()
    assert path.read_bytes() == expected.getvalue()
