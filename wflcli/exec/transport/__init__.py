"""How commands and files reach a system: this machine, or SSH (asyncssh).

Both give the same coroutines: ``run(argv, cwd=)`` (an argument list, quoted here, never
a shell string from the user), ``put``/``get`` of bytes, ``listdir``, ``makedirs``,
``absolute`` (``~`` and relative paths made absolute), ``rmtree``, ``islink``, and for
staged inputs and fetched results ``checksums`` (size and sha256 computed where the files
are), ``rename`` (False when the target exists), ``symlink``, ``fetch_tree``; and ``close``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from wflcli.errors import WflError


class TransportError(WflError):
    """The system cannot be reached, or a command could not be started there."""


@dataclass
class Completed:
    argv: list
    code: int
    stdout: str
    stderr: str

    def check(self) -> "Completed":
        if self.code != 0:
            detail = (self.stderr or self.stdout).strip().splitlines()
            raise TransportError(f"{self.argv[0]} failed (exit {self.code})"
                                 + (f": {detail[-1]}" if detail else ""))
        return self


def shell_line(argv: list[str], cwd: str | None = None, prelude: tuple = ()) -> str:
    """One POSIX shell line running ``argv`` in ``cwd`` after the configured ``prelude``
    lines; every argument is quoted, so names with spaces, quotes, ``;``, ``$()`` or line
    breaks stay data."""
    parts = list(prelude)
    if cwd:
        parts.append(f"cd {shlex.quote(cwd)}")
    parts.append(shlex.join(argv))
    return " && ".join(parts)


def open_transport(system):
    """The transport for a system: SSH when it names a host, else this machine."""
    if system.host:
        from wflcli.exec.transport.ssh import SSHTransport

        return SSHTransport(system)
    from wflcli.exec.transport.local import LocalTransport

    return LocalTransport()
