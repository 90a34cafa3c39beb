"""Expected errors and the exit codes of DESIGN.md.

An expected error is shown as one line (no traceback unless -v); anything else is a bug.
"""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130


class WflError(Exception):
    """An error the user can act on; its message is the whole story."""

    exit_code = EXIT_ERROR


class UsageError(WflError):
    """Bad options or arguments."""

    exit_code = EXIT_USAGE


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
