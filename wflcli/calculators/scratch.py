"""A fresh folder for every calculation of a file-based code.

Codes that write fixed file names (``nwchem.nwo``, ``OUTCAR``) overwrite each other when
two run in one folder; a folder per config keeps ``--parallel`` runs apart. After a run
the folder is pruned to what ``--keep-files`` asks for; a failed run keeps everything.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

KEEP_CHOICES = ("none", "outputs", "all")
_TAIL_LINES = 20


def default_scratch(output: str | None) -> str:
    """Beside the output file (``ref.xyz.gz`` -> ``ref-files``), else in the working
    folder."""
    if not output or output == "-":
        return "wfl-calc-files"
    name = os.path.basename(output)
    for suffix in (".gz", ".bz2", ".xz"):
        name = name.removesuffix(suffix)
    stem = os.path.splitext(name)[0] or "wfl-calc"
    return os.path.join(os.path.dirname(output), f"{stem}-files")


def folder_name(index: int) -> str:
    """``config-000012``: the folder of input config 12 (a second one gets ``.1``)."""
    return f"config-{index:06d}"


def new_folder(root: str, index: int) -> Path:
    """``ROOT/config-000012``: a new, empty folder; a name in use gets a suffix, so a
    folder kept from an earlier run is never reused or overwritten."""
    for attempt in range(10_000):
        suffix = f".{attempt}" if attempt else ""
        folder = Path(root, f"{folder_name(index)}{suffix}")
        try:
            os.makedirs(root, exist_ok=True)
            folder.mkdir()
            return folder.resolve()
        except FileExistsError:
            continue
    raise RuntimeError(f"no free config folder name under {root}")


@contextmanager
def short_alias(folder: Path):
    """A short path to the folder (a link in the temporary folder), for codes that cannot
    take long paths (CP2K's project name has at most 80 characters)."""
    holder = tempfile.mkdtemp(prefix="wfl-")
    alias = os.path.join(holder, "c")
    os.symlink(folder, alias)
    try:
        yield alias
    finally:
        shutil.rmtree(holder, ignore_errors=True)  # the link only: rmtree does not follow it


def prune(folder: Path, keep: str, patterns: tuple) -> None:
    """Leave what ``keep`` asks for: nothing (the folder goes), the code's input and output
    files, or everything."""
    if keep == "all":
        return
    if keep == "none":
        shutil.rmtree(folder, ignore_errors=True)
        _remove_if_empty(folder.parent)
        return
    for entry in folder.iterdir():
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in patterns):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (another config's folder, kept files), or gone already
        pass


def output_tail(folder: Path, log: str, lines: int = _TAIL_LINES) -> str:
    """The last lines the code wrote (its log, else any ``*.err`` file), for the error."""
    candidates = [folder / log, *sorted(folder.glob("*.err"))]
    for path in candidates:
        try:
            with open(path, "rb") as stream:
                stream.seek(0, os.SEEK_END)
                stream.seek(max(0, stream.tell() - 16_384))
                text = stream.read().decode("utf-8", "replace")
        except OSError:
            continue
        if text.strip():
            return "\n".join(text.rstrip().splitlines()[-lines:])
    return ""
