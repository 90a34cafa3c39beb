"""Float text as Python writes and reads it (``float.__repr__``, ``float()``), for many
values at once: extxyz I/O is mostly numbers, and ``repr`` costs 0.6 us a value.

orjson formats and parses a whole list of floats in one call (about 0.1 us a value). It
writes the same shortest round-trip digits as ``repr`` (of those, the nearest the value),
but not always in the same notation: where ``repr`` uses an exponent (|x| < 1e-4 or
|x| >= 1e16) orjson may not (1e-5 is ``0.00001``, 1e-7 ``1e-7``), and nan and inf are
``null``. So orjson's text is used only where it is *plain*: no ``e`` (an exponent), no
``n`` (``null``), not starting ``0.0000`` (|x| < 1e-4); there both write the shortest
digits positionally, one text. Every other value goes through ``repr`` one by one.

The check that a token is its own ``repr`` accepts a plain token only when it is orjson's
text of its value: the writer's text of that value, so text passed on unchanged is the
text formatting would give whatever orjson does, and ``repr``'s while orjson keeps to the
above. That is checked at first use on the values at each boundary, tie and extreme
(``_tricky``); if orjson ever disagrees (a future version that formats otherwise), every
function here takes the plain Python path: speed is lost, never exactness.

Parsing takes orjson's values only when each token was one JSON float literal (JSON's
number grammar is part of ``float()``'s, and both round correctly); anything else
(``nan``, ``1.``, ``+1``, ``01``, ints, whose ``-0`` would lose its sign) is left to the
caller's own conversion.
"""
from __future__ import annotations

import functools
import itertools

import orjson

_SMALL = ("0.0000", "-0.0000")  # orjson's positional text of 0 < |x| < 1e-4


def float_texts(values: list[float]) -> list[str]:
    """``[repr(v) for v in values]`` (Python floats)."""
    if not values or not _agrees():
        return list(map(float.__repr__, values))
    return _fast_texts(values)


def float_rows(rows: list[list[float]]) -> list[str]:
    """``[" ".join(map(repr, row)) for row in rows]`` (rows of Python floats, all of one
    length, at least 1)."""
    if rows and _agrees():
        text = orjson.dumps(rows).decode("ascii")
        if "e" not in text and "n" not in text and "0.0000" not in text:  # all plain
            return text[2:-2].replace(",", " ").split("] [")
    texts = iter(float_texts([value for row in rows for value in row]))
    return [" ".join(itertools.islice(texts, len(row))) for row in rows]


def _fast_texts(values: list[float]) -> list[str]:
    texts = orjson.dumps(values).decode("ascii")[1:-1]
    exotic = _exotic_indexes(texts)
    texts = texts.split(",")
    for index in exotic:
        texts[index] = float.__repr__(values[index])
    return texts


def parse_floats(tokens: list[str]) -> list[float] | None:
    """``[float(t) for t in tokens]`` when every token is a JSON float literal, else None
    (the caller converts, and reports what is wrong, its own way)."""
    if not tokens or not _agrees():
        return None
    joined = ",".join(tokens)
    if "[" in joined or '"' in joined:  # a flat array: one value between each two commas
        return None
    try:
        values = orjson.loads("[" + joined + "]")
    except orjson.JSONDecodeError:
        return None
    # all floats (no int, bool, null, {}), as many as tokens: no token held a comma
    if len(values) != len(tokens) or set(map(type, values)) != {float}:
        return None
    return values


def all_own_repr(tokens: list[str]) -> bool:
    """Whether ``repr(float(t)) == t`` for every token (False for a token that is no
    number)."""
    if not tokens:
        return True
    if not _agrees():
        return _own_repr_one_by_one(tokens)
    joined = ",".join(tokens)
    exotic = _exotic_indexes(joined)
    if exotic:
        if joined.count(",") != len(tokens) - 1:  # a token with a comma: no number
            return False
        if not _own_repr_one_by_one([tokens[i] for i in exotic]):
            return False
        tokens = tokens.copy()
        for index in reversed(exotic):
            del tokens[index]
        if not tokens:
            return True
        joined = ",".join(tokens)
    # the plain tokens: where one is not orjson's text of its value, decided exactly
    return _orjson_writes_each(tokens, joined) or _own_repr_one_by_one(tokens)


def _orjson_writes_each(tokens: list[str], joined: str) -> bool:
    """Whether the tokens, ``joined`` by commas, are each one float as orjson writes it.

    Without brackets and quotes the array is flat and holds no text; with N dots (no token
    here has an exponent) each of N values is one number with a fraction: a float, not an
    int, {}, true, false or null. Written back as the text read, N floats have N-1 commas
    between them: no token held a comma, each is one float's text.
    """
    count = len(tokens)
    if "[" in joined or '"' in joined or joined.count(".") != count:
        return False
    array = "[" + joined + "]"
    try:
        values = orjson.loads(array)
        return len(values) == count and orjson.dumps(values) == array.encode("ascii")
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        return False


def _own_repr_one_by_one(tokens: list[str]) -> bool:
    try:
        return all(float.__repr__(float(t)) == t for t in tokens)
    except ValueError:  # no number (float() refuses it)
        return False


def _exotic(text: str) -> bool:
    """Whether orjson's text may differ from ``repr``'s: exponents, null, |x| < 1e-4."""
    return "e" in text or "n" in text or text.startswith(_SMALL)


def _exotic_indexes(joined: str) -> list[int]:
    """The indexes of the ``_exotic`` texts among those ``joined`` by commas, found by
    searching the joined text (they are few: one by one would cost more)."""
    found = set()
    for mark in ("e", "n", "0.0000"):
        at = joined.find(mark)
        while at >= 0:
            start = joined.rfind(",", 0, at) + 1
            if mark != "0.0000" or joined.startswith(_SMALL, start):
                found.add(joined.count(",", 0, start))
            at = joined.find(mark, at + 1)
    return sorted(found)


def _tricky() -> list[float]:
    """Values at each place where orjson's text and repr's could part: both sides of the
    1e-4, 1e-5 and 1e16 boundaries, subnormals, extremes, ties, 17-digit values."""
    values = [0.0, 5e-324, 1e-323, 2.2250738585072014e-308, 2.225073858507201e-308,
              1.7976931348623157e308, 1e-4, 9.999999999999999e-05, 1.0000000000000002e-4,
              1e-5, 9.999999999999999e-06, 1.5e-5, 5e-5, 1e-7, 1e-3, 1e15, 1e16,
              9999999999999998.0, 1.0000000000000002e16, 12345678901234567.0, 1e17, 1e21,
              1e22, 1e23, 2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 63, 0.1, 0.2, 0.30000000000000004,
              1 / 3, 2 / 3, 0.5, 1.5, 2.5, 4.35, 100.0, 123456.789, 0.0001234,
              0.000123456789, 1.2345678901234567, 3.14159, 5e-324 * 3, 2.0 ** -1074 * 7]
    return values + [-v for v in values] + [float("nan"), float("inf"), float("-inf")]


# JSON texts that float() reads: long mantissas, halfway cases, under- and overflow edges
_PARSE_TEXTS = ["9007199254740993.0", "2.2250738585072011e-308",
                "0.30000000000000004441", "1.00000000000000011102230246251565404236316680908203125",
                "1.0e-05", "1E5", "0.1e1", "1e-400", "-1e-400", "4.9406564584124654e-324",
                "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623158e308",
                "123456789012345678901234567890.5"]
# plain tokens (no e, n, 0.0000) that are no repr text, though orjson reads some of them
_NOT_OWN_REPR = ["1.50", "01.5", "+1.5", "1.", ".5", "-0", "1", "1E5", "1_0.5", "NaN", "[1.5]",
                 "{}", "0.10000000000000001", "100000000000000000.0", "1.5,2.5"]


@functools.cache
def _agrees() -> bool:
    """Whether orjson gives what Python gives on the tricky values (once per process)."""
    return _agrees_with_python(_tricky())


def _agrees_with_python(values: list[float]) -> bool:
    """The fast paths, tried against the Python ones; True only if they agree throughout."""
    texts = list(map(float.__repr__, values))
    finite = [t for t in texts if "n" not in t]
    parse_texts = finite + _PARSE_TEXTS
    try:
        parsed = orjson.loads("[" + ",".join(parse_texts) + "]")
        return (_fast_texts(values) == texts
                and len(parsed) == len(parse_texts)
                and all(type(v) is float for v in parsed)
                and list(map(float.__repr__, parsed))
                == [float.__repr__(float(t)) for t in parse_texts]
                and all(_orjson_writes_each([t], t) for t in texts if not _exotic(t))
                and not any(_orjson_writes_each([t], t) for t in _NOT_OWN_REPR))
    except (orjson.JSONDecodeError, TypeError, ValueError, UnicodeError):
        return False
