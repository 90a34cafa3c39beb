"""Input files that travel with a batch job: models and their companions, the user's code
and the modules beside it, folders named by ``--stage``.

Files that belong together (GAP.xml and its ``.sparse*`` files, a ``.py`` file and the
helper modules it imports) form a bundle, uploaded once per content hash to
``RUNDIR/staged/DIGEST/`` and reused by every later job. A job folder (a task's working
folder) mirrors the relative paths as typed with links into ``staged/``, so
``./mycalc.py``, ``models/gap.xml`` or a ``pseudos/`` folder that a code or the user's own
code opens by a relative name resolve there as they do here; an absolute path (or one that
climbs out with ``..``) is rewritten in the job's arguments and environment to its staged
copy. Each upload is checked on the far side (size and sha256) before it is renamed into
place, so a bundle that is there is whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import time
from dataclasses import dataclass, field, replace

from wflcli.errors import UsageError, WflError
from wflcli.usercode.fingerprint import code_modules, companions, file_sha256

STAGED = "staged"            # under the system's rundir
MANIFEST = "staged.json"     # in a job folder: the digests it links to


class StagingError(WflError):
    """An input file could not be placed on the system, or arrived damaged."""


@dataclass(frozen=True)
class Bundle:
    """Local files staged as one folder: ``members`` are (name inside it, local path)."""

    digest: str
    typed: str               # the path as the user gave it
    place: str               # where it appears in a job folder ("" when rewritten)
    members: tuple
    folder: bool = False     # a whole folder: linked as one

    @property
    def entry(self) -> str:
        """The name inside the bundle that the typed path means."""
        return "" if self.folder else self.members[0][0]


@dataclass(frozen=True)
class StagePlan:
    bundles: tuple = ()

    @property
    def empty(self) -> bool:
        return not self.bundles


def plan_staging(files=(), modules=(), folders=()) -> StagePlan:
    """The bundles for these (path as typed, what) pairs; a missing path is a usage error
    naming ``what``. Contents are hashed here, once per run."""
    bundles: dict[str, Bundle] = {}
    for kind, requests in (("file", files), ("module", modules), ("folder", folders)):
        for typed, what in requests:
            bundle = _bundle(kind, typed, what)
            bundles.setdefault(bundle.typed, bundle)
    return StagePlan(tuple(bundles.values()))


def _bundle(kind: str, typed: str, what: str) -> Bundle:
    exists = os.path.isdir(typed) if kind == "folder" else os.path.isfile(typed)
    if not exists:
        noun = "folder" if kind == "folder" else "file"
        raise UsageError(f"{what}: no such {noun} {typed!r} (nothing was submitted)")
    if kind == "folder":
        members = _folder_members(typed)
    else:
        path = os.path.abspath(typed)
        others = (companions(path) if kind == "file" else
                  _sibling_modules(path))
        members = [(os.path.basename(path), path)] + [
            (os.path.relpath(other, os.path.dirname(path)), other) for other in others
            if other != path]
    digest = hashlib.sha256()
    for name, path in members:
        digest.update(json.dumps([name, file_sha256(path)]).encode() + b"\n")
    return Bundle(digest.hexdigest(), typed, _place(typed), tuple(members), kind == "folder")


def _folder_members(folder: str) -> list[tuple[str, str]]:
    members = []
    for root, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            if os.path.isfile(path):
                members.append((os.path.relpath(path, folder), os.path.abspath(path)))
    return members


def _sibling_modules(path: str) -> list[str]:
    """The modules a file imports from its own folder (or below it), as Python finds them
    there; the file is imported as ``python file.py`` would (folder first on sys.path)."""
    import sys

    from wflcli.usercode.target import target_module

    folder = os.path.dirname(path)
    target_module(f"{path}:_", "--stage")  # imported once per process, as map/python: do
    module = next((m for m in list(sys.modules.values())
                   if os.path.realpath(getattr(m, "__file__", None) or "") ==
                   os.path.realpath(path)), None)
    found = code_modules(module) if module is not None else {}
    return sorted(source for source in found.values()
                  if os.path.realpath(source).startswith(os.path.realpath(folder) + os.sep))


def _place(typed: str) -> str:
    """The typed path as a job folder holds it, or "" if it cannot (absolute, ``..``)."""
    if os.path.isabs(typed):
        return ""
    normal = posixpath.normpath(typed.replace(os.sep, "/"))
    if normal == "." or normal.startswith("../") or normal == "..":
        return ""
    return normal


@dataclass
class Staged:
    """A plan on a system: where each bundle lies there, and what the upload cost."""

    plan: StagePlan
    rundir: str
    uploaded: int = 0        # files sent this time
    reused: int = 0          # bundles already there
    bytes: int = 0
    seconds: float = 0.0     # the staging step's wall time
    rewrites: dict = field(default_factory=dict)   # typed path -> its staged copy

    def copy_of(self, bundle: Bundle) -> str:
        return posixpath.join(self.rundir, STAGED, bundle.digest)

    def message(self) -> str:
        files = sum(len(b.members) for b in self.plan.bundles)
        return (f"staged {files} input file(s) in {posixpath.join(self.rundir, STAGED)}: "
                f"{self.uploaded} uploaded ({self.bytes} bytes), {self.reused} bundle(s) "
                f"reused, {self.seconds:.2f} s")

    def argv(self, command: list[str]) -> list[str]:
        """The command with each absolute staged path pointing at its staged copy."""
        return [rewrite(word, self.rewrites) for word in command]

    def localized(self, data: bytes) -> bytes:
        """A task's outcomes file with each staged copy's path replaced by the local folder
        it came from, so an error names the user's own file (``my_ops.py:6 in scaled``);
        the configs' results are encoded there and stay as the job wrote them."""
        for bundle in self.plan.bundles:
            local = (os.path.abspath(bundle.typed) if bundle.folder else
                     os.path.dirname(bundle.members[0][1]))
            data = data.replace(self.copy_of(bundle).encode(),  # results are JSON lines
                                json.dumps(local)[1:-1].encode())
        return data

    def env(self, env: tuple) -> tuple:
        return tuple((name, rewrite(value, self.rewrites)) for name, value in env)


_BOUNDARIES = ("", "=", ":", ",")


def rewrite(word: str, rewrites: dict) -> str:
    """``word`` with each path of ``rewrites`` replaced where it stands as a whole value:
    the word, or a part after ``=``/``:``/``,`` and before ``,``/``:``/``/`` or the end
    (``gap:/m/GAP.xml``, ``python:/c/calc.py:Calc``, ``pseudo_dir=/p,ecut=30``)."""
    for path, staged in sorted(rewrites.items(), key=lambda item: -len(item[0])):
        start = 0
        while (found := word.find(path, start)) >= 0:
            end = found + len(path)
            before = word[found - 1] if found else ""
            after = word[end] if end < len(word) else ""
            if before in _BOUNDARIES and after in ("", ",", ":", "/"):
                word = word[:found] + staged + word[end:]
                end = found + len(staged)
            start = end
    return word


async def stage_inputs(engine) -> Staged | None:
    """The batch engine's staging step, once its rundir is known: upload the spec's plan,
    point the command and the system's environment at the staged copies, and say what
    it cost. None when nothing is staged."""
    plan = engine.spec.staging
    if plan is None or plan.empty:
        return None
    started = time.perf_counter()
    try:
        staged = await upload(engine.transport, engine.rundir, plan)
    except OSError as exc:
        raise StagingError(f"{engine.system.name}: {exc.strerror or exc}") from None
    staged.seconds = time.perf_counter() - started
    engine.spec = replace(engine.spec, command=staged.argv(engine.spec.command))
    engine.system = replace(engine.system, env=staged.env(engine.system.env))
    engine.on_event(staged.message())
    return staged


async def upload(transport, rundir: str, plan: StagePlan) -> Staged:
    """Each bundle not yet on the system goes to ``RUNDIR/staged/DIGEST`` (through a
    ``.part`` folder, checked, then renamed); a bundle there already is reused."""
    staged = Staged(plan, rundir)
    root = posixpath.join(rundir, STAGED)
    await transport.makedirs(root)
    present = set(await transport.listdir(root))
    for bundle in plan.bundles:
        if bundle.digest not in present:
            await _send(transport, staged, bundle)
            present.add(bundle.digest)
        else:
            staged.reused += 1
        if not bundle.place:
            copy = staged.copy_of(bundle)
            staged.rewrites[bundle.typed] = (posixpath.join(copy, bundle.entry)
                                             if bundle.entry else copy)
            staged.rewrites.setdefault(os.path.abspath(bundle.typed),
                                       staged.rewrites[bundle.typed])
    return staged


async def _send(transport, staged: Staged, bundle: Bundle) -> None:
    final = staged.copy_of(bundle)
    part = f"{final}.part-{os.urandom(4).hex()}"
    expected = {}
    for name, path in bundle.members:
        target = posixpath.join(part, name)
        await transport.makedirs(posixpath.dirname(target))
        with open(path, "rb") as stream:
            data = stream.read()
        await transport.put(data, target, mode=0o444)
        expected[target] = (len(data), hashlib.sha256(data).hexdigest())
        staged.uploaded += 1
        staged.bytes += len(data)
    found = await transport.checksums(list(expected))
    for target, (size, digest) in expected.items():
        if found.get(target) != (size, digest):
            await transport.rmtree(part)
            there = found.get(target)
            raise OSError(f"staging {bundle.typed}: {target} arrived as {there} bytes/sha256, "
                          f"expected {size} bytes, sha256 {digest[:12]}...")
    if not await transport.rename(part, final):  # another wfl staged the same meanwhile
        await transport.rmtree(part)


async def link_into(transport, staged: Staged, folder: str) -> None:
    """Mirror the relative paths in a job folder with links into ``staged/``, and name
    the digests used in ``folder/staged.json`` (``wfl remote clean --staged`` reads it)."""
    made: set[str] = set()
    linked: set[str] = set()
    for bundle in staged.plan.bundles:
        if not bundle.place:
            continue
        copy = staged.copy_of(bundle)
        links = ([(bundle.place, copy)] if bundle.folder else
                 [(posixpath.join(posixpath.dirname(bundle.place), name),
                   posixpath.join(copy, name)) for name, _ in bundle.members])
        for relative, target in links:
            if relative in linked:  # a helper module two bundles share: one link will do
                continue
            linked.add(relative)
            parent = posixpath.dirname(relative)
            if parent and parent not in made:
                await transport.makedirs(posixpath.join(folder, parent))
                made.add(parent)
            await transport.symlink(target, posixpath.join(folder, relative))
    digests = sorted({bundle.digest for bundle in staged.plan.bundles})
    await transport.put(json.dumps(digests).encode(), posixpath.join(folder, MANIFEST))


async def staged_in_use(transport, folders) -> set[str]:
    """The digests the given job folders link to (a folder without a manifest: none)."""
    used: set[str] = set()
    for folder in folders:
        try:
            used.update(json.loads(await transport.get(posixpath.join(folder, MANIFEST))))
        except FileNotFoundError:
            continue
        except ValueError:  # unreadable: keep everything rather than guess
            return {"*"}
    return used


async def unused_staged(transport, rundir: str, used: set[str]) -> list[str]:
    """The staged copies (and leftover ``.part`` folders) no listed job folder uses."""
    root = posixpath.join(rundir, STAGED)
    try:
        names = await transport.listdir(root)
    except FileNotFoundError:
        return []
    if "*" in used:
        return []
    return sorted(posixpath.join(root, name) for name in names
                  if name.partition(".")[0] not in used
                  and _is_digest(name.partition(".")[0]))


def _is_digest(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)
