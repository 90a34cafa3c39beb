"""Opening the inputs a verb names: files (plain or compressed) or stdin for ``-``."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import lzma
from collections.abc import Iterator
from typing import BinaryIO

from wflcli.errors import InputError

STDIN = "-"
COMPRESSORS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}  # by file suffix


@contextlib.contextmanager
def open_source(source: str, stdin: BinaryIO) -> Iterator[tuple[str, BinaryIO]]:
    """Yield ``(name for messages, binary stream)``; a missing file is an InputError."""
    if source == STDIN:
        yield "<stdin>", stdin
        return
    opener = COMPRESSORS.get(_suffix(source), open)
    try:
        stream = opener(source, "rb")
    except FileNotFoundError:
        raise InputError(source, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, None, "is a directory, not an extxyz file") from None
    except PermissionError:
        raise InputError(source, None, "permission denied") from None
    with stream:
        try:
            yield source, stream
        except (OSError, EOFError) as exc:  # corrupt compressed data shows up while reading
            raise InputError(source, None, f"cannot read: {exc}") from None


def _suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:].lower() if dot > path.rfind("/") else ""
