"""Commands and files on another machine over one SSH connection (asyncssh).

One connection per system per process carries every command and SFTP transfer. It honours
``~/.ssh/config``, the agent, key files and known_hosts; an unknown host key is an error
unless the system opts in to trust a host seen for the first time (never a changed key).
A connection lost mid-run is reopened with backoff, so a restarted sshd or a network blip
costs a pause, not the run.
"""

from __future__ import annotations

import asyncio
import errno
import os
import posixpath
from pathlib import Path

from wflcli.exec.transport import Completed, TransportError, shell_line

RECONNECT_SECONDS = 120.0  # give up after trying this long


class SSHTransport:
    def __init__(self, system):
        self.system = system
        self.label = (f"{system.user + '@' if system.user else ''}{system.host}"
                      + (f":{system.port}" if system.port else ""))
        self._connection = None
        self._sftp = None
        self._lock = asyncio.Lock()
        self.reconnects = 0

    async def _connect(self):
        import asyncssh

        if not 0 <= self.system.port <= 65535:
            raise TransportError(f"{self.label}: port {self.system.port} is not a TCP port "
                                 f"(1-65535; system {self.system.name})")

        options = {"username": self.system.user or None, "port": self.system.port or (),
                   "client_keys": [self.system.identity] if self.system.identity else (),
                   "known_hosts": self.system.known_hosts or (),
                   "keepalive_interval": 30}
        options = {key: value for key, value in options.items() if value not in ((), None)}
        try:
            try:
                connection = await asyncssh.connect(self.system.host, **options)
            except asyncssh.HostKeyNotVerifiable:
                if not (self.system.accept_new_host and not self._host_is_known()):
                    raise
                connection = await asyncssh.connect(self.system.host,
                                                    **{**options, "known_hosts": None})
                self._remember_host(connection)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise TransportError(
                f"{self.label}: the host key is not trusted ({exc.reason}); add it to "
                f"{self._known_hosts_file()} (ssh to it once and check the fingerprint), "
                f"or set accept_new_host = true for system {self.system.name}") from None
        except asyncssh.PermissionDenied:
            raise TransportError(f"{self.label}: permission denied (no key accepted; check "
                                 "identity, the agent and ~/.ssh/config)") from None
        except (OSError, asyncssh.Error) as exc:
            raise TransportError(f"{self.label}: cannot connect ({_reason(exc)})") from None
        self._connection = connection
        self._sftp = await connection.start_sftp_client()

    def _known_hosts_file(self) -> Path:
        return Path(self.system.known_hosts or Path.home() / ".ssh" / "known_hosts")

    def _host_name(self) -> str:
        port = self.system.port or 22
        return self.system.host if port == 22 else f"[{self.system.host}]:{port}"

    def _host_is_known(self) -> bool:
        path = self._known_hosts_file()
        if not path.is_file():
            return False
        name = self._host_name()
        return any(name in line.split(" ", 1)[0].split(",") for line in path.read_text()
                   .splitlines() if line and not line.startswith("#"))

    def _remember_host(self, connection) -> None:
        key = connection.get_server_host_key()
        path = self._known_hosts_file()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path, "a") as stream:
            stream.write(f"{self._host_name()} {key.export_public_key().decode().strip()}\n")
        os.chmod(path, 0o600)

    async def _session(self):
        async with self._lock:
            if self._connection is None:
                await self._connect()
        return self._connection, self._sftp

    async def _with_retry(self, operation):
        """Run ``operation(connection, sftp)``; reconnect with backoff if the link drops."""
        import asyncssh

        delay, waited = 0.5, 0.0
        while True:
            connection, sftp = await self._session()
            try:
                return await operation(connection, sftp)
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError,
                    ConnectionResetError, asyncssh.ChannelOpenError) as exc:
                await self._drop(connection)
                if waited >= RECONNECT_SECONDS:
                    raise TransportError(f"{self.label}: connection lost ({_reason(exc)})"
                                         ) from None
            while True:  # reconnect, or keep waiting until the deadline
                await asyncio.sleep(delay)
                waited, delay = waited + delay, min(delay * 2, 10.0)
                try:
                    await self._session()
                    self.reconnects += 1
                    break
                except TransportError:
                    if waited >= RECONNECT_SECONDS:
                        raise

    async def _drop(self, connection) -> None:
        async with self._lock:
            if self._connection is connection:
                self._connection = self._sftp = None
                connection.abort()

    async def run(self, argv: list[str], cwd: str | None = None,
                  prelude: tuple = ()) -> Completed:
        async def operation(connection, sftp):
            done = await connection.run(shell_line(argv, cwd, prelude), check=False,
                                        stdin=asyncio.subprocess.DEVNULL)
            code = done.exit_status if done.exit_status is not None else -1
            return Completed(argv, code, done.stdout or "", done.stderr or "")

        return await self._with_retry(operation)

    async def put(self, data: bytes, path: str, mode: int | None = None) -> None:
        async def operation(connection, sftp):
            temporary = f"{path}.part"
            async with sftp.open(temporary, "wb") as stream:
                await stream.write(data)
            if mode is not None:
                await sftp.chmod(temporary, mode)
            await sftp.posix_rename(temporary, path)

        await self._with_retry(operation)

    async def checksums(self, paths: list[str]) -> dict[str, tuple[int, str]]:
        """Size (SFTP) and sha256 (``sha256sum`` there) of each file, computed on the far
        side: what arrived, not what was sent."""
        if not paths:
            return {}
        done = (await self.run(["sha256sum", "--", *paths])).check()
        sums = [line.lstrip("\\")[:64] for line in done.stdout.splitlines()]
        sizes = [await self._with_retry(lambda connection, sftp, path=path: sftp.stat(path))
                 for path in paths]
        return {path: (attributes.size, digest)
                for path, attributes, digest in zip(paths, sizes, sums)}

    async def rename(self, source: str, target: str) -> bool:
        """Rename, unless ``target`` exists (False): another process was first."""
        import asyncssh

        async def operation(connection, sftp):
            if await sftp.exists(target):
                return False
            try:
                await sftp.rename(source, target)
            except asyncssh.SFTPError:
                if await sftp.exists(target):
                    return False
                raise
            return True

        return await self._with_retry(operation)

    async def symlink(self, target: str, path: str) -> None:
        await self._with_retry(lambda connection, sftp: sftp.symlink(target, path))

    async def fetch_tree(self, path: str, local: str) -> None:
        """Copy a folder from the far side into ``local`` (made if missing)."""
        os.makedirs(local, exist_ok=True)

        async def operation(connection, sftp):
            for name in await sftp.listdir(path):
                if name not in (".", ".."):
                    await sftp.get(posixpath.join(path, name), local, recurse=True)

        await self._with_retry(lambda connection, sftp: _sftp_call(operation(
            connection, sftp), path))

    async def get(self, path: str) -> bytes:
        async def operation(connection, sftp):
            async with sftp.open(path, "rb") as stream:
                return await stream.read()

        return await self._with_retry(lambda connection, sftp: _sftp_call(operation(
            connection, sftp), path))

    async def listdir(self, path: str) -> list[str]:
        names = await self._with_retry(lambda connection, sftp: _sftp_call(
            sftp.listdir(path), path))
        return [name for name in names if name not in (".", "..")]

    async def makedirs(self, path: str) -> None:
        await self._with_retry(lambda connection, sftp: sftp.makedirs(path, exist_ok=True))

    async def absolute(self, path: str) -> str:
        """``path`` with ``~`` or a relative name resolved against the remote home."""
        if path.startswith("/"):
            return path
        home = await self._with_retry(lambda connection, sftp: sftp.realpath("."))
        rest = path[2:] if path.startswith("~/") else "" if path == "~" else path
        return posixpath.join(home, rest) if rest else home

    async def rmtree(self, path: str) -> None:
        await self._with_retry(lambda connection, sftp: sftp.rmtree(path))

    async def islink(self, path: str) -> bool:
        return await self._with_retry(lambda connection, sftp: sftp.islink(path))

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            await self._connection.wait_closed()
            self._connection = self._sftp = None


async def _sftp_call(awaitable, path: str):
    """SFTP 'no such file' as the FileNotFoundError local file access raises."""
    import asyncssh

    try:
        return await awaitable
    except asyncssh.SFTPNoSuchFile:
        raise FileNotFoundError(errno.ENOENT, "no such file", path) from None


def _reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc) \
        or type(exc).__name__
