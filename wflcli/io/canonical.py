"""Whether a frame's input text already is the text wfl writes for it, proved cheaply.

``wfl cat``, ``head`` and ``filter`` write each frame as ``format_config`` gives it. Most
inputs were written by wfl, so that text is the input text itself; checking that is far
cheaper than parsing and formatting again. The check is exact, in two parts:

- The comment line is reduced to a *shape*: each number in it replaced by its class (an
  integer or a float; zeros, which the writer may treat apart, stay as they are). Whether
  lines of one shape come out unchanged is decided once, by reading and formatting the
  first frame of that shape in full; what the writer makes of a comment line depends on
  its numbers only through their classes, given that each number is already in its
  written form (``repr`` of a float, ``str`` of an int) and that no key holds one (in a
  quoted key such as ``"1 2"`` the keys differ from line to line: a line of the shape
  could name a key twice, which reading refuses).
- The atom rows must match the pattern that their Properties allow in written form (known
  element symbols, one space between values, ``T``/``F``, integers without leading zeros,
  a ``\\n`` after each row), and every float in rows and comment line must be its own
  ``repr``.

Frames this does not cover (VEC lines, fixed atoms, a ``Z`` column, no atoms, anything
unusual) are simply formatted, as before.
"""

from __future__ import annotations

import functools
import re

from wflcli.io.comment_values import ValuePositions
from wflcli.io.floats import all_own_repr
from wflcli.io.keyvalue import UnwritableValue, parse_comment_line, quote
from wflcli.io.periodic import MAX_ATOMIC_NUMBER

_COUNT = re.compile(rb"[1-9][0-9]*\n")
_INT_FORM = "0|-?[1-9][0-9]{0,17}"  # as str(int) writes it, within int64
_END = r'(?=[" \n])'
# a number standing alone as a value or list element of the comment line, after the
# character that sets it off (group 1): an int (group 2) or another float than a zero
# (group 3); zeros stay in the shape (a cell of zeros is left out, a periodic direction
# without a cell vector refused)
_NUMBER = re.compile(rf'([=" ])(?=[-0-9])(?:({_INT_FORM}){_END}|(?!-?0\.0{_END})'
                     rf"(-?[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?){_END})")
_INT_TEXT = re.compile(_INT_FORM)
DEFAULT_PROPERTIES = "species:S:1:pos:R:3"
_MAX_SHAPES = 1024
_shapes: dict = {}  # comment-line shape -> how its rows look when written as read, or False


def canonical_text(frame, properties) -> Proved | None:
    """The input text of ``frame`` (a reader's Frame), proved to be exactly what the writer
    gives for it, else None. ``properties`` parses a Properties value (the reader's)."""
    if frame.vectors or not _COUNT.fullmatch(frame.count):
        return None
    try:
        comment = frame.comment.decode("utf-8")
    except UnicodeDecodeError:
        return None
    pieces = _NUMBER.split(comment)  # text, mark, int, float, text, mark, int, float, ...
    shape = ("\n".join(pieces[0::4]), "".join(pieces[1::4]), bytes(map(bool, pieces[2::4])))
    rows = _shapes.get(shape)
    if rows is None:
        rows = _shapes[shape] = _judge(frame, properties, pieces)
        if len(_shapes) > _MAX_SHAPES:
            _shapes.clear()
    if rows is False:
        return None
    natoms = len(frame.block)
    data = b"".join(frame.block)
    if data.translate(None, _WORD_BYTES) != rows.gaps * natoms:  # the spaces and line ends
        return None
    text = data.decode("ascii")  # printable ASCII, one word between each two gaps
    tokens = text.split()
    stride = rows.stride
    if len(tokens) != stride * natoms:  # no empty word: no space at a row's ends, no two
        return None
    if rows.symbols and not _known_symbols().issuperset(tokens[0::stride]):
        return None
    for column in rows.bool_columns:
        if not _BOOLS.issuperset(tokens[column::stride]):
            return None
    for column in rows.int_columns:
        if not all(map(_INT_TEXT.fullmatch, tokens[column::stride])):
            return None
    floats = [number for number in pieces[3::4] if number]
    if rows.floats_after_symbols:  # the common frame: all the rest are floats
        del tokens[0::stride]
        floats += tokens
    else:
        for column in rows.float_columns:
            floats += tokens[column::stride]
    if not all_own_repr(floats):  # a float written by repr is its own repr
        return None
    return Proved(frame.count.decode("ascii") + comment + text, comment, pieces,
                  rows.positions)


class Proved:
    """A frame's text proved to be the written form, with its comment line in pieces, from
    which a few info values are read where they sit (comment_values.py)."""

    __slots__ = ("_comment", "_pieces", "_positions", "text")

    def __init__(self, text: str, comment: str, pieces: list, positions):
        self.text, self._comment, self._pieces, self._positions = \
            text, comment, pieces, positions

    def info_of(self, keys: frozenset) -> dict:
        """The values of those of ``keys`` the comment line has, as parsing it gives them."""
        if self._positions is None:
            return parse_comment_line(self._comment, only=keys)
        return self._positions.values(self._pieces, keys)


class _Rows:
    """The written form of a frame's atom rows: ``stride`` printable words, one space
    between, a ``\\n`` after each row; which columns hold symbols, floats, ints, bools."""

    def __init__(self, stride: int, symbols: bool, kinds: list, positions):
        self.positions = positions  # of the comment line's values, or None
        self.gaps = b" " * (stride - 1) + b"\n"  # what is left of a row without its words
        self.stride, self.symbols = stride, symbols
        self.float_columns = [i for i, kind in enumerate(kinds) if kind is float]
        self.int_columns = [i for i, kind in enumerate(kinds) if kind is int]
        self.bool_columns = [i for i, kind in enumerate(kinds) if kind is bool]
        self.floats_after_symbols = symbols and self.float_columns == list(range(1, stride))


_WORD_BYTES = bytes(range(0x21, 0x7F))  # printable ASCII but the space


def _judge(frame, properties, pieces: list):
    """Rows for frames whose comment line is written as it is (decided on this frame by
    reading and formatting it), else False. Errors in the frame are raised as when read."""
    from wflcli.io.writer import format_config

    atoms = frame.atoms
    try:
        text = format_config(atoms)
    except UnwritableValue:  # said where the frame is written, as before (if it is)
        return False
    frame.remember_text(text)
    if text.split("\n", 2)[1].encode("utf-8") + b"\n" != frame.comment:
        return False
    comment = frame.comment.decode("utf-8")
    pairs = parse_comment_line(comment)
    if any(_NUMBER.search(f" {quote(key)}=") for key in pairs):
        return False  # a number in a key: another line of the shape may name a key twice
    spec = pairs.get("Properties", DEFAULT_PROPERTIES)
    kinds = []
    columns = properties(spec)
    for index, (name, kind, count) in enumerate(columns):
        if name in ("move_mask", "numbers"):  # fixed atoms (dropped when all free), Z
            return False
        if name == "symbols" and (index != 0 or count != 1):
            return False
        kinds.extend([None if name == "symbols" else kind] * count)
    return _Rows(len(kinds), columns[0][0] == "symbols", kinds,
                 ValuePositions.of(comment, pieces))


_BOOLS = frozenset({"T", "F"})


@functools.cache
def _known_symbols() -> frozenset[str]:
    """The element symbols the writer writes (X, for atomic number 0, to Og)."""
    from ase.data import chemical_symbols

    return frozenset(chemical_symbols[:MAX_ATOMIC_NUMBER + 1])
