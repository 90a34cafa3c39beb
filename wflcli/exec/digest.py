"""Content digests of configs: what the cache key and the per-config seed are made of.

The rule: a cache hit must return what a fresh run would, so a digest covers every input
that can change a result, and when unsure it covers it (a miss costs time, a wrong hit
costs trust).

A task that only adds results to its input ("annotates", like ``calc``) is keyed on the
structure (species, positions, cell, pbc, fixed atoms) and on every info and arrays value
(initial charges and magnetic moments, masses, tags, momenta, ``charge``/``spin`` info,
``wfl_calc``, and any key wflcli does not know) except the few that cannot change a
result: ``LABELS`` and, for a task that declares ``ignores_results``, results left under
a prefix by an earlier step. So relabelling a config, or adding another method's results
to it, still hits. Any other task is keyed on the whole config as written (every info and
arrays value, in order), since its outputs carry all of it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wflcli import __version__
from wflcli.io.writer import format_config

# Labels, and what wflcli's own verbs write to say where a config came from: no calculator
# reads them. (A key here must never be an input of any calculation.)
LABELS = frozenset({
    "config_type", "name", "smiles",                              # labels
    "MD_step", "MD_time_fs", "MD_temperature_K", "MD_source",     # wfl md
    "optimize_step", "optimize_steps", "optimize_converged",      # wfl optimize
    "rattle_copy", "conformer", "conformers_found",               # wfl rattle, wfl smiles
    "nm_sample", "nm_temperature_K",                              # wfl normal-modes
})

# Results as ASE and wflcli name them, alone or after a prefix that ends in "_"
# (REF_energy, GAP_forces); ASE's own inputs of the same endings are never results.
RESULT_NAMES = ("energy", "free_energy", "energies", "forces", "stress", "stresses",
                "virial", "dipole", "charges", "magmom", "magmoms")
_INPUTS = frozenset({"initial_charges", "initial_magmoms"})

DIGEST_FORMAT = b"annotating input v2"  # raise when what an annotating digest covers changes


def is_result(key: str) -> bool:
    """Whether ``key`` names a result under a prefix (or none), e.g. ``REF_forces``."""
    if key in _INPUTS:
        return False
    return any(key == name or key.endswith("_" + name) for name in RESULT_NAMES)


def keyed(key: str, task) -> bool:
    """Whether an info or arrays key is part of an annotating task's digest."""
    if key in LABELS:
        return False
    return not (task.ignores_results and is_result(key))


def config_digest(atoms, task, text: Callable[[], str] | None = None) -> bytes:
    """``text()``, when given, is ``format_config(atoms)`` known already (the frame as read):
    the whole-config digest hashes it instead of formatting the config again."""
    if not task.annotates:
        return hashlib.sha256((format_config(atoms) if text is None else text()).encode()
                              ).digest()
    h = hashlib.sha256(DIGEST_FORMAT)
    h.update(np.ascontiguousarray(atoms.cell.array, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(atoms.pbc, dtype="?").tobytes())
    for key in sorted(atoms.arrays):  # numbers and positions among them
        if key in ("numbers", "positions") or keyed(key, task):
            _update(h, b"array", key, atoms.arrays[key])
    for key in sorted(atoms.info):
        if keyed(key, task):
            _update(h, b"info", key, atoms.info[key])
    if atoms.constraints:
        _update(h, b"constraints", "", [c.todict() for c in atoms.constraints])
    return h.digest()


def _update(h, part: bytes, key: str, value) -> None:
    """Add one named value, framed by lengths, so no two different inputs hash alike."""
    for piece in (part, key.encode(), _value_bytes(value)):
        h.update(b"%d:" % len(piece))
        h.update(piece)


def _value_bytes(value) -> bytes:
    """The exact value with its type: 1 and 1.0, or a scalar and a 1-element array, differ."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        little = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return b"array %s %r\0" % (little.dtype.str.encode(), value.shape) + little.tobytes()
    if isinstance(value, (bool, np.bool_)):
        return b"bool %d" % bool(value)
    if isinstance(value, (int, np.integer)):
        return b"int %d" % int(value)
    if isinstance(value, (float, np.floating)):
        return b"float " + float(value).hex().encode()
    if isinstance(value, str):
        return b"str " + value.encode("utf-8", "surrogatepass")
    try:
        return b"json " + json.dumps(value, allow_nan=True, default=_plain).encode()
    except (TypeError, ValueError):  # no JSON form (none read from a file): its full repr
        with np.printoptions(threshold=sys.maxsize):
            return b"repr %s " % type(value).__name__.encode() + repr(value).encode()


def _plain(value):
    if isinstance(value, np.ndarray):
        return {"ndarray": value.dtype.str, "values": value.tolist()}
    if isinstance(value, np.generic):
        return {"numpy": value.dtype.str, "value": value.item()}
    raise TypeError(f"{type(value).__name__} has no JSON form")


PAYLOAD_FORMAT = 2  # raise when what the cache stores changes shape


def cache_keys(identity: str) -> Callable[[bytes], bytes]:
    """The task's cache key of a config's digest: a hash of the task identity (verb,
    normalized parameters, calculator fingerprint), the wflcli version, the payload format,
    the reading and writing code, and the digest. The fixed part is hashed once here."""
    fixed = hashlib.sha256(b"%s\0%s/%d\0%s\0" % (identity.encode(), __version__.encode(),
                                                  PAYLOAD_FORMAT, io_fingerprint()))

    def key(digest: bytes) -> bytes:
        whole = fixed.copy()
        whole.update(digest)
        return whole.digest()

    return key


@functools.cache
def io_fingerprint() -> bytes:
    """The code that turns text into a config and a config into text (wflcli.io's files,
    ASE's, numpy's and orjson's versions). A config found by the digest of its text holds
    the text written for it, so both must be those of this run; a release does not change
    within one version, a working tree does."""
    import ase
    import orjson

    import wflcli.io

    h = hashlib.sha256(b"ase %s numpy %s orjson %s\0" % (
        ase.__version__.encode(), np.__version__.encode(), orjson.__version__.encode()))
    for path in sorted(Path(wflcli.io.__file__).parent.glob("*.py")):
        h.update(b"%s\0" % path.name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest().encode()


def config_seed(identity: str, digest: bytes) -> int:
    """The config's random seed: from the task (which holds --seed) and its content, never
    its position, and not the version, so results stay reproducible across releases."""
    return int.from_bytes(hashlib.sha256(b"seed\0%s\0%s" % (identity.encode(), digest))
                          .digest()[:16], "little")
