"""Files a task's configs left on the system (a file-based code's folders), brought back
into the local scratch folder as a local run would have left them, before the task counts
as done (so ``wfl remote clean`` cannot remove them first)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class FolderFetch:
    """``remote``: the folders' parent, relative to the job folder; ``name(index)``: a
    config's folder name there (a second run of it adds ``.N``); ``local(index)``: a new
    local folder for one of them."""

    remote: str
    name: Callable[[int], str]
    local: Callable[[int], object]

    async def __call__(self, transport, folder: str, items: list) -> None:
        root = posixpath.join(folder, self.remote)
        try:
            present = set(await transport.listdir(root))
        except FileNotFoundError:
            return  # nothing kept: no file-based code ran, or --keep-files none
        for index, _, _ in items:
            base = self.name(index)
            found = sorted((n for n in present if n == base or n.startswith(base + ".")),
                           key=lambda n: (len(n), n))
            for name in found:
                await transport.fetch_tree(posixpath.join(root, name), str(self.local(index)))
