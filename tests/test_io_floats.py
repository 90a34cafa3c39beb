"""Fast float text (io/floats.py) is exactly Python's: ``repr`` when formatting, ``float()``
when parsing, and the own-repr check refuses every token that is not ``repr``'s text."""

from __future__ import annotations

import io
import random
import struct

import numpy as np
import orjson
import pytest
from ase.build import bulk

from wflcli.io import floats
from wflcli.io.floats import all_own_repr, float_rows, float_texts, parse_floats
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config

EDGES = [0.0, -0.0, 5e-324, -5e-324, 1e-323, 2.2250738585072014e-308,
         2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308,
         1e-4, 9.999999999999999e-05, 1.0000000000000002e-4, -1e-4, 1e-5, 9.99999e-06,
         5e-5, 1e16, 9999999999999998.0, 1.0000000000000002e16, -1e16, 1e22, 1e23,
         2.0 ** 53, 2.0 ** 53 + 2, 0.1, 0.30000000000000004, 1 / 3, 0.5, 2.5, 1.5, 4.35,
         1.2345678901234567, 12345678901234567.0, float("nan"), float("inf"), -float("inf")]


def _sample(count: int = 200_000, seed: int = 26) -> list[float]:
    """Floats of every bit pattern (all exponents, subnormals, nan and inf among them) and
    of every decimal magnitude from 1e-30 to 1e30, and the edges."""
    rng = random.Random(seed)
    bits = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            for _ in range(count // 2)]
    decimal = [rng.uniform(-1, 1) * 10.0 ** rng.uniform(-30, 30) for _ in range(count // 2)]
    short = [round(rng.uniform(-100, 100), rng.randrange(8)) for _ in range(count // 10)]
    return bits + decimal + short + EDGES


def _chunks(values: list, size: int = 61):
    return [values[i:i + size] for i in range(0, len(values), size)]


def test_fast_path_is_in_use():
    """The self-check passes with the installed orjson (else every test here would only
    test the Python path)."""
    assert floats._agrees()


def test_formatting_is_repr():
    for chunk in _chunks(_sample()):
        assert float_texts(chunk) == list(map(float.__repr__, chunk))


@pytest.mark.parametrize("width", [1, 3, 9])
def test_rows_are_reprs_joined_by_spaces(width):
    values = _sample(20_000)
    rows = [values[i:i + width] for i in range(0, len(values) - width + 1, width)]
    for chunk in _chunks(rows, 8):  # rows of plain values only, and rows with others
        assert float_rows(chunk) == [" ".join(map(float.__repr__, row)) for row in chunk]
    assert float_rows([[0.5] * width, [1.5] * width]) == [" ".join(["0.5"] * width),
                                                          " ".join(["1.5"] * width)]


def test_parsing_is_float():
    texts = [t for t in map(float.__repr__, _sample()) if "n" not in t]
    texts += ["1E5", "1.0e-05", "0.1e1", "1e-400", "-1e-400", "2.4703282292062328e-324",
              "9007199254740993.0", "0.30000000000000004441", "123456789012345678901.25",
              "1.00000000000000011102230246251565404236316680908203125"]
    for chunk in _chunks(texts):
        values = parse_floats(chunk)
        assert values is not None
        assert [struct.pack("<d", v) for v in values] == \
               [struct.pack("<d", float(t)) for t in chunk]  # -0.0 keeps its sign


@pytest.mark.parametrize("token", ["nan", "inf", "-inf", "1.", ".5", "+1.5", "01.5", "-0", "1",
                                   "1_0.5", "true", "null", "[1.5]", "{}", '"1.5"', "1.5,2.5",
                                   "1e400"])
def test_parsing_leaves_other_tokens_to_the_caller(token):
    assert parse_floats(["0.5", token, "2.5"]) is None


def test_own_repr_accepts_repr_texts():
    for chunk in _chunks(list(map(float.__repr__, _sample()))):
        assert all_own_repr(chunk)


@pytest.mark.parametrize("token", ["1e16", "0.00001", "1.50", "1E-05", "01.5", "+1.5", "1.",
                                   ".5", "-0", "1", "0.00009999999999999999", "1.0e-05",
                                   "1e-5", "1_0.5", "NaN", "Infinity", "[1.5]", "{}", "true",
                                   "null", "Cu", "1.5,2.5", "0.10000000000000001", "5e-324 "])
def test_own_repr_refuses_other_texts(token):
    """Tokens that read as a number repr would write otherwise (orjson reads most of them
    too), and tokens that are no number, among repr texts of both kinds."""
    assert not all_own_repr(["0.5", "1.5e-05", token, "-2.25"])
    assert not all_own_repr([token])


def test_own_repr_of_texts_found_by_joining():
    """Exponents, nan and tiny values found in the joined text, mid-token look-alikes not."""
    tokens = ["10.00001", "-0.00001", "1.5e-07", "nan", "-inf", "2.0", "0.0001", "-0.0"]
    assert floats._exotic_indexes(",".join(tokens)) == [1, 2, 3, 4]
    assert not all_own_repr(tokens)  # -0.00001 is not repr's -1e-05
    tokens[1] = "-1e-05"
    assert all_own_repr(tokens)


class _FutureOrjson:
    """Stands in for a future orjson that writes floats otherwise (here with 17 significant
    digits, which also round-trip but are not the shortest): the self-check must see it and
    every function must then give Python's results."""

    JSONDecodeError = orjson.JSONDecodeError
    loads = staticmethod(orjson.loads)

    @staticmethod
    def dumps(values):
        return ("[" + ",".join(f"{v:.17g}" if "." in f"{v:.17g}" else f"{v:.1f}"
                               for v in values) + "]").encode()


def test_a_disagreeing_orjson_falls_back_to_python(monkeypatch):
    monkeypatch.setattr(floats, "orjson", _FutureOrjson)
    floats._agrees.cache_clear()
    try:
        assert not floats._agrees()
        values = [0.1, 1 / 3, 2.5, 1e-05, -0.0]
        assert float_texts(values) == list(map(float.__repr__, values))
        written = _FutureOrjson.dumps([0.1]).decode()[1:-1]
        assert written == "0.10000000000000001"
        assert not all_own_repr([written])  # the fast check would have accepted it
        assert all_own_repr(["0.1", "2.5"])
        assert parse_floats(["0.1", "2.5"]) is None  # the caller's own conversion
    finally:
        floats._agrees.cache_clear()


def test_frames_of_all_magnitudes_pass_through_as_formatting_gives(wfl, tmp_path):
    """``wfl cat`` of frames holding floats of every magnitude (written by wfl, and the same
    numbers written by another program) gives what formatting each frame gives."""
    rng = np.random.default_rng(26)
    frames = []
    for i in range(40):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
        scale = 10.0 ** rng.uniform(-30, 30, size=(4, 3))
        atoms.positions = rng.normal(size=(4, 3)) * scale
        atoms.arrays["forces"] = rng.normal(size=(4, 3)) * 10.0 ** rng.integers(-8, 18)
        atoms.info.update(energy=float(rng.normal() * 10.0 ** rng.integers(-8, 18)),
                          stress=rng.normal(size=6) * 10.0 ** rng.integers(-8, 3))
        frames.append(format_config(atoms))
    others = [t.replace("e-", "E-") for t in frames[:5]]  # the same numbers, not repr's text
    text = "".join(frames + others)
    src = tmp_path / "in.xyz"
    src.write_text(text)
    result = wfl("cat", src)
    assert result.code == 0, result.stderr
    configs = list(FrameReader(io.BytesIO(text.encode()), "in.xyz"))
    assert result.stdout == "".join(format_config(a) for a in configs) == "".join(frames * 1 +
                                                                                 frames[:5])
