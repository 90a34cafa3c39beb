"""Expected errors and the exit codes of DESIGN.md.

An expected error is shown as one line (no traceback unless -v); anything else is a bug.
"""

import enum
import signal


class ExitStatus(enum.IntEnum):
    """How a command ended, as its exit code."""

    OK = 0
    ERROR = 1
    USAGE = 2
    SOME_FAILED = 3               # finished, but some configs failed
    INTERRUPTED = 130             # Ctrl-C
    TERMINATED = 128 + signal.SIGTERM


class WflError(Exception):
    """An error the user can act on; its message is the whole story."""

    exit_code = ExitStatus.ERROR


class UsageError(WflError):
    """Bad options or arguments."""

    exit_code = ExitStatus.USAGE


class InputError(WflError):
    """Malformed input data, located by source name and line number."""

    def __init__(self, source: str, line: int | None, what: str):
        self.source, self.line, self.what = source, line, what
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {what}")


class MissingBackend(WflError):
    """An optional package is needed for what was asked."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the Python package '{package}': "
            f"pip install 'wflcli[{extra}]' (or pip install {package})"
        )


class ReaderGone(Exception):
    """The program reading our stdout has exited (``wfl ... | head``): stop quietly, exit 0."""
