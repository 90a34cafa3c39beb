"""What a user's code is made of, for the cache key: a hit must return what a fresh run
would, so the key covers

- the source of the code's module and of every module it imports that is not the standard
  library or an installed distribution, transitively (helper modules in its folder or
  package, an editable install), found by reading import statements, never by running code;
- the installed version of every distribution that code lives in or imports (an upgrade of
  ASE or numpy can change results), and the Python version;
- the content of every file named anywhere in its parameters (nested tables and lists).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import os
import platform
import re
import site
import sys
from collections.abc import Iterator
from types import ModuleType

_MAX_MODULES = 2000  # a bound on the walk through code that is not installed


def code_fingerprint(module: ModuleType | str) -> dict[str, str]:
    """``{"module NAME": sha256, "distribution NAME": version, "python": version}`` for a
    module (or its name) and the code it reaches."""
    code, distributions = _walk(module)
    found = distributions_fingerprint(distributions)
    found.update((f"module {name}", file_sha256(path)) for name, path in code.items())
    return found


def distributions_fingerprint(distributions) -> dict[str, str]:
    """``{"distribution NAME": version, "python": version}``: for code known to come from
    these installed distributions (a built-in calculator's backend)."""
    found = {"python": platform.python_version()}
    found.update((f"distribution {name}", _version(name)) for name in distributions)
    return found


def code_modules(module: ModuleType | str) -> dict[str, str]:
    """Module name -> source file of the code to hash: the module itself unless it is
    installed, and what it imports that is neither installed nor standard, transitively."""
    return _walk(module)[0]


def _walk(module: ModuleType | str) -> tuple[dict[str, str], list[str]]:
    name = module if isinstance(module, str) else module.__name__
    origin = _origin(name)
    code: dict[str, str] = {}
    distributions: set[str] = set()
    pending = [(name, origin)] if origin else []
    while pending and len(code) < _MAX_MODULES:
        name, path = pending.pop()
        if name in code:
            continue
        installed = _installed_distributions(name, path)
        if installed:
            distributions.update(installed)
            continue
        code[name] = path
        for imported in _imports(name, path):
            top = imported.partition(".")[0]
            if top in sys.stdlib_module_names or imported in code:
                continue
            where = _origin(imported)
            if where:
                pending.append((imported, where))
    return code, sorted(distributions)


def _origin(name: str) -> str | None:
    """The source file of a module, found without running it where it is not yet
    imported (``find_spec`` imports only parent packages); None if it has none."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None) if module is not None else None
    if spec is None:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None  # an optional import that is missing: nothing it could change
    origin = getattr(spec, "origin", None)
    if not origin or not os.path.isfile(origin):
        return None  # built in, frozen, a namespace package
    return origin


def _imports(name: str, path: str) -> Iterator[str]:
    """Absolute names of the modules a source file imports (``from pkg import name`` also
    tries ``pkg.name``, a submodule), and literal ``import_module("x")`` calls."""
    if not path.endswith(".py"):
        return  # an extension module: its own distribution's version covers it
    try:
        with open(path, "rb") as stream:
            tree = ast.parse(stream.read(), path)
    except (OSError, SyntaxError, ValueError):
        return
    package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, package)
            if base:
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names
                            if alias.name != "*")
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in
              ("import_module", "__import__")):
            yield node.args[0].value


def _absolute(module: str, level: int, package: str) -> str | None:
    if not level:
        return module
    try:
        return importlib.util.resolve_name("." * level + module, package)
    except (ImportError, ValueError):
        return None


def _installed_distributions(name: str, path: str) -> list[str]:
    """The distributions that installed this module's top-level package, if its file lies
    in a site-packages folder (an editable install or a folder on PYTHONPATH is code)."""
    if not _in_site_packages(path):
        return []
    return sorted(_packages_distributions().get(name.partition(".")[0], []))


def _in_site_packages(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real.startswith(folder + os.sep) for folder in _site_folders())


@functools.lru_cache(maxsize=1)
def _site_folders() -> tuple[str, ...]:
    folders = set(site.getsitepackages()) | {site.getusersitepackages()}
    folders |= {entry for entry in sys.path if os.path.basename(entry) in
                ("site-packages", "dist-packages")}
    return tuple(sorted(os.path.realpath(folder) for folder in folders if folder))


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def files_fingerprint(parameters) -> dict[str, str]:
    """``{"file KEY.PATH": sha256}`` for every string anywhere in ``parameters`` (nested
    tables and lists) that names an existing file, and the files that belong with it
    (``GAP.xml.sparseGAP_...`` beside ``GAP.xml``); a folder by its listing."""
    found = {}
    for where, value in _strings(parameters, ""):
        if os.path.isfile(value):
            found[f"file {where}"] = file_sha256(value)
            for companion in companions(value):
                found[f"file {where}+{os.path.basename(companion)}"] = file_sha256(companion)
        elif os.path.isdir(value):
            found[f"folder {where}"] = _folder_digest(value)
    return found


def _strings(value, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            yield from _strings(item, f"{where}[{position}]")


def companions(path: str) -> list[str]:
    """The files that belong with a model file: those beside it named after it
    (``GAP.xml.sparseX...``, logs aside), and those its XML names (a renamed model still
    points at its sparse files by their first names)."""
    folder, name = os.path.split(os.path.abspath(path))
    found = {os.path.join(folder, other) for other in os.listdir(folder)
             if other.startswith(name + ".") and not other.endswith(".log")}
    if name.endswith(".xml"):
        try:
            found.update(os.path.join(folder, other) for other in xml_named_files(path))
        except OSError:
            pass  # unreadable: the model's own digest fails louder
    return sorted(other for other in found if os.path.isfile(other))


# GAP's gpCoordinates attribute: the file beside the XML that holds its sparse points
_XML_NAMED = re.compile(r'\bsparseX_filename="([^"]+)"')


def xml_named_files(model: str) -> list[str]:
    """The files a model XML names, in order, read line by line (models can be large)."""
    names: list[str] = []
    with open(model, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            names.extend(name for name in _XML_NAMED.findall(line) if name not in names)
    return names


def _folder_digest(folder: str) -> str:
    """Names, sizes and modification times of the files under a folder: a model folder's
    change is seen without reading gigabytes (a copied folder misses, never wrongly hits)."""
    digest = hashlib.sha256()
    for root, folders, files in os.walk(folder):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                status = os.stat(path)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(path, folder)}\0{status.st_size}\0"
                          f"{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
