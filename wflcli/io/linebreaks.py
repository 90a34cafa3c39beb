"""Lines as extxyz and ASE see them: each ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``.

ASE reads text files with Python's universal newlines, so a file with old Mac line ends
(``\\r`` only) reads there. ``str.splitlines`` is not the same rule: it also ends lines at
``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and more, which are whitespace inside an
extxyz line. The stream is read with its own (C) ``readline``, which splits at ``\\n``;
only a line that holds a lone ``\\r`` is split further, so ordinary files pay one scan.
"""

from __future__ import annotations

import re
from typing import BinaryIO

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def has_lone_cr(data: bytes) -> bool:
    """Whether ``data`` has a ``\\r`` that is not the start of ``\\r\\n``."""
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def split_lines(data: bytes) -> list[bytes]:
    """``data`` cut into lines by the universal-newline rule, a lone ``\\r`` at the end of
    one made ``\\n`` (so that every line but the last ends in ``\\n``, as elsewhere)."""
    return [line[:-1] + b"\n" if line.endswith(b"\r") else line for line in _LINE.findall(data)]


class Lines:
    """``readline`` and ``readlines(n)`` over a binary stream, lines ended as ASE ends them."""

    def __init__(self, stream: BinaryIO):
        self._readline = stream.readline
        self._pending: list[bytes] = []  # lines already split off, the next one last

    def readline(self) -> bytes:
        """The next line with its line end; ``b""`` at the end of the input."""
        if self._pending:
            return self._pending.pop()
        line = self._readline()
        if b"\r" in line and has_lone_cr(line):
            first, *rest = split_lines(line)
            self._pending.extend(reversed(rest))
            return first
        return line

    def readlines(self, count: int) -> list[bytes]:
        """The next ``count`` lines (``b""`` for each missing at the end of the input)."""
        if self._pending:
            return [self.readline() for _ in range(count)]
        readline = self._readline
        block = [readline() for _ in range(count)]
        data = b"".join(block)
        if b"\r" not in data or not has_lone_cr(data):
            return block
        lines = split_lines(data)
        self._pending.extend(reversed(lines[count:]))
        block = lines[:count]
        return block + [self.readline() for _ in range(count - len(block))]

    def __iter__(self):
        return iter(self.readline, b"")
