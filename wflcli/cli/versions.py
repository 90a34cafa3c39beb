"""``wfl --version``: this package's version and, with ``--json``, those of its backends."""

from __future__ import annotations

import json
import platform
from importlib import metadata

from wflcli import __version__

_REPORTED = ("ase", "numpy", "click", "rich", "asyncssh", "tblite", "rdkit", "quippy-ase",
             "matplotlib", "phonopy", "pyxtal")


def version_text(as_json: bool) -> str:
    if not as_json:
        return f"wflcli {__version__}"
    packages = {}
    for name in _REPORTED:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return json.dumps({"wflcli": __version__, "python": platform.python_version(),
                       "packages": packages}, indent=2)
