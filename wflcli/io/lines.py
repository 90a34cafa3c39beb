"""Plain text inputs with one item per line (SMILES lists): ``value [name]``, with blank
lines and ``#`` comments skipped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from wflcli.errors import InputError
from wflcli.io.linebreaks import Lines
from wflcli.io.sources import open_source


def named_lines(sources: Iterable[str], stdin: BinaryIO) -> Iterator[tuple[str, str | None]]:
    for source in sources:
        with open_source(source, stdin) as (name, stream):
            for number, raw in enumerate(Lines(stream), start=1):
                try:
                    line = raw.decode("utf-8").split("#", 1)[0].strip()
                except UnicodeDecodeError:
                    raise InputError(name, number, "not UTF-8 text") from None
                if line:
                    value, _, label = line.partition(" ")
                    yield value, label.strip() or None
