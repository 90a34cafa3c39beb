"""``wfl info``'s rows: chosen info values of each config, tab-separated.

Read from each frame's comment line; the Atoms are made only for ``formula`` (or a key
the comment line does not have), so a table of labels and energies costs little.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import numpy as np

from wflcli.io.keyvalue import format_scalar


def info_rows(frames: Iterable, keys: list[str]) -> Iterator[str]:
    """One line per frame (a reader's Frame): each key's value, or natoms, formula or index
    where info has no such key; an empty field where neither has it."""
    for index, frame in enumerate(frames):
        frame.check()  # a malformed frame is refused, as when read
        info = frame.info
        yield "\t".join(cell_text(info[key]) if key in info
                        else cell_text(_derived(frame, key, index)) for key in keys) + "\n"


def _derived(frame, key: str, index: int):
    if key == "natoms":
        return frame.natoms
    if key == "index":
        return index
    if key == "formula":
        return frame.atoms.get_chemical_formula()
    return None


def cell_text(value) -> str:
    """A value as one field: text as it is, numbers space-separated, anything else JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        array = np.asarray(value)
        if array.dtype.kind in "ifb":
            return " ".join(format_scalar(v) for v in array.ravel().tolist())
    except (TypeError, ValueError):
        pass
    return json.dumps(value)
