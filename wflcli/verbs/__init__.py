"""Verbs: pure work over ``ase.Atoms``, with no click and no stdin/stdout."""
