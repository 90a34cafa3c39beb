"""Where the store lives, created private to its owner."""

from __future__ import annotations

import os
from pathlib import Path

from wflcli.store.db import StoreUnavailable


def store_home() -> Path:
    """``$WFLCLI_HOME`` or ``~/.wflcli``, created with mode 0700 if missing."""
    home = Path(os.environ.get("WFLCLI_HOME") or Path.home() / ".wflcli").expanduser()
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the store folder {home}: {exc.strerror}") from None
    return home
