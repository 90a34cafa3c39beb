"""What ASE's own reader makes of a text, ours makes too (line ends, VEC cell lines, info
values), and what we read we write back so that it reads again as the same values of the
same types."""

from __future__ import annotations

import io
import re

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.io.extxyz import key_val_str_to_dict
from helpers_data import _equal, assert_same_atoms
from helpers_wfl import wfl_argv, wfl_program
from hypothesis import given, settings
from hypothesis import strategies as st

from wflcli.io import keyvalue
from wflcli.io.keyvalue import CommentLineError, format_value, parse_comment_line
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config

FRAME = ('2\nLattice="5 0 0 0 6 0 0 0 7" Properties=species:S:1:pos:R:3 step=3 name="a b" '
         'pbc="T T F"\nH 0 0 0\nO 0 0 0.96\n')


def read_ours(data: bytes) -> list:
    return list(FrameReader(io.BytesIO(data), "t.xyz"))


def read_ase(data: bytes) -> list:
    return ase.io.read(io.StringIO(data.decode(), newline=None), ":", format="extxyz")


def same_type_and_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and _equal(a, b))
    return type(a) is type(b) and _equal(a, b)


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_line_ends_read_as_ase_reads_them(ending):
    data = FRAME.encode().replace(b"\n", ending) * 2
    ours, theirs = read_ours(data), read_ase(data)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert_same_atoms(a, b)


def test_cr_only_file_through_the_command(wfl, tmp_path):
    source = tmp_path / "mac.xyz"
    source.write_bytes(FRAME.encode().replace(b"\n", b"\r") * 3)
    done = wfl("count", "--json", source)
    assert done.code == 0 and done.stdout.startswith('{"configs": 3, "atoms": 6'), done.stderr


@pytest.mark.parametrize("vectors", [1, 2, 3])
def test_vec_cell_lines_read_as_ase_reads_them(vectors):
    rows = ["VEC1 5.0 0.0 0.0", "VEC2 0.5 6.0 0.0", "VEC3 0.0 0.0 7.0"][:vectors]
    data = ("2\nwater, a plain comment: not key=value\nH 0 0 0\nO 0 0 0.96\n"
            + "".join(r + "\n" for r in rows)).encode() * 2
    ours, theirs = read_ours(data), read_ase(data)
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        assert_same_atoms(a, b)
        assert a.pbc.tolist() == [True] * vectors + [False] * (3 - vectors)
        assert a.info == {"comment": "water, a plain comment: not key=value"}
    (again,) = read_ours(format_config(ours[0]).encode())
    assert_same_atoms(ours[0], again)


# comment-line values whose reading used to differ from ASE's, or change on a round trip
VALUES = [
    "1_000", "1_0.5", '"1_000 2"', "1.5_0", "1__0", "1_", "_1", "1e1_0",
    "99999999999999999999", '"1 99999999999999999999"', "-9223372036854775808",
    "9223372036854775808", '"T F"', '"true false T"', "T", '"_JSON [1]"', '"_JSON [1.5]"',
    '"_JSON [true]"', '"_JSON [true, false]"', '"_JSON 5"', '"_JSON 99999999999999999999"',
    '"_JSON [99999999999999999999]"', '"_JSON [\\"a\\", \\"b\\"]"', '"_JSON {\\"k\\": [1]}"',
    '"_JSON null"', '"_JSON []"', "1,2", '"1 2.5"', "Infinity", "-inf", "nAn", "١٢",
    '"T 1"', "0x10", "1e", '"_JSON \\"1_000\\""', "abc", '"a b"',
    # floats as JSON writes them (read by orjson), and near misses that are not
    "-0.0", "1.5", '"0.1 -0.0 1.5e-05"', '"1.0 2"', '"1.5, 2.5"', '"1.5 1_0.5"', "1.5.5",
    '"1.5 nan"', "1.e5", "01.5", '"1.5 [2.5]"', "5e-324", '"1.0 1e400"',
]


@pytest.mark.parametrize("text", VALUES)
def test_info_values_read_as_ase_reads_them_and_round_trip_exactly(text):
    line = f"a={text}"
    ours = parse_comment_line(line)["a"]
    assert same_type_and_value(ours, _native(key_val_str_to_dict(line)["a"])), ours
    again = parse_comment_line("a=" + format_value("a", ours))["a"]
    assert same_type_and_value(ours, again), (ours, again)


def _native(value):
    """ASE's numpy scalars as the Python scalars we give (the same numbers)."""
    return value.item() if isinstance(value, np.generic) else value


_WORDS = st.sampled_from(["1", "-2", "1_000", "3.5", "1e5", "nan", "inf", "T", "F", "true",
                          "x", "_JSON", "1_", ",", "99999999999999999999", "0.1"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=4))
def test_any_value_of_such_words_reads_as_in_ase_and_round_trips(words):
    line = 'a="' + " ".join(words) + '"'
    if not set(words) - {","}:
        return  # no value at all: see test_an_empty_value_stays_text
    try:
        theirs = _native(key_val_str_to_dict(line)["a"])
    except ValueError:
        with pytest.raises(CommentLineError):
            parse_comment_line(line)
        return
    ours = parse_comment_line(line)["a"]
    assert same_type_and_value(ours, theirs), (ours, theirs)
    again = parse_comment_line("a=" + format_value("a", ours))["a"]
    assert same_type_and_value(ours, again), (ours, again)


def test_a_frame_of_such_values_round_trips_through_our_writer_and_reads_so_in_ase():
    line = " ".join(f"k{i}={v}" for i, v in enumerate(VALUES))
    data = f"1\n{line} Properties=species:S:1:pos:R:3\nH 0 0 0\n".encode()
    (first,) = read_ours(data)
    written = format_config(first).encode()
    (again,) = read_ours(written)
    for key, value in first.info.items():
        assert same_type_and_value(value, again.info[key]), key
    (theirs,) = read_ase(written)
    for key, value in first.info.items():
        assert _equal(_native(theirs.info[key]), value), key


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab1.=" \t\\[', max_size=24))
def test_plain_lines_split_as_one_match_of_the_whole_line_splits_them(line):
    """The pair by pair split of a line of plain pairs is what matching the whole line
    (pairs, each followed by a gap or the end) and taking its pairs gives, and it refuses
    the lines such a match refuses."""
    line = line.strip()
    whole = re.fullmatch(rf"(?:{keyvalue._SIMPLE}(?:\s+|$))*", line)
    expected = [(k, (v1 or v2) if eq else "T")
                for k, eq, v1, v2 in re.findall(keyvalue._SIMPLE, line)] if whole else None
    assert keyvalue._simple_pairs(line) == expected


def test_an_empty_value_stays_text():
    """The one deliberate difference: ASE reads ``name=""`` as an empty integer array (and
    so cannot read back the empty string it wrote); an empty value is text here."""
    assert parse_comment_line('name="" other=","') == {"name": "", "other": ","}
    assert format_value("name", "") == '""'


@pytest.mark.parametrize("atoms, words", [
    (Atoms(numbers=[1, -1], positions=np.zeros((2, 3))), "no element"),
    (Atoms(numbers=[200], positions=np.zeros((1, 3))), "no element"),
    (Atoms("H", pbc=True), "no cell vector"),
    (Atoms("H", cell=[5, 5, 0], pbc=True), "periodic along c"),
])
def test_the_writer_refuses_what_the_reader_would_refuse(atoms, words):
    from wflcli.io.keyvalue import UnwritableValue

    with pytest.raises(UnwritableValue, match=words):
        format_config(atoms)


def test_a_ragged_list_in_info_is_refused_by_the_writer_too():
    from wflcli.io.keyvalue import UnwritableValue

    atoms = Atoms("H")
    atoms.info["neighbours"] = [[1, 2], [3]]
    with pytest.raises(UnwritableValue, match="ragged"):
        format_config(atoms)


def test_line_lists_end_lines_as_extxyz_does(tmp_path):
    """SMILES lists (``wfl smiles -f``) split lines by the same rule: CR-only files work
    and ``\\x1c`` is not a line end."""
    from wflcli.io.lines import named_lines

    source = tmp_path / "list.smi"
    source.write_bytes(b"CCO ethanol\rC\x1cmethane\r\nO water\n")
    assert list(named_lines([str(source)], None)) == [
        ("CCO", "ethanol"), ("C\x1cmethane", None), ("O", "water")]


def test_vec_lines_on_a_pipe_are_a_clear_error(tmp_path):
    """Reading ahead for VEC lines would hold each frame back on a pipe, so they are read
    from files only; on a pipe they are named."""
    import subprocess


    text = "1\nplain comment\nCu 0 0 0\nVEC1 3.6 0 0\nVEC2 0 3.6 0\nVEC3 0 0 3.6\n"
    (tmp_path / "vec.xyz").write_text(text)
    from_file = wfl_program("cat", str(tmp_path / "vec.xyz"), text=True, timeout=60)
    assert from_file.returncode == 0 and 'Lattice="3.6 0.0 0.0' in from_file.stdout
    piped = subprocess.Popen(wfl_argv("cat"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = piped.communicate("".join(text), timeout=60)
    assert piped.returncode == 1
    assert "<stdin>:4: VEC cell lines are read from files, not from a pipe" in err
