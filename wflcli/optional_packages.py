"""Optional packages: check for them before work starts, and say which extra brings them."""

from __future__ import annotations

import importlib.util

from wflcli.errors import MissingBackend


def require(module: str, package: str, extra: str, purpose: str) -> None:
    """Raise MissingBackend unless ``module`` can be found (without importing it)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken installation counts as missing
        found = False
    if not found:
        raise MissingBackend(package, extra, purpose)
