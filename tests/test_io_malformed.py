"""Malformed input: one line naming file and line, exit code 1, no traceback, no output file."""

from __future__ import annotations

import pytest

GOOD = '2\nProperties=species:S:1:pos:R:3 pbc="F F F"\nH 0 0 0\nH 0 0 0.74\n'

# (case, file content, line the error must name, words the message must contain)
CASES = [
    ("wrong atom count: too few lines", b'3\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0 1\n', 4,
     "declares 3 atoms"),
    ("atom count is not a number", b"two\nProperties=species:S:1:pos:R:3\nH 0 0 0\n", 1,
     "number of atoms"),
    ("negative atom count", b"-1\nx=1\n", 1, "negative"),
    ("too many atom lines for the count", GOOD.encode() + b"H 0 0 2\n", 5, "number of atoms"),
    ("bad Lattice", b'1\nLattice="1 0 0 0 1 0" Properties=species:S:1:pos:R:3\nH 0 0 0\n', 2,
     "Lattice must be 9 numbers"),
    ("non-numeric Lattice", b'1\nLattice="a b c d e f g h i"\nH 0 0 0\n', 2, "Lattice"),
    ("non-numeric position", b"2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 zero 0\n", 4,
     "'zero' is not a real number"),
    ("missing column", b"2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0 0\n", 4,
     "expected 4 columns"),
    ("bad Properties type", b"1\nProperties=species:S:1:pos:X:3\nH 0 0 0\n", 2, "Properties"),
    ("Properties without positions", b"1\nProperties=species:S:1\nH\n", 2, "pos:R:3"),
    ("unknown element", b"1\nProperties=species:S:1:pos:R:3\nXq 0 0 0\n", 3, "unknown element"),
    ("species of numbers", b"1\nProperties=species:I:1:pos:R:3\n1 0 0 0\n", 2,
     "species must be one text column"),
    ("species of two words", b"1\nProperties=species:S:2:pos:R:3\nH H 0 0 0\n", 2,
     "species must be one text column"),
    ("truncated frame", GOOD.encode()[:-12], 3, "declares 2 atoms but the input ends after 1"),
    ("missing comment line", b"2\n", 2, "ends before its comment line"),
    ("binary data", b"\x00\x01\x02binary\n\x89PNG\n", 1, "binary data"),
    ("invalid UTF-8", b"1\nname=\xff\xfe\nH 0 0 0\n", 2, "binary data"),
    ("NUL in atom line", b"1\nx=1\nH 0 0\x00 0\n", 3, "NUL"),
    ("unterminated quote", b'1\nname="abc Properties=species:S:1:pos:R:3\nH 0 0 0\n', 2,
     "unterminated"),
    ("duplicated key", b"1\nx=1 x=2\nH 0 0 0\n", 2, "appears twice"),
    ("bad integer column", b"1\nProperties=species:S:1:pos:R:3:n:I:1\nH 0 0 0 1.5\n", 3,
     "not an integer"),
    ("bad logical column", b"1\nProperties=species:S:1:pos:R:3:m:L:1\nH 0 0 0 maybe\n", 3,
     "T or F"),
    ("bad _JSON", b'1\nx="_JSON {oops"\nH 0 0 0\n', 2, "_JSON"),
    ("bad pbc", b'1\npbc="T T"\nH 0 0 0\n', 2, "cannot make a configuration"),
    ("empty input", b"", None, "no configurations"),
    ("only blank lines", b"\n\n  \n", None, "no configurations"),
]


@pytest.mark.parametrize("case,content,line,words", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_gives_one_clear_line(wfl, tmp_path, case, content, line, words):
    src = tmp_path / "bad.xyz"
    src.write_bytes(content)
    out = tmp_path / "out.xyz"
    result = wfl("calc", "--calc", "emt", src, "-o", out)
    assert result.code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    location = f"{src}:{line}:" if line else f"{src}:"
    assert location in result.stderr and words in result.stderr, result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.xyz"]  # no temporary file left


def test_error_on_stdin_names_stdin(wfl):
    result = wfl("calc", "--calc", "emt", input=b"1\nx=1\nH 0 nan? 0\n")
    assert result.code == 1
    assert "<stdin>:3:" in result.stderr


def test_a_bad_frame_after_good_ones_leaves_the_old_output_intact(wfl, tmp_path):
    src = tmp_path / "in.xyz"
    out = tmp_path / "out.xyz"
    out.write_text("previous result\n")
    src.write_text(GOOD * 3 + "1\nx=1\nH 0 0\n")
    result = wfl("calc", "--calc", "emt", src, "-o", out)
    assert result.code == 1 and f"{src}:15:" in result.stderr
    assert out.read_text() == "previous result\n"


def test_missing_file(wfl, tmp_path):
    result = wfl("calc", "--calc", "emt", tmp_path / "nope.xyz")
    assert result.code == 1 and "nope.xyz: no such file" in result.stderr


def test_verbose_shows_the_traceback(wfl, tmp_path):
    src = tmp_path / "bad.xyz"
    src.write_bytes(b"x\n")
    result = wfl("-v", "calc", "--calc", "emt", src)
    assert result.code == 1 and "Traceback" in result.stderr


def test_compressed_inputs_and_a_corrupt_one(wfl, tmp_path):
    import gzip

    (tmp_path / "good.xyz.gz").write_bytes(gzip.compress(GOOD.encode()))
    assert wfl("count", "--json", tmp_path / "good.xyz.gz").stdout.startswith('{"configs": 1')
    (tmp_path / "bad.xyz.gz").write_bytes(b"this is not gzip data\n")
    result = wfl("count", tmp_path / "bad.xyz.gz")
    assert result.code == 1 and "bad.xyz.gz: cannot read" in result.stderr
