"""Run a fitting program with its output kept in a file and read line by line as it comes,
so its progress can be shown; the program dies with this process (a kill leaves no
orphan fit running on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable

_PYTHON_UNBUFFERED = {"PYTHONUNBUFFERED": "1"}  # a Python trainer's lines as they come
# Fortran's too, only when they are followed: unbuffered, its stdout and stderr interleave
# as they happened, not as the log has them otherwise (reports, then the error)
_FORTRAN_UNBUFFERED = {"GFORTRAN_UNBUFFERED_PRECONNECTED": "y"}


def follow(command: list[str], cwd: str, output, on_line: Callable[[str], None] | None,
           env: dict | None = None) -> int:
    """Run ``command`` in ``cwd``, its stdout and stderr written to ``output`` (a file) and
    each line passed to ``on_line``; return its exit code. Without ``on_line`` the program
    writes to the file itself, in the order its own buffering gives."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE if on_line else output,
                               stderr=subprocess.STDOUT, text=True, errors="replace",
                               env=dict(env if env is not None else os.environ,
                                        **_PYTHON_UNBUFFERED,
                                        **(_FORTRAN_UNBUFFERED if on_line else {})),
                               preexec_fn=_die_with_parent)
    try:
        for line in process.stdout if on_line else ():
            output.write(line)
            on_line(line)
        return process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """In the child: SIGKILL when the parent dies (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
