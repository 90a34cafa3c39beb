"""An interactive shell on a pseudo-terminal, typed at as a person would: for tests of
what TAB completion really shows (a function called outside completion cannot)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[\]P][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()=>][0-9A-Za-z]?")

# how each shell starts bare, and how it loads a completion script
SHELLS = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], "source {script}"),
    "zsh": (["zsh", "-f", "-i"], "autoload -U compinit; compinit -u; source {script}"),
    "fish": (["fish", "--no-config", "-i"], "source {script}"),
}


class Shell:
    """A shell in ``cwd`` with ``env``; ``type(text)`` sends keys, ``screen()`` reads what
    it printed since the last call (escape sequences removed)."""

    def __init__(self, shell: str, cwd: Path, env: dict, script: Path | None = None,
                 term: str | None = None, columns: int = 120):
        argv, load = SHELLS[shell]
        self.fd_parent, fd_child = pty.openpty()
        fcntl.ioctl(fd_child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        # fish draws its list of candidates only on a terminal it knows
        env = dict(env, TERM=term or ("xterm" if shell == "fish" else "dumb"), PS1="$ ",
                   PROMPT="$ ", HOME=str(cwd), fish_greeting="")
        self.process = subprocess.Popen(argv, stdin=fd_child, stdout=fd_child,
                                        stderr=fd_child, cwd=cwd, env=env,
                                        preexec_fn=_own_terminal)
        os.close(fd_child)
        if script is not None:
            self.type(load.format(script=script) + "\n")
        self.screen(settle=1.5)

    def type(self, text: str) -> None:
        os.write(self.fd_parent, text.encode())

    def screen(self, settle: float = 1.0, timeout: float = 20.0) -> str:
        """Output until nothing new came for ``settle`` seconds."""
        chunks, last, start = [], time.monotonic(), time.monotonic()
        while time.monotonic() - last < settle and time.monotonic() - start < timeout:
            ready, _, _ = select.select([self.fd_parent], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.fd_parent, 65536)
                except OSError:
                    break
                chunks.append(data)
                last = time.monotonic()
        return _ANSI.sub(b"", b"".join(chunks)).replace(b"\r", b"").decode(errors="replace")

    def complete(self, line: str) -> str:
        """What the screen shows after typing ``line`` and TAB twice (the line is then
        cleared with Ctrl-C)."""
        self.type(line + "\t")
        first = self.screen()
        self.type("\t")
        shown = first + self.screen()
        self.type("\x05\x15")
        self.screen(settle=0.5)
        return shown

    def close(self) -> None:
        with _ignored():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        os.close(self.fd_parent)


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty (fish wants one)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class _ignored:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)
