"""How many frames extxyz inputs hold, found by skipping lines (no parsing): the total
a progress line shows. Any doubt (stdin, a line that is not a count) gives None, and the
reader proper reports what is wrong."""

from __future__ import annotations

import itertools

from wflcli.errors import InputError
from wflcli.io.sources import STDIN, open_source


def count_frames(sources) -> int | None:
    total = 0
    for source in sources:
        if source == STDIN:
            return None
        try:
            with open_source(source, None) as (_, stream):
                found = count_frames_in(stream)
        except (InputError, OSError, EOFError):
            return None
        if found is None:
            return None
        total += found
    return total


def count_frames_in(stream) -> int | None:
    """The frames of one open binary stream (read to its end), or None when in doubt."""
    total = 0
    try:
        while True:
            line = stream.readline()
            if not line:
                return total
            if not line.strip():
                continue
            natoms = int(line)
            if natoms < 0 or sum(1 for _ in itertools.islice(stream, natoms + 1)) \
                    < natoms + 1:
                return None
            total += 1
    except ValueError:
        return None
