"""Content digests of configs: what the cache key and the per-config seed are made of.

A task that only adds results to its input ("annotates", like ``calc``) is keyed on the
structure (species, positions, cell, pbc) and the info/arrays it declares it reads, so
relabelling a config does not recompute it. Any other task is keyed on the whole config as
written (every info and arrays value, in order), since its outputs carry all of it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from wflcli import __version__
from wflcli.io.keyvalue import format_value
from wflcli.io.writer import format_config


def config_digest(atoms, task) -> bytes:
    if not getattr(task, "annotates", False):
        return hashlib.sha256(format_config(atoms).encode()).digest()
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(atoms.numbers, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(atoms.positions, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(atoms.cell.array, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(atoms.pbc, dtype="?").tobytes())
    for key in getattr(task, "reads", ()):
        if key in atoms.info:
            h.update(f"\0info\0{key}\0{format_value(key, atoms.info[key])}".encode())
        if key in atoms.arrays:
            value = atoms.arrays[key]
            h.update(f"\0array\0{key}\0{value.dtype.str}{value.shape}".encode())
            h.update(np.ascontiguousarray(value).tobytes())
    return h.digest()


PAYLOAD_FORMAT = 2  # raise when what the cache stores changes shape


def cache_key(identity: str, digest: bytes) -> bytes:
    """Task identity (verb, normalized parameters, calculator fingerprint), the wflcli
    version and payload format, and the config's digest."""
    return hashlib.sha256(b"%s\0%s/%d\0%s" % (identity.encode(), __version__.encode(),
                                              PAYLOAD_FORMAT, digest)).digest()


def config_seed(identity: str, digest: bytes) -> int:
    """The config's random seed: from the task (which holds --seed) and its content, never
    its position, and not the version, so results stay reproducible across releases."""
    return int.from_bytes(hashlib.sha256(b"seed\0%s\0%s" % (identity.encode(), digest))
                          .digest()[:16], "little")
