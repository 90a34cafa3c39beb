"""A few comment-line values read where they sit, without parsing the whole line.

canonical.py splits a comment line into *pieces*: the numbers standing alone in it, and the
text around them, which is the same for every line of one shape. A number holds none of the
characters that set keys and values apart (space, quote, ``=``), so every line of a shape
splits into pairs at the same places. Where each key's value lies among the pieces is
therefore found once, on the shape's first line, and each later line gives its values as the
full parse (``keyvalue.parse_comment_line``) would:

- a value without a number in it is the first line's text, converted as the parse does;
- a value that is one number is that number: an integer as ``int`` reads it, a float as
  ``float`` reads it (the line was proved to hold each float as its own ``repr``, which the
  parse reads to the same float);
- any other value (a vector, a Lattice) is put together from its pieces and converted as
  the parse converts it.

Lines that are not plain pairs, or where a number is a key, are not mapped: they are
parsed in full.
"""

from __future__ import annotations

from wflcli.io.keyvalue import (
    SPECIAL_3_3_KEYS,
    UNPROCESSED_KEYS,
    converted_value,
    simple_pair_matches,
)

_TEXT, _INT, _FLOAT, _PARTS = range(4)  # how a key's value is made from a line's pieces
_MAX_KEY_SETS = 64


class ValuePositions:
    """Where each key's value lies among the pieces of the lines of one shape."""

    def __init__(self, places: dict):
        self._places = places  # key -> (how, what): in the order of the line
        self._wanted: dict[frozenset, list] = {}

    @classmethod
    def of(cls, comment: str, pieces: list) -> ValuePositions | None:
        """The positions found on ``comment`` (split into ``pieces``), or None where the
        line cannot be read this way."""
        line = comment.strip()
        matches = simple_pair_matches(line)
        if matches is None:
            return None
        lead = len(comment) - len(comment.lstrip())
        numbers, at = [], 0  # (start, end, piece index, whether an int) of each number
        for index, piece in enumerate(pieces):
            if piece and index % 4 >= 2:
                numbers.append((at, at + len(piece), index, index % 4 == 2))
            at += len(piece or "")
        places = {}
        for match in matches:
            key_start, key_end = (lead + i for i in match.span(1))
            if any(start < key_end and key_start < end for start, end, _, _ in numbers):
                return None  # a number as a key: the keys differ from line to line
            key = match.group(1)
            if not match.group(2):
                places[key] = (_TEXT, "T")
                continue
            group = 3 if match.group(3) is not None else 4
            start, end = (lead + i for i in match.span(group)) if match.group(group) \
                is not None else (key_end + 1, key_end + 1)
            places[key] = _place(key, comment, start, end,
                                 [n for n in numbers if start <= n[0] and n[1] <= end])
        return cls(places)

    def values(self, pieces: list, keys: frozenset) -> dict:
        """The values of those of ``keys`` that a line of this shape (``pieces``) has."""
        wanted = self._wanted.get(keys)
        if wanted is None:
            if len(self._wanted) >= _MAX_KEY_SETS:
                self._wanted.clear()
            wanted = self._wanted[keys] = [(key, *place) for key, place in
                                           self._places.items() if key in keys]
        result = {}
        for key, how, what in wanted:
            if how == _FLOAT:
                result[key] = float(pieces[what])
            elif how == _INT:
                result[key] = int(pieces[what])
            elif how == _TEXT:
                result[key] = converted_value(key, what)
            else:
                result[key] = converted_value(key, "".join(
                    part if isinstance(part, str) else pieces[part] for part in what))
        return result


def _place(key: str, comment: str, start: int, end: int, numbers: list) -> tuple:
    """How the value of ``key``, at ``start:end`` of ``comment``, is made from the pieces of
    a line of its shape, given the ``numbers`` within it."""
    if not numbers:
        return _TEXT, comment[start:end]
    plain = key not in SPECIAL_3_3_KEYS and key.lower() not in UNPROCESSED_KEYS
    if plain and len(numbers) == 1 and numbers[0][:2] == (start, end):
        _, _, index, is_int = numbers[0]
        if is_int:  # at most 18 digits, no leading zero: within int64, read by int()
            return _INT, index
        return _FLOAT, index
    parts, at = [], start
    for number_start, number_end, index, _ in numbers:
        parts += [comment[at:number_start], index]
        at = number_end
    parts.append(comment[at:end])
    return _PARTS, [part for part in parts if part != ""]
