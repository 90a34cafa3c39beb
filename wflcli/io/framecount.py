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
                while True:
                    line = stream.readline()
                    if not line:
                        break
                    if not line.strip():
                        continue
                    natoms = int(line)
                    if natoms < 0 or sum(1 for _ in itertools.islice(stream, natoms + 1)) \
                            < natoms + 1:
                        return None
                    total += 1
        except (InputError, ValueError, OSError, EOFError):
            return None
    return total
