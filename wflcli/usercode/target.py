"""``package.module:name`` or ``path/to/file.py:name``: a function or class of the user's,
found and checked where the command line is read, so a typo is one usage error before any
work. A file is imported as ``python file.py`` would see it: its folder first on
``sys.path``, so the helper modules beside it import too."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback

from wflcli.errors import UsageError


class TargetError(UsageError):
    """A target that cannot be used: ``what`` is how the caller names it, ``fact`` why."""

    def __init__(self, what: str, fact: str):
        self.what, self.fact = what, fact
        super().__init__(f"{what}: {fact}")


def is_file_target(where: str) -> bool:
    return where.endswith(".py") or os.sep in where


def normalized_target(text: str, what: str) -> str:
    """The target with a file's path made absolute (workers, and a remote job on a
    machine that sees the same files, find it from anywhere)."""
    where, name = split_target(text, what)
    if is_file_target(where):
        if not os.path.isfile(where):
            raise TargetError(what, f"no such file {where!r}")
        where = os.path.abspath(where)
    return f"{where}:{name}"


def split_target(text: str, what: str) -> tuple[str, str]:
    where, colon, name = text.rpartition(":")
    if not colon or not where or not name.isidentifier():
        raise TargetError(what, f"{text!r} is not package.module:name or path/to/file.py:name")
    return where, name


def load_target(text: str, what: str):
    """The object a target names; an import that fails, or a missing name, is a usage
    error saying which file or module and, for an error inside it, where."""
    where, name = split_target(text, what)
    try:
        return getattr(target_module(text, what), name)
    except AttributeError:
        raise TargetError(what, f"{where} has no {name}") from None


def target_module(text: str, what: str):
    """The module a target's name is looked up in (imported once per process)."""
    where, name = split_target(text, what)
    return _load_file(where, what) if is_file_target(where) else _load_module(where, name, what)


def check_call(target, text: str, what: str, positional: int, keywords: dict) -> None:
    """A usage error unless ``target`` is callable with ``positional`` arguments and these
    keywords (values do not matter)."""
    if not callable(target):
        raise TargetError(what, f"{text} is not callable (it is {type(target).__name__})")
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return  # a builtin without a signature: its first call will say
    try:
        signature.bind(*[None] * positional, **keywords)
    except TypeError as exc:
        takes = "one positional argument" if positional == 1 else "no positional argument"
        raise TargetError(what, f"{text} cannot be called with {takes}"
                         + (f" and {', '.join(keywords)}" if keywords else "")
                         + f" ({exc})") from None


def accepts(target, parameter: str) -> bool:
    """Whether the callable has a parameter of this name (not just ``**kwargs``)."""
    try:
        return parameter in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def _load_module(module: str, name: str, what: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        hint = ""
        here = module.replace(".", os.sep) + ".py"
        if exc.name and module.startswith(exc.name) and os.path.isfile(here):
            hint = (f"; {here} is a file in this folder: give it as ./{here}:{name} "
                    "(a module name is looked up on sys.path, not here)")
        raise TargetError(what, f"cannot import {module} ({exc}){hint}") from None
    except Exception as exc:
        raise TargetError(what, f"cannot import {module} ({described(exc)})") from None


def _load_file(path: str, what: str):
    if not os.path.isfile(path):
        raise TargetError(what, f"no such file {path!r}")
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    existing = sys.modules.get(name)
    if existing is not None:
        if os.path.realpath(getattr(existing, "__file__", None) or "") == os.path.realpath(path):
            return existing
        name = f"wfl_user_{hashlib.sha256(path.encode()).hexdigest()[:8]}_{name}"
        if name in sys.modules:
            return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise TargetError(what, f"cannot import {path} ({described(exc)})") from None
    return module


def described(exc: BaseException) -> str:
    """The exception and where it happened: file:line of a syntax error, else the last
    frame of the traceback."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg}, {exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f", {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"
