"""Keep stdout for data: while a verb runs, anything else that writes to file descriptor 1
(a chatty calculator, Fortran or C code, a stray print) is sent to stderr instead."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import BinaryIO


@contextlib.contextmanager
def data_stdout() -> BinaryIO:
    """A binary stream to the real stdout, with descriptor 1 pointed at stderr meanwhile."""
    try:
        real = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # not a real file (tests)
        yield sys.stdout.buffer
        return
    sys.stdout.flush()
    saved = os.dup(real)
    os.dup2(sys.stderr.fileno(), real)
    stream = os.fdopen(saved, "wb")
    try:
        yield stream
    finally:
        with contextlib.suppress(OSError):
            stream.flush()
        os.dup2(saved, real)
        with contextlib.suppress(OSError):
            stream.close()
