"""Plain text inputs with one item per line: SMILES lists (``value [name]``, with blank
lines and ``#`` comments skipped; a comment starts a line or follows a space), and whole
lines for ``wfl map --lines``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from wflcli.errors import InputError
from wflcli.io.linebreaks import Lines
from wflcli.io.sources import open_source


_COMMENT = re.compile(r"^#|\s#")  # a # after a space or at the start: C#N is a SMILES


def named_lines(sources: Iterable[str], stdin: BinaryIO) -> Iterator[tuple[str, str | None]]:
    for line in _stripped_lines(sources, stdin):
        line = _COMMENT.split(line, 1)[0].strip()
        if line:
            value, _, label = line.partition(" ")
            yield value, label.strip() or None


def whole_lines(sources: Iterable[str], stdin: BinaryIO) -> Iterator[str]:
    """Each line, stripped, but blank ones and those starting with ``#`` (a ``#`` inside a
    line is kept: ``C#N`` is a SMILES)."""
    for line in _stripped_lines(sources, stdin):
        if line and not line.startswith("#"):
            yield line


def _stripped_lines(sources: Iterable[str], stdin: BinaryIO) -> Iterator[str]:
    for source in sources:
        with open_source(source, stdin) as (name, stream):
            for number, raw in enumerate(Lines(stream), start=1):
                try:
                    yield raw.decode("utf-8").strip()
                except UnicodeDecodeError:
                    raise InputError(name, number, "not UTF-8 text") from None
