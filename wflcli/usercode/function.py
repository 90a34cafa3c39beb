"""A user's function for ``wfl map``, checked once where the command line is read: it
imports, it is callable with one positional argument and the keywords it will get, and
its code and files are fingerprinted for the cache key."""

from __future__ import annotations

import inspect
import json
import sys
from dataclasses import dataclass

from wflcli.errors import UsageError
from wflcli.usercode.fingerprint import (
    code_fingerprint,
    code_modules,
    files_fingerprint,
)
from wflcli.usercode.target import (
    accepts,
    check_call,
    load_target,
    normalized_target,
    target_module,
)

RNG = "rng"  # a parameter of this name receives the config's numpy Generator


@dataclass(frozen=True)
class FunctionSpec:
    """What a worker needs to call the function, and what identifies it for the cache."""

    target: str          # module:name or /absolute/file.py:name
    kwargs_json: str     # the keyword arguments, canonical JSON
    init: str = ""       # the factory's target, or ""
    init_as: str = "state"
    takes_rng: bool = False
    code: tuple = ()     # (what, digest) of the code (function's and factory's) and files
    sources: tuple = ()  # the user's source files: where a failure is located

    @property
    def kwargs(self) -> dict:
        return json.loads(self.kwargs_json)

    @property
    def fingerprint(self) -> dict:
        return {"function": self.target, "kwargs": self.kwargs, "init": self.init or None,
                "init_as": self.init_as if self.init else None, "code": dict(self.code)}


def function_spec(target: str, kwargs: dict, init: str | None = None,
                  init_as: str = "state") -> FunctionSpec:
    """Import and check the function (and factory); any problem is a usage error."""
    target = normalized_target(target, "map")
    function = load_target(target, "map")
    try:
        kwargs_json = json.dumps(kwargs, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"map: keyword arguments must be JSON values ({exc})") from None
    if RNG in kwargs:
        raise UsageError(f"map: {RNG} is the config's random generator, given by wfl; "
                         "use --seed to change it")
    keywords = dict(kwargs)
    takes_rng = accepts(function, RNG)
    if takes_rng:
        keywords[RNG] = None
    modules = [target_module(target, "map"), _defining_module(function)]
    if init:
        if init_as in kwargs:
            raise UsageError(f"map: {init_as}= is given by --init; choose another "
                             "--init-as NAME or leave it out")
        init = normalized_target(init, "--init")
        factory = load_target(init, "--init")
        check_call(factory, init, "--init", 0, {})
        keywords[init_as] = None
        modules += [target_module(init, "--init"), _defining_module(factory)]
    check_call(function, target, "map", 1, keywords)
    code, sources = files_fingerprint(kwargs), set()
    for module in filter(None, modules):
        code.update(code_fingerprint(module))
        sources.update(code_modules(module).values())
    return FunctionSpec(target, kwargs_json, init or "", init_as, takes_rng,
                        tuple(sorted(code.items())), tuple(sorted(sources)))


def _defining_module(obj):
    """The module that defines a function imported into the target's module."""
    return sys.modules.get(getattr(obj, "__module__", None) or "") or inspect.getmodule(obj)
