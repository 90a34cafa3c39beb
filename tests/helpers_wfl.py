"""Running this checkout's installed ``wfl`` as a subprocess (start-up, signals, pipes and
exit codes for real), with the command written as the README writes it:

    wfl_program("calc --calc emt cu.xyz", code=0)
    wfl_program("--parallel 2 calc --calc emt", source, cwd=folder)

The first argument is split as a shell would split it; the ones after it are passed as
they are (paths with spaces or quotes stay one argument). In-process runs are the ``wfl``
fixture of conftest.py.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

PROGRAM = str(Path(sys.executable).parent / "wfl")  # the wfl of the venv running pytest
BOUND = 600  # seconds: a run that hangs fails the test instead of the whole suite


def wfl_argv(command: str = "", *args) -> list[str]:
    """The argument vector: the program, the command's words, then ``args`` unsplit (a
    command that is not a string, a path, is one argument too)."""
    words = shlex.split(command) if isinstance(command, str) else [str(command)]
    return [PROGRAM, *words, *map(str, args)]


def wfl_program(command: str = "", *args, code: int | None = None, input: bytes | None = None,
                timeout: float | None = BOUND, **kwargs) -> subprocess.CompletedProcess:
    """Run ``wfl COMMAND ARGS``; stdout and stderr captured apart (bytes unless
    ``text=True``). With ``code``, the exit status must be that (stderr shows otherwise)."""
    done = subprocess.run(wfl_argv(command, *args), input=input, capture_output=True,
                          timeout=timeout, **kwargs)
    if code is not None:
        assert done.returncode == code, done.stderr
    return done
