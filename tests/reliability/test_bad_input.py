"""More malformed and strange extxyz (tests/test_io_malformed.py has the first 24 cases),
and a fuzz test of the reader. The only outcomes allowed: the input is read correctly, or
one error line naming the file and the line, exit code 1, no output, no traceback."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers_data import read_text

HEAD = b"Properties=species:S:1:pos:R:3"
GOOD = b'2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 pbc="T T T"\n' \
       b"H 0 0 0\nH 0 0 0.74\n"

# (case, content, None if it must be read, else (line, words of the error))
CASES = [
    ("NaN position", b"1\n" + HEAD + b"\nH nan 0 0\n", None),
    ("infinite position", b"1\n" + HEAD + b"\nH inf 0 -inf\n", None),
    ("number too big for a float", b"1\n" + HEAD + b"\nH 1e400 0 0\n", None),
    ("unicode in an info value", "1\nname=\"héllo ✓ 水\" ".encode() + HEAD + b"\nH 0 0 0\n",
     None),
    ("CRLF line ends", (b"1\r\n" + HEAD + b"\r\nH 0 0 1\r\n"), None),
    ("frame with no atoms", b"0\nx=1\n" + GOOD, None),
    ("no newline at the end", GOOD[:-1], None),
    ("tabs between columns", b"1\n" + HEAD + b"\nH\t0\t0\t1\n", None),
    ("a very long comment line", b"1\nnote=" + b"x" * 200_000 + b" " + HEAD + b"\nH 0 0 0\n",
     None),
    ("truncated last frame after good ones", GOOD * 3 + GOOD[:30], (14, "declares 2 atoms")),
    ("duplicated property names", b"1\nProperties=species:S:1:pos:R:3:pos:R:3\nH 0 0 0 0 0 0\n",
     (2, "Properties")),
    ("Lattice with a word", b'1\nLattice="5 0 0 0 five 0 0 0 5" ' + HEAD + b"\nH 0 0 0\n",
     (2, "Lattice")),
    ("Fortran double exponent", b"1\n" + HEAD + b"\nH 1d0 0 0\n", (3, "not a real number")),
    ("NUL byte in the comment line", b"1\nx=1\x00 " + HEAD + b"\nH 0 0 0\n", (2, "")),
    ("binary garbage after a good frame", GOOD + b"\x89PNG\r\n\x1a\n\x00\x00", (5, "")),
    ("atom count with a sign and text", b"+2 atoms\n" + HEAD + b"\nH 0 0 0\nH 0 0 1\n",
     (1, "number of atoms")),
    # found by the fuzz test below: \x1c is white space to str.split (and to ASE), so the
    # line has 3 values, not 4
    ("\\x1c in place of a species (fuzz find)", GOOD[:81] + b"\x1c" + GOOD[82:],
     (4, "expected 4 columns")),
    ("old Mac line ends (CR only)", GOOD.replace(b"\n", b"\r") * 2, None),
    ("rows of 5 and 3 values: the right total, re-flowed before",
     b"2\n" + HEAD + b"\nH 0 0 0 H\n0 0 1\n", (3, "found 5")),
    ("a blank line inside the atoms", b"3\n" + HEAD + b"\nH 0 0 0\n\nH 0 0 1\n",
     (4, "found 0")),
    ("Z of -1 (was written as Og)", b"1\nProperties=Z:I:1:pos:R:3\n-1 0 0 0\n",
     (3, "not an atomic number")),
    ("Z of 200", b"2\nProperties=Z:I:1:pos:R:3\n1 0 0 0\n200 0 0 0\n",
     (4, "not an atomic number")),
    ("Z as a real column", b"1\nProperties=Z:R:1:pos:R:3\n1.0 0 0 0\n", (2, "Z:I:1")),
    ("species as 2 columns", b"1\nProperties=species:S:2:pos:R:3\nH H 0 0 0\n",
     (2, "species:S:1")),
    ("periodic with no Lattice (NaN forces before)", b'1\npbc="T T T" ' + HEAD + b"\nH 0 0 0\n",
     (2, "no cell vector")),
    ("periodic along a zero Lattice vector",
     b'1\nLattice="5 0 0 0 0 0 0 0 5" ' + HEAD + b"\nH 0 0 0\n", (2, "periodic along b")),
    ("an empty Lattice (\\x1c after the =, found by fuzzing)",
     b'1\nLattice=\x1c"5 0 0 0 5 0 0 0 5" ' + HEAD + b"\nH 0 0 0\n", (2, "Lattice must be 9")),
    ("ragged _JSON array", b'1\nx="_JSON [[1, 2], [3]]" ' + HEAD + b"\nH 0 0 0\n",
     (2, "ragged")),
    ("_JSON 100 deep, beyond numpy's 64 dimensions",
     b'1\nx="_JSON ' + b"[" * 100 + b"1" + b"]" * 100 + b'" ' + HEAD + b"\nH 0 0 0\n",
     (2, "no array numpy can make")),
    ("_JSON nested 100000 deep",
     b'1\nx="_JSON ' + b"[" * 100_000 + b'" ' + HEAD + b"\nH 0 0 0\n", (2, "_JSON")),
    ("integer column beyond int64", b"1\n" + HEAD + b":n:I:1\nH 0 0 0 99999999999999999999\n",
     (3, "64-bit")),
    ("VEC lines out of order", b"1\nplain\nH 0 0 0\nVEC2 5 0 0\n", (4, "expected VEC1")),
    ("a VEC line with 2 numbers", b"1\nplain\nH 0 0 0\nVEC1 5 0\n", (4, "3 real numbers")),
    ("four VEC lines", b"1\nplain\nH 0 0 0\nVEC1 5 0 0\nVEC2 0 5 0\nVEC3 0 0 5\nVEC4 1 1 1\n",
     (7, "more than 3")),
]


@pytest.mark.parametrize("case, content, error", CASES, ids=[c[0] for c in CASES])
def test_strange_input_is_read_or_refused_clearly(wfl, tmp_path, case, content, error):
    source = tmp_path / "odd.xyz"
    source.write_bytes(content)
    out = tmp_path / "out.xyz"
    done = wfl("cat", source, "-o", out)
    if error is None:
        assert done.code == 0, done.stderr
        configs = read_text(out.read_bytes())
        assert configs and done.stderr == ""
        if case == "NaN position":
            assert math.isnan(configs[0].positions[0, 0])
        if case == "unicode in an info value":
            assert configs[0].info["name"] == "héllo ✓ 水"
        return
    line, words = error
    assert done.code == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{source}:{line}:" in done.stderr and words in done.stderr, done.stderr
    assert not out.exists()


def test_the_two_corpora_hold_at_least_thirty_cases():
    from test_io_malformed import CASES as FIRST

    assert len(FIRST) + len(CASES) >= 30


def _mutations():
    """A valid file with bytes replaced, removed or inserted at random places."""
    edit = st.tuples(st.sampled_from(["replace", "delete", "insert"]),
                     st.integers(0, 3 * len(GOOD) - 1), st.binary(min_size=1, max_size=4))
    return st.lists(edit, min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(edits=_mutations())
def test_fuzzed_input_is_read_or_refused_clearly(wfl, edits):
    data = bytearray(GOOD * 3)
    for kind, where, blob in edits:
        where %= max(len(data), 1)
        if kind == "replace":
            data[where:where + len(blob)] = blob
        elif kind == "delete":
            del data[where:where + len(blob)]
        else:
            data[where:where] = blob
    done = wfl("cat", input=bytes(data))
    assert done.code in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    if done.code == 1:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wfl: error: <stdin>:"), lines
    else:
        read_text(done.stdout)  # what was written can be read back


@pytest.mark.parametrize("args, words", [
    (["--parallel", "0", "cat"], "--parallel"),
    (["--per-job", "-5", "calc", "--calc", "emt"], "--per-job"),
    (["--chunk", "many", "cat"], "--chunk"),
    (["calc", "--calc", "emt", "--calc-kwargs", "{not json"], "--calc-kwargs"),
    (["calc", "--calc", "emt:asap_cutoff=maybe"], "asap_cutoff"),
    (["md", "--calc", "emt", "--steps", "-1"], "--steps"),
    (["--remote", "here", "--time", "1:99:00", "calc", "--calc", "emt"], "walltime"),
    (["select-cur", "-n", "zero"], "-n"),
    (["cat", "-f", "nosuchformat"], "-f nosuchformat: not a format"),  # was an internal error
    (["cat", "-f", "png"], "-f png: not a format ASE can read"),
])
def test_bad_option_values_are_usage_errors(wfl, tmp_path, args, words):
    (tmp_path / "in.xyz").write_bytes(GOOD)
    from helpers_remote import system_toml, write_config

    write_config(system_toml("here", "local", tmp_path / "runs", ssh=False))
    done = wfl(*args, tmp_path / "in.xyz")
    assert done.code == 2, done.stderr
    assert "Traceback" not in done.stderr and words in done.stderr, done.stderr
