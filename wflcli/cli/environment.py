"""The terminal a command runs in: its three streams and whether each is a terminal.

Every terminal-only path (progress, the rich table of ``wfl error``, confirmation prompts,
epoch lines) asks here instead of calling ``isatty`` itself, so a test can run a command
in process as if on a terminal, and in a pipe nothing of it happens."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import click


@dataclass
class Environment:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool
    stdout_isatty: bool
    stderr_isatty: bool

    @classmethod
    def of_process(cls, **terminal: bool) -> Environment:
        """This process's streams as they are now; ``stderr_isatty=True`` and the like
        say what a test wants them taken for."""
        streams = {"stdin": sys.stdin, "stdout": sys.stdout, "stderr": sys.stderr}
        flags = {f"{name}_isatty": _isatty(stream) for name, stream in streams.items()}
        return cls(**streams, **{**flags, **terminal})

    def console(self, stdout: bool = False):
        """A rich console on stderr (or stdout) that draws as on a terminal exactly when
        this environment says it is one."""
        from rich.console import Console

        if stdout:
            return Console(file=self.stdout, force_terminal=self.stdout_isatty)
        return Console(file=self.stderr, force_terminal=self.stderr_isatty, stderr=True)


def current_environment() -> Environment:
    """The environment of the command being run (``run(argv, environment=...)``), or this
    process's own outside a command."""
    context = click.get_current_context(silent=True)
    settings = context.find_root().obj if context is not None else None
    found = getattr(settings, "environment", None)
    return found if found is not None else Environment.of_process()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed, or not a file at all
        return False
