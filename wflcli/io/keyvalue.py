"""The extxyz comment line: ``key=value`` pairs, parsed and written as ASE does.

Parsing follows ``ase.io.extxyz.key_val_str_to_dict`` (quotes, brackets, backslash escapes,
bare keys meaning True, numbers, booleans, ``_JSON`` values, Fortran-ordered 3x3 keys), so a
file reads the same here as in ASE. Writing uses shortest round-trip floats and escapes
backslashes too, so every value that extxyz can hold survives a round trip exactly.
"""

from __future__ import annotations

import copy
import functools
import json
import re

import numpy as np

from wflcli.errors import WflError
from wflcli.io.floats import float_texts, parse_floats

SPECIAL_3_3_KEYS = frozenset({"Lattice", "virial", "stress"})
UNPROCESSED_KEYS = frozenset({"uid"})
_BOOLS = {"T": True, "F": False, "true": True, "false": False,
          "True": True, "False": False, "TRUE": True, "FALSE": False}

_PIECE = re.compile(
    r"""\\(.)                           # 1: escaped character
      | "((?:[^"\\]|\\.)*)("?)          # 2: double-quoted text, 3: its closing quote
      | '((?:[^'\\]|\\.)*)('?)          # 4: single-quoted text, 5: its closing quote
      | \{((?:[^}\\]|\\.)*)(\}?)        # 6: braced text, 7: its closing brace
      | \[((?:[^\]\\]|\\.)*)(\]?)       # 8: bracketed text, 9: its closing bracket
      | (=)                             # 10: key/value separator
      | (\s+)                           # 11: pair separator
      | ([^\s"'{\[\\=]+)                # 12: plain text
    """,
    re.VERBOSE | re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_SIMPLE = r'([^\s"\'{}\[\]\\=]+)(=?)(?:([^\s"\'{}\[\]\\=]+)|"([^"\\{}\[\]]*)")?'
_SIMPLE_PAIR_AND_GAP = re.compile(rf"{_SIMPLE}(?:\s+|$)")
# the grammar of Python's int() and float(), which ASE's numpy conversion follows: digits
# may be grouped by single underscores (1_000)
_DIGITS = r"\d+(?:_\d+)*"
_INT = rf"[+-]?{_DIGITS}"
_FLOAT = rf"[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?" \
         r"|inf|infinity|nan)"
_INT64 = (-2 ** 63, 2 ** 63)
_INTS = re.compile(rf"{_INT}(?:[\s,]+{_INT})*")
_FLOATS = re.compile(rf"{_FLOAT}(?:[\s,]+{_FLOAT})*", re.IGNORECASE)
_VALUE_TOKENS = re.compile(r"[^\s,]+")


class CommentLineError(ValueError):
    """The comment line cannot be parsed; the message says why."""


def parse_comment_line(line: str, only: frozenset | None = None) -> dict:
    """Parse an extxyz comment line into a dict of native values; with ``only``, just
    those keys (a line already known to be valid: the others are not converted)."""
    line = line.strip()
    pairs = _simple_pairs(line)  # the common case, without escapes or brackets
    if pairs is None:
        pairs = _general_pairs(line)
    if only is not None:
        return {key: converted_value(key, value) for key, value in pairs if key in only}
    result = {}
    for key, value in pairs:
        if key in result:
            raise CommentLineError(f"key {key!r} appears twice in the comment line")
        result[key] = converted_value(key, value)
    return result


def _simple_pairs(line: str) -> list[tuple[str, str]] | None:
    """The (key, value text) pairs of a line made only of plain pairs, else None."""
    matches = simple_pair_matches(line)
    if matches is None:
        return None
    return [(key, (plain or quoted) if eq else "T")
            for key, eq, plain, quoted in (found.groups("") for found in matches)]


def simple_pair_matches(line: str) -> list[re.Match] | None:
    """The match of each pair of a line made only of plain pairs (groups: key, ``=``,
    plain value, quoted value), else None. Each pair is matched where the last one ended:
    at each place only one match can be followed by a gap or the end (a shorter key or
    value leaves a word character next), so matching on from there is what a match of the
    whole line would do, without backtracking."""
    matches = []
    match = _SIMPLE_PAIR_AND_GAP.match
    at, end = 0, len(line)
    while at < end:
        found = match(line, at)
        if found is None:
            return None
        matches.append(found)
        at = found.end()
    return matches


_CACHED_LENGTH = 200


def converted_value(key: str, value: str):
    """One value's text converted (``_convert``), remembered for short texts: the Lattice,
    pbc, Properties and labels of a file repeat frame after frame. Each caller gets its own
    copy of a mutable value."""
    if len(value) > _CACHED_LENGTH:
        return _convert(key, value)
    result = _remembered(key, value)
    if isinstance(result, np.ndarray):
        return result.copy()
    if isinstance(result, list) and all(type(v) is bool for v in result):
        return result.copy()  # pbc="T T T": the common list, no deep copy needed
    if isinstance(result, (list, dict)):
        return copy.deepcopy(result)
    return result


@functools.lru_cache(maxsize=4096)
def _remembered(key: str, value: str):
    return _convert(key, value)


def _general_pairs(line: str) -> list[tuple[str, str]]:
    """Split a comment line into (key, value text) pairs with ASE's quoting rules."""
    pairs: list[list[str]] = []
    current: list[str] | None = None  # parts of the pair being read: key, value, value...

    def add(text: str) -> None:
        nonlocal current
        if current is None:
            current = [""]
            pairs.append(current)
        current[-1] += text

    for m in _PIECE.finditer(line):
        kind = m.lastindex
        if kind == 11:
            current = None
        elif kind == 10:
            if current is None:
                current = [""]
                pairs.append(current)
            current.append("")
        elif kind == 1 or kind == 12:
            add(m.group(kind))
        else:  # a quoted or bracketed run: `kind` is the group of its closing character
            if not m.group(kind):
                raise CommentLineError(f"unterminated {m.group(0)[0]} in the comment line")
            add(_UNESCAPE.sub(r"\1", m.group(kind - 1)))
    return [(parts[0], "=".join(parts[1:]) if len(parts) > 1 else "T") for parts in pairs]


def _convert(key: str, value: str):
    """Turn one value's text into an int, float, bool, array, JSON value or str, as ASE does."""
    if key in SPECIAL_3_3_KEYS:
        number = _numbers(value.strip(" \t,"))
        if not isinstance(number, np.ndarray) or number.shape != (9,):
            raise CommentLineError(f"{key} must be 9 numbers, got {value!r}")
        return number.reshape((3, 3), order="F")
    if key.lower() in UNPROCESSED_KEYS or value == "":
        return value
    number = _numbers(value.strip(" \t,"))
    if number is not None:
        return number
    tokens = _VALUE_TOKENS.findall(value)
    try:
        bools = [_BOOLS[t] for t in tokens]
    except KeyError:
        pass
    else:
        if bools:
            return bools[0] if len(bools) == 1 else bools
    if value.startswith("_JSON "):
        try:
            decoded = json.loads(value[6:])
        except json.JSONDecodeError as exc:
            raise CommentLineError(f"{key}: bad _JSON value ({exc.msg})") from None
        except RecursionError:
            raise CommentLineError(f"{key}: _JSON value nested too deeply") from None
        try:
            as_array = np.array(decoded)
        except (ValueError, OverflowError) as exc:  # ASE cannot read these either
            what = ("a ragged array (rows of different lengths)" if "inhomogeneous" in str(exc)
                    else f"no array numpy can make ({exc})")
            raise CommentLineError(f"{key}: _JSON value is {what}") from None
        return as_array if as_array.dtype.kind in "ifb" else decoded
    return value


def _numbers(text: str):
    """An int/float (one number) or an int/float array (several), or None if not numeric."""
    if "." in text:  # perhaps floats as JSON writes them, which _FLOATS and float() read
        values = parse_floats(text.split())
        if values is not None:
            return values[0] if len(values) == 1 else np.array(values, dtype=np.float64)
    if _INTS.fullmatch(text):
        tokens = _VALUE_TOKENS.findall(text)
        try:
            if len(tokens) > 1:
                return np.array([int(t) for t in tokens], dtype=np.int64)
            number = int(tokens[0])
            if _INT64[0] <= number < _INT64[1]:
                return number
        except (OverflowError, ValueError):  # beyond int64, or more digits than int() takes
            pass
        # as ASE: an integer that int64 cannot hold is read as a float
    elif not _FLOATS.fullmatch(text):
        return None
    tokens = _VALUE_TOKENS.findall(text)
    if len(tokens) == 1:
        return float(tokens[0])
    return np.array([float(t) for t in tokens], dtype=np.float64)


# --- writing -----------------------------------------------------------------------------

_NEEDS_QUOTES = re.compile(r"[\s\"'{}\[\]\\=]")


class UnwritableValue(WflError, ValueError):
    """A value that extxyz cannot hold (an object with no text form)."""


def quote(text: str) -> str:
    """Quote text for the comment line when it needs it (escaping quotes and backslashes)."""
    if "\n" in text or "\r" in text:
        raise UnwritableValue(f"{text!r} contains a line break, which extxyz cannot hold")
    if text and not _NEEDS_QUOTES.search(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_scalar(value) -> str:
    """Text of one number or bool: shortest round-trip float, T/F for bools."""
    if isinstance(value, (bool, np.bool_)):
        return "T" if value else "F"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def format_value(key: str, value) -> str:
    """The text after ``key=`` for one info value: text that reads back (here and in ASE)
    as the same value of the same type."""
    if key in SPECIAL_3_3_KEYS and not _nine_numbers(value):
        raise UnwritableValue(f"info[{key!r}] must be 9 numbers (3x3, or 6 in Voigt order): "
                              "extxyz readers (ASE's and ours) read nothing else there")
    if isinstance(value, (bool, np.bool_, float, np.floating)):
        return format_scalar(value)
    if isinstance(value, (int, np.integer)):
        if _INT64[0] <= value < _INT64[1]:
            return format_scalar(value)
        return quote(f"_JSON {int(value)}")  # plain, it would read back as a float
    if _is_spacegroup(value):  # ASE's CIF reader puts one in info; ASE writes its symbol
        value = value.symbol
    if isinstance(value, str):
        if "\n" in value or "\r" in value or not _reads_as_itself(key, value):
            return quote("_JSON " + json.dumps(value))
        return quote(value)
    if isinstance(value, list) and len(value) > 1 and all(type(v) is bool for v in value):
        return '"' + " ".join(map(format_scalar, value)) + '"'  # reads back as this list
    if isinstance(value, np.ndarray) and value.dtype.kind in "ifb":
        if key in SPECIAL_3_3_KEYS and value.shape == (6,):  # Voigt: as ASE, write 3x3
            xx, yy, zz, yz, xz, xy = value.tolist()
            value = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        if key in SPECIAL_3_3_KEYS and value.shape == (3, 3):
            value = value.reshape(9, order="F")
        # numbers as a quoted list read back as an array only if there are two or more
        # (one reads as a scalar) and they are not bools (which read as a list)
        if value.ndim == 1 and value.size > 1 and value.dtype.kind != "b":
            values = value.tolist()  # written as format_scalar writes each
            texts = float_texts(values) if value.dtype.kind == "f" else map(str, values)
            return '"' + " ".join(texts) + '"'
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, (list, tuple)):
        try:
            np.array(value)
        except (ValueError, OverflowError):
            raise UnwritableValue(f"info[{key!r}] is a ragged list, which extxyz readers "
                                  "(ASE's and ours) cannot read back") from None
    try:
        text = json.dumps(value, allow_nan=True, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise UnwritableValue(f"info[{key!r}] cannot be written to extxyz ({exc})") from None
    return quote("_JSON " + text)


def _nine_numbers(value) -> bool:
    """Whether ``value`` is written under a 3x3 key (Lattice, virial, stress) as the 9
    numbers that read back."""
    return (isinstance(value, np.ndarray) and value.dtype.kind in "if"
            and value.shape in ((9,), (6,), (3, 3)))


@functools.lru_cache(maxsize=4096)  # labels repeat frame after frame
def _reads_as_itself(key: str, text: str) -> bool:
    """Whether ``text`` written plainly reads back as this string (not a number, bool, ...)."""
    try:
        return _convert(key, text) is text
    except CommentLineError:
        return False


def _is_spacegroup(value) -> bool:
    return type(value).__name__ == "Spacegroup" and hasattr(value, "symbol")


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def format_comment_line(pairs: dict) -> str:
    """Write ``key=value`` pairs in order, as one line."""
    return " ".join(f"{quote(key)}={format_value(key, value)}" for key, value in pairs.items())
