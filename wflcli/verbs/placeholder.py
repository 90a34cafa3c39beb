"""Inputs of the verbs that make configs from arguments (species, pairs, compositions): an
empty config whose info says what to build, so the executor core keys, seeds, caches and
spreads the work as it does for any config."""

from __future__ import annotations


def placeholder(**info):
    from ase import Atoms

    atoms = Atoms()
    atoms.info.update(info)
    return atoms
