"""Configs that failed in an earlier step carry ``info['wfl_error']``; nothing may compute
on them as if they were valid. The executor passes them through per-config verbs as failed;
a verb that reads its whole input (a selection, a fit, an error table) leaves them out."""

from __future__ import annotations


def failed_upstream(atoms) -> bool:
    return "wfl_error" in atoms.info


def without_failed(configs) -> tuple[list, int]:
    """(the configs that did not fail upstream, how many did)."""
    kept = [atoms for atoms in configs if not failed_upstream(atoms)]
    return kept, len(configs) - len(kept)
