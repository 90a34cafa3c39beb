"""Where a verb's output goes: stdout, or a file that appears only when complete.

A file is written under a temporary name in its own folder and renamed into place on
success, so a failed or interrupted run never leaves a half-written file and never
clobbers the previous one (devices and FIFOs, which cannot be replaced, are written in
place). The temporary name carries the host and process id, so the
next run to write that file removes what a killed one (SIGKILL, a crash) left behind.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from wflcli.errors import WflError
from wflcli.io.formats import extension, write_format, write_with_ase
from wflcli.io.sources import COMPRESSORS


class Sink:
    """Accepts text and writes it UTF-8 encoded; ``flush`` pushes it down a pipe at once.
    A sink that nobody reads before it is complete (a temporary file, not compressed) has
    nothing to push: its flush does nothing, and the file is written in buffer-sized
    pieces, not a system call a config. (A compressed stream still flushes: that is part of
    the bytes it makes.)"""

    routes = False  # one file per input (per_input.py)
    _pushes = True

    def __init__(self, stream: BinaryIO, pushes: bool = True):
        self._stream, self._pushes = stream, pushes

    def write(self, text: str) -> None:
        self._stream.write(text.encode("utf-8"))

    def flush(self) -> None:
        if self._pushes:
            self._stream.flush()

    def select(self, sequence: int) -> None:
        """Before the ``sequence``-th outcome: one file takes them all (see per_input.py)."""

    def where(self, index: int):
        """How a message names the config at ``index``."""
        return index


def open_target(target, stdout: BinaryIO):
    """``open_output`` for a path or None; a context manager giving a sink (one file per
    input, per_input.py) is used as it is."""
    return target if hasattr(target, "__enter__") else open_output(target, stdout)


@contextlib.contextmanager
def open_output(path: str | None, stdout: BinaryIO) -> Iterator[Sink]:
    """A Sink for ``path`` (atomic) or for stdout when path is None or ``-``."""
    if path is None or path == "-" or descriptor_named(path) == 1:
        yield Sink(stdout)  # /dev/stdout: while a verb runs, descriptor 1 is stderr
        stdout.flush()
        return
    fmt = write_format(path)
    if fmt is not None:  # a format of ASE's: written once everything is there
        sink = Sink(io.BytesIO())  # kept as extxyz text until the end
        yield sink
        _write_collected(sink, path, fmt)
        return
    compressor = COMPRESSORS.get(extension(path)[1])
    with _atomic_or_in_place(path) as (stream, in_place):
        if compressor is None:
            yield Sink(stream, pushes=in_place)
            return
        with _compressed(compressor, stream) as packed:
            yield Sink(packed)


def _compressed(compressor, stream):
    if compressor is gzip.open:  # no time stamp in the header: the same output every run
        return gzip.GzipFile(fileobj=stream, mode="wb", mtime=0)
    return compressor(stream, "wb")


def _write_collected(sink: Sink, path: str, fmt: str) -> None:
    """Read the text back and write it with ASE under a temporary name, then rename."""
    from wflcli.io.reader import FrameReader

    configs = list(FrameReader(io.BytesIO(sink._stream.getvalue()), path))
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    _remove_stale(folder, name)
    temporary = os.path.join(folder, f".{name}.{_HOST}-{os.getpid()}.ase.part"
                                     f"{os.path.splitext(name)[1]}")
    try:
        write_with_ase(configs, temporary, fmt, shown=path)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise WflError(f"{path}: write failed ({exc.strerror or exc})") from None
        raise


@contextlib.contextmanager
def atomic_file(path: str) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` only if the block finishes without error.
    What is there is respected (see ``_atomic_or_in_place``)."""
    with _atomic_or_in_place(path) as (stream, _):
        yield stream


@contextlib.contextmanager
def _atomic_or_in_place(path: str) -> Iterator[tuple[BinaryIO, bool]]:
    """``atomic_file``'s stream, and whether it is ``path`` itself (read as it is written).

    What is there is respected: a device, FIFO or socket is written in place (replacing
    ``/dev/null`` with a regular file would break the machine); a symlink is followed, and
    its target replaced beside itself; an existing file keeps its mode (and, where we may
    set it, its owner); a new file gets the mode the umask allows.
    """
    try:
        status = os.stat(path)  # follows a symlink
    except FileNotFoundError:
        status = None
    except OSError as exc:
        raise WflError(f"{path}: cannot write here ({exc.strerror})") from None
    special = status is not None and not stat.S_ISREG(status.st_mode) \
        and not stat.S_ISDIR(status.st_mode)
    if special or descriptor_named(path) is not None:  # /dev/stderr: that file, not a new one
        with _in_place(path) as stream:
            yield stream, True
        return
    target = os.path.realpath(path)  # a symlink's target, which may not exist yet
    folder, name = os.path.split(target)
    _remove_stale(folder, name)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.{_HOST}-{os.getpid()}.",
                                         suffix=".part", dir=folder)
    except OSError as exc:
        raise WflError(f"{path}: cannot write here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream, False
            stream.flush()
            os.fsync(stream.fileno())
        _take_over(temporary, status)
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise WflError(f"{path}: write failed ({exc.strerror or exc})") from None
        raise


_DESCRIPTOR_PATH = re.compile(r"/(?:proc/(?:self|\d+)/fd|dev/fd)/(\d+)")


def descriptor_named(path: str) -> int | None:
    """The open file descriptor of this process that ``path`` names (``/dev/stdout``,
    ``/dev/fd/N``, ``/proc/self/fd/N`` or a symlink to one), else None."""
    for _ in range(40):  # as the kernel, give up on long chains of symlinks
        path = os.path.normpath(os.path.abspath(path))
        found = _DESCRIPTOR_PATH.fullmatch(path)
        if found:
            pid = path.split("/")[2]
            mine = path.startswith("/dev/") or pid in ("self", str(os.getpid()))
            return int(found.group(1)) if mine else None
        try:
            link = os.readlink(path)
        except OSError:
            return None
        path = os.path.join(os.path.dirname(path), link)
    return None


@contextlib.contextmanager
def _in_place(path: str) -> Iterator[BinaryIO]:
    """Write straight into a device, FIFO or socket (nothing to replace atomically)."""
    try:
        with open(path, "wb") as stream:
            yield stream
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise WflError(f"{path}: write failed ({exc.strerror or exc})") from None


def _take_over(temporary: str, replaced: os.stat_result | None) -> None:
    """Give the new file the mode (and owner) of the file it replaces, or the umask's."""
    if replaced is None:
        os.chmod(temporary, 0o666 & ~_umask())
        return
    os.chmod(temporary, stat.S_IMODE(replaced.st_mode))
    if (replaced.st_uid, replaced.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(temporary, replaced.st_uid, replaced.st_gid)


_HOST = socket.gethostname().replace(".", "_").replace("-", "_") or "host"


def _remove_stale(folder: str, name: str) -> None:
    """Delete temporary files of ``name`` whose writer, a process on this host, is gone."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.{re.escape(_HOST)}-(\d+)\.[^.]+\.part"
                         r"(\.\w+)?$")  # ASE's formats keep their extension after .part
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            found = pattern.match(entry.name)
            if found and not _alive(int(found.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """An ended process nobody has reaped (a container's minimal init may never do it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS): trust kill(0)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
