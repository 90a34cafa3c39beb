"""Commands and files on this machine (``host`` unset): subprocesses, plain file I/O."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil

from wflcli.exec.transport import Completed, TransportError


class LocalTransport:
    label = "this machine"

    async def run(self, argv: list[str], cwd: str | None = None,
                  prelude: tuple = ()) -> Completed:
        if prelude:  # configured shell lines (venv activation): run through the shell
            from wflcli.exec.transport import shell_line

            argv = ["/bin/sh", "-c", shell_line(argv, cwd, prelude)]
            cwd = None
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            raise TransportError(f"cannot run {argv[0]}: {exc.strerror}") from None
        out, err = await process.communicate()
        return Completed(argv, process.returncode, out.decode(errors="replace"),
                         err.decode(errors="replace"))

    async def put(self, data: bytes, path: str, mode: int | None = None) -> None:
        temporary = f"{path}.part"
        with open(temporary, "wb") as stream:
            stream.write(data)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)

    async def checksums(self, paths: list[str]) -> dict[str, tuple[int, str]]:
        found = {}
        for path in paths:
            with open(path, "rb") as stream:
                data = stream.read()
            found[path] = (len(data), hashlib.sha256(data).hexdigest())
        return found

    async def rename(self, source: str, target: str) -> bool:
        if os.path.lexists(target):
            return False
        os.rename(source, target)
        return True

    async def symlink(self, target: str, path: str) -> None:
        os.symlink(target, path)

    async def fetch_tree(self, path: str, local: str) -> None:
        shutil.copytree(path, local, symlinks=True, dirs_exist_ok=True)

    async def get(self, path: str) -> bytes:
        with open(path, "rb") as stream:
            return stream.read()

    async def listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    async def makedirs(self, path: str) -> None:
        os.makedirs(path, mode=0o700, exist_ok=True)

    async def absolute(self, path: str) -> str:
        return os.path.abspath(os.path.expanduser(path))

    async def rmtree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=False)

    async def islink(self, path: str) -> bool:
        return os.path.islink(path)

    async def close(self) -> None:
        pass
