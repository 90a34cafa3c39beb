"""Adversarial checks of the reader's and writer's fast paths on generated frames: each must
give exactly what the slow reference gives.

The reference for a frame is the reader's general path (the frame's Atoms, made in full)
and ``format_config`` of that; for ``filter``, the expression evaluated on those Atoms. The
fast paths are those a verb takes: ``Frame.check`` then ``text`` (the proved input text),
``info_of``, ``column``, and ``verbs.filter.judged``. Frames are written by wfl, by ASE
(which rounds) and then edited as a person might (extra spaces, ``1.50``, ``1E-05``, tabs,
CRLF). Several frames share one stream, so that the shape one frame proves is used on the
next ones, whose values differ.
"""

from __future__ import annotations

import io
import math
import struct

import ase.io
import numpy as np
import pytest
from ase import Atoms
from helpers_data import identical
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wflcli.errors import WflError
from wflcli.io import canonical, floats, keyvalue, writer
from wflcli.io.floats import all_own_repr, float_rows, float_texts, parse_floats
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config
from wflcli.verbs.expression import Expression, MissingName
from wflcli.verbs.filter import Tally, judged

EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
         1e-4, -1e-4, 9.999999999999999e-05, 1.0000000000000002e-4, 1e-5, 1.5e-5, 1e16,
         -1e16, 9999999999999998.0, 1.0000000000000002e16, 1e15, 1e22, 0.1, 1 / 3, 0.5,
         1.5, 100.0, 10.00001, 1.00001e-3, float("nan"), float("inf"), -float("inf")]
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in det")  # volume of a
# cell of 1e300 lengths: inf, in the reference as in the fast path
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

floats_any = st.one_of(st.sampled_from(EDGES), st.floats(), st.floats(width=32),
                       st.builds(lambda m, e: m * 10.0 ** e, st.floats(-10, 10),
                                 st.integers(-30, 30)),
                       st.integers(-10 ** 6, 10 ** 6).map(lambda i: i / 100))
finite = floats_any.filter(math.isfinite)
ints_any = st.one_of(st.sampled_from([0, -1, 1, 2 ** 63 - 1, -2 ** 63, 10 ** 17, 10 ** 18,
                                      -(10 ** 17), 2 ** 63, 10 ** 19]),
                     st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-100, 100))
text_any = st.one_of(
    st.sampled_from(["1.5", "-0", "0", "T", "F", "True", "nan", "1e5", "a b", 'q"uote',
                     "back\\slash", "x=y", "{}", "[1]", "1 2", "T F", "1.5 x", "x 1.5",
                     "x 0", "_JSON 1", "", " ", "uid", "é", "1_0", "a\tb", "0.0"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r\x00\x85\u2028\u2029"),
            max_size=8))
keys = st.one_of(st.sampled_from(["energy", "e", "n", "uid", "UID", "virial", "stress",
                                  "1", "2.5", "-0", "0.0", "T", "a b", 'k"q', "x=y", "é",
                                  "nan", "natoms", "formula", "volume", "symbols",
                                  "wfl_error", "config_type", "1 2", "3 4", "x 1.5",
                                  "0.5 y", "-7 z", "forces", "tags"]),
                 st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))
INFO_KINDS = ["int", "float", "bool", "str", "vec3", "vec9", "ints", "bools", "strs",
              "floats", "mat33"]
ARRAY_KINDS = ["R", "I", "L", "S"]
SPECIAL = {"virial", "stress"}
SPECIES = ["H", "X", "He", "C", "O", "Cu", "Og", "Zn"]


def _info_value(draw, kind):
    if kind == "int":
        return draw(ints_any)
    if kind == "float":
        return draw(floats_any)
    if kind == "bool":
        return draw(st.booleans())
    if kind == "str":
        return draw(text_any)
    if kind in ("vec3", "vec9", "floats"):
        size = {"vec3": 3, "vec9": 9}.get(kind) or draw(st.integers(1, 5))
        return np.array(draw(st.lists(floats_any, min_size=size, max_size=size)))
    if kind == "mat33":
        return np.array(draw(st.lists(finite, min_size=9, max_size=9))).reshape(3, 3)
    if kind == "ints":
        return np.array(draw(st.lists(st.integers(-2 ** 63, 2 ** 63 - 1), min_size=1,
                                      max_size=4)), dtype=np.int64)
    if kind == "bools":
        return draw(st.lists(st.booleans(), min_size=2, max_size=4))
    return draw(st.lists(text_any, min_size=1, max_size=3))


def _array_values(draw, kind, natoms, width):
    shape = (natoms,) if width == 1 else (natoms, width)
    count = natoms * width
    if kind == "R":
        values = draw(st.lists(floats_any, min_size=count, max_size=count))
        return np.array(values, dtype=np.float64).reshape(shape)
    if kind == "I":
        values = draw(st.lists(ints_any.filter(lambda i: -2 ** 63 <= i < 2 ** 63),
                               min_size=count, max_size=count))
        return np.array(values, dtype=np.int64).reshape(shape)
    if kind == "L":
        return np.array(draw(st.lists(st.booleans(), min_size=count, max_size=count)),
                        dtype=bool).reshape(shape)
    words = st.from_regex(r"[!-~]{1,4}", fullmatch=True)
    return np.array(draw(st.lists(words, min_size=count, max_size=count))).reshape(shape)


@st.composite
def schemas(draw):
    """What frames of one stream share: info keys and kinds, arrays, whether a cell."""
    info = draw(st.dictionaries(keys, st.sampled_from(INFO_KINDS), max_size=5))
    for key in SPECIAL & info.keys():  # mostly what reads back, now and then what does not
        info[key] = draw(st.sampled_from(["mat33", "vec9", "mat33", "vec9", "int"]))
    names = st.one_of(st.sampled_from(["forces", "charge", "m", "F", "tags", "natoms", "mag mom", "a:b",
                                                  "volume", "energy", "n"]),
                      st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,4}", fullmatch=True))
    arrays = draw(st.dictionaries(names, st.tuples(st.sampled_from(ARRAY_KINDS),
                                                   st.integers(1, 3)), max_size=3))
    arrays = {k: v for k, v in arrays.items()
              if k not in ("species", "pos", "Z", "numbers", "positions", "symbols",
                           "move_mask")}
    return info, arrays, draw(st.sampled_from(["none", "full", "partial", "zero"]))


@st.composite
def configs(draw, schema):
    info_kinds, array_kinds, cell_kind = schema
    natoms = draw(st.integers(0, 20 if draw(st.booleans()) else 3))
    symbols = draw(st.lists(st.sampled_from(SPECIES), min_size=natoms, max_size=natoms))
    positions = np.array(draw(st.lists(finite, min_size=3 * natoms, max_size=3 * natoms)),
                         dtype=float).reshape(natoms, 3)
    atoms = Atoms(symbols=symbols, positions=positions)
    if cell_kind == "full":
        atoms.cell = np.array(draw(st.lists(finite, min_size=9, max_size=9))).reshape(3, 3)
        atoms.pbc = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    elif cell_kind == "partial":
        atoms.cell = [draw(finite), draw(finite), 0.0]
        atoms.pbc = [True, True, False]
    elif cell_kind == "zero":
        atoms.pbc = [False, False, False]
    for key, kind in info_kinds.items():
        atoms.info[key] = _info_value(draw, kind)
    for key, (kind, width) in array_kinds.items():
        atoms.arrays[key] = _array_values(draw, kind, natoms, width)
    return atoms


def _written(atoms) -> str | None:
    try:
        return format_config(atoms)
    except WflError:
        return None


def _ase_written(atoms) -> str | None:
    out = io.StringIO()
    try:
        ase.io.write(out, atoms, format="extxyz")
    except Exception:  # noqa: BLE001 - ASE refuses many values; those are not inputs here
        return None
    return out.getvalue()


EDITS = ["none", "spaces", "tabs", "crlf", "trailing_zero", "capital_e", "lead_space",
         "plus", "blank_between"]


def _edited(text: str, edit: str) -> str:
    if edit == "spaces":
        return text.replace(" ", "  ", 3)
    if edit == "tabs":
        return text.replace(" ", "\t", 2)
    if edit == "crlf":
        return text.replace("\n", "\r\n")
    if edit == "trailing_zero":
        return text.replace(".5 ", ".50 ", 2).replace(".5\n", ".50\n", 1)
    if edit == "capital_e":
        return text.replace("e-", "E-", 2)
    if edit == "lead_space":
        return "\n".join(" " + line if i % 5 == 2 else line
                         for i, line in enumerate(text.split("\n")))
    if edit == "plus":
        return text.replace(" 0.", " +0.", 1)
    if edit == "blank_between":
        return text + "\n"
    return text


@st.composite
def streams(draw):
    """A stream of 1..5 frames of one schema, each written by wfl or ASE and perhaps
    edited."""
    schema = draw(schemas())
    texts = []
    for _ in range(draw(st.integers(1, 5))):
        atoms = draw(configs(schema))
        by_ase = len(atoms) > 0 and draw(st.integers(0, 4)) == 0  # ASE: 0 atoms as species:R
        text = _ase_written(atoms) if by_ase else _written(atoms)
        assume(text is not None)
        edit = draw(st.sampled_from(EDITS)) if draw(st.integers(0, 3)) == 0 else "none"
        texts.append(_edited(text, edit))
    return "".join(texts).encode("utf-8")


SWAPS = ["0", "7", "-3", "999999999999999999", "1000000000000000000", "-0", "00", "0.0",
         "-0.0", "1.5", "1.50", "2.5", "1e+16", "1e16", "5e-324", "0.0001", "1e-05", "nan",
         "9999999999999998.0", "123456789012345678901234", "T"]


@st.composite
def swapped_streams(draw):
    """Frames of one wfl-written frame whose comment-line numbers are swapped for others,
    of the same class or not (or others of the line), in values, vectors, strings and
    keys: lines of one shape with every value the prover must tell apart."""
    atoms = draw(configs(draw(schemas())))
    text = _written(atoms)
    assume(text is not None and len(atoms) > 0)
    count, comment, rows = text.split("\n", 2)
    frames = [text]
    own = [found.group(0)[1:] for found in canonical._NUMBER.finditer(comment + "\n")]
    pool = st.sampled_from(SWAPS + own) if own else st.sampled_from(SWAPS)
    for _ in range(draw(st.integers(1, 4))):
        def swap(match):
            if draw(st.booleans()):
                return match.group(0)
            return match.group(1) + draw(pool)
        frames.append(f"{count}\n{canonical._NUMBER.sub(swap, comment + chr(10))}{rows}")
    return "".join(frames).encode("utf-8")


def _frames(data: bytes) -> list:
    return list(FrameReader(io.BytesIO(data), "t.xyz").frames())


def _reference(data: bytes):
    """The Atoms of each frame (the general path), or the error reading stops at."""
    frames, atoms = _frames(data), []
    try:
        for frame in frames:
            atoms.append(frame.atoms)
    except WflError as exc:
        return atoms, str(exc)
    return atoms, None


@pytest.mark.slow
@SETTINGS
@given(st.one_of(streams(), swapped_streams()), st.data())
def test_fast_paths_give_what_the_full_parse_gives(data, draw):
    """cat's text, info_of, info and column of each frame are those of its Atoms."""
    expected, error = _reference(data)
    frames = _frames(data)
    for index, frame in enumerate(frames):
        if index == len(expected):  # the reference stops here: so must the fast path
            with pytest.raises(WflError) as raised:
                frame.check()
                frame.text  # noqa: B018
            assert str(raised.value) == error
            return
        atoms = expected[index]
        wanted = frozenset(draw.draw(st.sets(st.sampled_from(
            [*atoms.info, "absent", "Lattice", "pbc", "Properties", "wfl_error"]))))
        frame.check()
        assert identical(frame.info_of(wanted),
                          {k: v for k, v in atoms.info.items() if k in wanted}), wanted
        for name in [*atoms.arrays, "absent", "species", "pos"]:
            column = frame.column(name)
            if column is not None:
                assert name in atoms.arrays and identical(column, atoms.arrays[name]), name
        assert frame.text == format_config(atoms), index
        assert identical(frame.info, atoms.info)


DUPLICATED = ('1\nProperties=species:S:1:pos:R:3 "1 2"=5 "3 4"=6 pbc="F F F"\nH 0.0 0.0 0.0\n'
              '1\nProperties=species:S:1:pos:R:3 "1 2"=5 "1 2"=6 pbc="F F F"\nH 0.0 0.0 0.0\n')


def test_a_key_named_twice_is_refused_though_its_shape_was_proved(wfl, tmp_path):
    """Found here: keys holding numbers ("1 2") made lines of one shape with other keys,
    so the second frame, which names a key twice, was passed on unread."""
    _, error = _reference(DUPLICATED.encode())
    assert error == "t.xyz:5: key '1 2' appears twice in the comment line"
    first, second = _frames(DUPLICATED.encode())
    first.check()
    with pytest.raises(WflError, match="appears twice"):
        second.check()
    source = tmp_path / "twice.xyz"
    source.write_text(DUPLICATED)
    done = wfl("cat", source)
    assert done.code == 1 and "twice.xyz:5: key '1 2' appears twice" in done.stderr
    assert done.stdout == DUPLICATED[:DUPLICATED.index("1\n", 1)]  # the frame before it


def _expressions(atoms_list) -> list[str]:
    """Expressions over the names the frames have (and some they lack)."""
    names = {k for atoms in atoms_list for k in [*atoms.info, *atoms.arrays]
             if k.isidentifier() and not k.startswith("__")}
    found = ["natoms > 3", "natoms == 0", "formula == 'H2'", "'X' in symbols",
             "volume > 1", "volume != volume", "missing > 0", "natoms > 2 or missing"]
    for name in sorted(names):
        found += [f"{name} > 0", f"{name} == {name}", f"{name} != {name}",
                  f"max({name}) < 1e-4", f"{name} == 0", f"abs({name}) >= 1e16",
                  f"{name} == 'x 1.5'", f"len({name}) == 3", f"{name} and natoms < 5"]
    return found


@pytest.mark.slow
@SETTINGS
@given(st.one_of(streams(), swapped_streams()))
def test_filter_keeps_what_the_atoms_say(data):
    """judged (the fast filter) keeps exactly the frames whose Atoms match, and fails
    where evaluating on the Atoms fails."""
    expected, error = _reference(data)
    assume(error is None)
    for text in _expressions(expected):
        expression = Expression(text)
        reference = _reference_keeps(expression, expected)
        got = []
        try:
            for _, _, keep in judged(_frames(data), expression, False, Tally()):
                got.append(keep)
        except WflError:
            got.append("error")
        assert got == reference, text


def _reference_keeps(expression, atoms_list) -> list:
    """For each config, whether the filter keeps it judged on its Atoms; "error" where
    evaluating fails (and filtering stops)."""
    kept = []
    for atoms in atoms_list:
        if "wfl_error" in atoms.info:
            kept.append(True)
            continue
        try:
            kept.append(expression.matches(atoms))
        except MissingName:
            kept.append(False)
        except (TypeError, ValueError, IndexError, ArithmeticError):
            kept.append("error")
            break
    return kept


@pytest.mark.slow
@settings(SETTINGS, max_examples=200,
          suppress_health_check=[*SETTINGS.suppress_health_check,
                                 HealthCheck.function_scoped_fixture])
@given(data=streams(), pick=st.integers(0, 10 ** 6))
def test_cat_and_filter_write_what_the_reference_writes(wfl, data, pick):
    """The commands themselves: ``wfl cat`` writes format_config of each frame as the
    reference reads it, ``wfl filter`` the frames the reference keeps; a bad frame stops
    both where the reference stops, with its message."""
    expected, error = _reference(data)
    written = [format_config(atoms) for atoms in expected]
    done = wfl("cat", "-", input=data)
    assert done.stdout == "".join(written)
    if error is None:
        assert done.code == 0, done.stderr
    else:
        assert done.code == 1 and error.split(": ", 1)[1] in done.stderr
        return
    texts = _expressions(expected)
    text = texts[pick % len(texts)]
    kept = _reference_keeps(Expression(text), expected)
    done = wfl("filter", text, "-", input=data)
    assert done.stdout == "".join(w for w, keep in zip(written, kept) if keep is True), text
    failed = any("wfl_error" in atoms.info for atoms in expected[:len(kept)])
    assert done.code == (1 if "error" in kept else 3 if failed else 0), (text, done.stderr)


def _repr_texts(values):
    return list(map(float.__repr__, values))


def _repr_rows(rows):
    return [" ".join(map(float.__repr__, row)) for row in rows]


@SETTINGS
@given(st.data())
def test_writer_is_the_repr_formatting(draw):
    """format_config gives what it gave when every float was written by repr one by one
    (the writer before io/floats.py)."""
    atoms = draw.draw(configs(draw.draw(schemas())))
    got = _written(atoms)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(writer, "float_rows", _repr_rows)
        mp.setattr(writer, "float_texts", _repr_texts)
        mp.setattr(keyvalue, "float_texts", _repr_texts)
        assert _written(atoms) == got
    finally:
        mp.undo()


float_lists = st.lists(floats_any, min_size=1, max_size=40)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(float_lists, st.integers(1, 9))
def test_float_text_is_repr_and_reads_back_as_float(values, width):
    texts = list(map(float.__repr__, values))
    assert float_texts(values) == texts
    rows = [values[i:i + width] for i in range(0, len(values) - width + 1, width)]
    if rows:
        assert float_rows(rows) == _repr_rows(rows)
    parsed = parse_floats(texts)
    if parsed is not None:
        assert [struct.pack("<d", v) for v in parsed] == \
            [struct.pack("<d", float(t)) for t in texts]
    assert all_own_repr(texts)


float_tokens = st.one_of(
    floats_any.map(float.__repr__),
    st.from_regex(r"[-+]?[0-9]{0,20}(\.[0-9]{0,20})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["1.50", "1E-05", "-0", "0", "nan", "inf", "-0.0", "1.", ".5", "1,5",
                     "[1.5]", "1.5]", "[1.5", '"1.5"', "1_0.5", "0x1p3", "1e400", "١.٥"]))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(float_tokens, min_size=1, max_size=12))
def test_float_parse_and_own_repr_are_pythons(tokens):
    """parse_floats gives float()'s bits or leaves the tokens to the caller; all_own_repr
    says what repr(float(t)) == t says."""
    parsed = parse_floats(tokens)
    try:
        python = [float(t) for t in tokens]
    except ValueError:
        python = None
    if parsed is not None:
        assert python is not None
        assert [struct.pack("<d", v) for v in parsed] == \
            [struct.pack("<d", v) for v in python]
    try:
        own = all(float.__repr__(float(t)) == t for t in tokens)
    except ValueError:
        own = False
    assert all_own_repr(tokens) == own
    assert floats._agrees()


@SETTINGS
@given(st.lists(st.lists(floats_any, min_size=9, max_size=9), min_size=1, max_size=6),
       st.booleans())
def test_a_remembered_lattice_is_the_text_of_that_cell(cells, negate_zeros):
    """The Lattice text the writer remembers per cell is what formatting that cell gives,
    for each cell of a run in turn (0.0 and -0.0, NaNs and repeats among them)."""
    if negate_zeros:  # the same values but for the sign of a zero: another text
        cells = cells + [[-v if v == 0 else v for v in cell] for cell in cells]
    for values in cells + cells:
        cell = np.array(values).reshape(3, 3)
        assume(cell.any())
        atoms = Atoms("H", cell=cell, pbc=False)
        expected = keyvalue.format_comment_line({"Lattice": np.asarray(atoms.cell).T})
        assert format_config(atoms).splitlines()[1].startswith(expected + " Properties=")
