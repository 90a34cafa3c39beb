"""``NAME[:key=value,...]`` -> a description that builds an ASE calculator.

A spec is parsed and checked once, where the command line is read (so a typo is a usage
error, not thousands of failed configs), and built again in each worker process. What is
wrong is said as a fact (``spec_error.py``); the command line words it as its options.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from wflcli.calculators.known_keys import known_keys
from wflcli.calculators.registry import KINDS, PYTHON, CalculatorKind
from wflcli.calculators.spec_error import (
    CONFIG,
    KWARGS,
    SPEC,
    CalcPackageMissing,
    CalcSpecError,
)
from wflcli.errors import MissingBackend, UsageError
from wflcli.usercode.fingerprint import (
    code_fingerprint,
    distributions_fingerprint,
    files_fingerprint,
)
from wflcli.usercode.target import (
    TargetError,
    load_target,
    normalized_target,
    target_module,
)

_WORDS = {"true": True, "t": True, "false": False, "f": False, "none": None}


@dataclass(frozen=True)
class CalcSpec:
    """A calculator by name (or import path) and its constructor arguments."""

    name: str
    target: str        # "module:Class"
    params: tuple      # sorted (key, value) pairs, JSON-able values
    files: tuple = ()  # (what, digest): the calculator's code, its files, versions

    @property
    def parameters(self) -> dict:
        return dict(self.params)

    @property
    def short_name(self) -> str:
        """The default result prefix stem: the registry's stem or name, or the class name."""
        if self.name == PYTHON:
            return self.target.rsplit(":", 1)[1]
        return KINDS[self.name].stem or self.name

    @property
    def batches(self) -> bool:
        """Whether the calculator evaluates many configs in one call."""
        kind = KINDS.get(self.name)
        return kind.batches if kind else False

    @property
    def fingerprint(self) -> dict:
        """Everything that decides the results: for the cache key and worker reuse. The
        code and files (``code``) are not part of the per-config seeds."""
        return {"name": self.name, "target": self.target, "parameters": self.parameters,
                "code": dict(self.files)}

    def build(self, parameters: dict | None = None):
        """A new calculator instance, with the spec's parameters or the ones given."""
        kind = KINDS.get(self.name)
        fixed = kind.fixed if kind else {}
        chosen = self.parameters if parameters is None else parameters
        return calculator_class(self)(**fixed, **chosen)

    def overridden(self, overrides: dict) -> dict:
        """The parameters for one config: ``info['wfl_calc']`` merged in (nested tables
        merge key by key), checked like the command line's."""
        merged = _merged(self.parameters, overrides)
        kind = KINDS.get(self.name)
        try:
            return _checked(kind, merged) if kind is not None else merged
        except CalcSpecError as exc:
            raise CalcSpecError(CONFIG, f"{exc.subject}: {exc.fact}") from None


def calculator_class(spec: CalcSpec):
    kind = KINDS.get(spec.name)
    if kind is None:
        return _user_code(load_target, spec.target)
    module_name, class_name = spec.target.rsplit(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise CalcPackageMissing(kind.name, kind.package, kind.extra) from None
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise CalcSpecError(SPEC, f"{module_name} has no {class_name}") from None


def _user_code(find, target: str):
    """A ``python:`` calculator's module or class; what is wrong, said of the spec."""
    try:
        return find(target, PYTHON)
    except TargetError as exc:
        raise CalcSpecError(SPEC, exc.fact, PYTHON) from None


def parse_calc_spec(text: str, kwargs_json: str | None = None) -> CalcSpec:
    """Parse and check a spec; bad names, parameters or values are usage errors."""
    return _parsed(text, kwargs_json, defer=False)[0]


def parse_calc_spec_deferred(text: str, kwargs_json: str | None = None
                             ) -> tuple[CalcSpec, Callable[[], None]]:
    """(spec, check): ``parse_calc_spec`` less, for a built-in calculator we build to try
    it, what needs its package imported (its parameter names, the trial build); ``check()``
    does that, raising what ``parse_calc_spec`` would (it does nothing for the others).

    For a run whose results may all come from the cache, where the import is most of
    the cost (EMT's: about 0.4 s, scipy's graph routines): the cache key holds the
    parameters and the package's version, so a result found proves that the same spec
    passed these checks before, and only a run that computes needs ``check()``."""
    return _parsed(text, kwargs_json, defer=True)


def _parsed(text: str, kwargs_json: str | None, defer: bool
            ) -> tuple[CalcSpec, Callable[[], None]]:
    name, _, rest = text.strip().partition(":")
    name = name.lower()
    if name == PYTHON:
        module_name, _, rest = rest.partition(":")
        class_name, _, rest = rest.partition(":")
        if not module_name or not class_name:
            raise CalcSpecError(SPEC, "needs python:package.module:ClassName "
                                "or python:path/to/file.py:ClassName", PYTHON, " ")
        target, kind = _user_code(normalized_target, f"{module_name}:{class_name}"), None
    elif name in KINDS:
        kind = KINDS[name]
        target = kind.target
    else:
        raise CalcSpecError(SPEC, f"unknown calculator {name!r}; known: "
                            f"{', '.join([*KINDS, PYTHON])} (see wfl calc --list-calcs)")
    params = _key_values(rest, text, kind.positional if kind else "")
    params.update(json_kwargs(kwargs_json))
    if defer and kind is not None and kind.probe and not kind.check:
        given = dict(params)  # in the order typed: the first wrong one is the one named

        def check() -> None:
            _probe(_spec(name, target, _checked(kind, given)))

        return _fingerprinted(_spec(name, target, _spelled(kind, params))), check
    if kind is not None:
        params = _checked(kind, params)
    if kind is not None and kind.check:
        params = _checker(kind)(params)
    spec = _spec(name, target, params)
    if kind is None or kind.probe:
        _probe(spec)
    else:
        calculator_class(spec)  # at least the package must be there
    return _fingerprinted(spec), _nothing


def _spec(name: str, target: str, params: dict) -> CalcSpec:
    return CalcSpec(name, target, tuple(sorted(params.items())))


def _fingerprinted(spec: CalcSpec) -> CalcSpec:
    return CalcSpec(spec.name, spec.target, spec.params, _fingerprint(spec))


def _nothing() -> None:
    """Nothing left to check."""


def _checker(kind: CalculatorKind):
    module_name, function_name = kind.check.rsplit(":", 1)
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except ImportError:
        raise CalcPackageMissing(kind.name, kind.package, kind.extra) from None


def _key_values(text: str, whole: str, positional: str = "") -> dict:
    params = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq and positional and positional not in params:
            params[positional] = _existing_file(item, whole)
            continue
        if not eq or not key.strip():
            raise CalcSpecError(SPEC, f"expected key=value, got {item!r}", repr(whole))
        set_dotted(params, key.strip(), typed_value(value.strip()))
    return params


def set_dotted(params: dict, key: str, value) -> None:
    """``dft.xc=PBE`` sets ``params["dft"]["xc"]``: nested parameters from the command line."""
    *tables, last = key.split(".")
    for table in tables:
        params = params.setdefault(table, {})
        if not isinstance(params, dict):
            raise CalcSpecError(SPEC, f"{key}: {table} already has a value that is not a "
                                "table")
    params[last] = value


def _merged(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merged(merged[key], value)
        merged[key] = value
    return merged


def _existing_file(value: str, whole: str) -> str:
    """A bare value names a file (gap:GAP.xml): it must exist; kept as an absolute path so
    workers started elsewhere find it."""
    if not os.path.isfile(value):
        raise CalcSpecError(SPEC, f"no such file {value!r}", repr(whole))
    return os.path.abspath(value)


def typed_value(text: str):
    """A command-line value: true/false/none, an int, a float, else the text."""
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def json_kwargs(kwargs_json: str | None, what: str = "constructor arguments") -> dict:
    """A JSON object of ``what``, or a JSON or YAML file holding one (errors: KWARGS)."""
    if not kwargs_json:
        return {}
    if os.path.isfile(kwargs_json):
        return _kwargs_file(kwargs_json, what)
    try:
        value = json.loads(kwargs_json)
    except json.JSONDecodeError as exc:
        raise CalcSpecError(KWARGS, f"is not valid JSON (nor a file): {exc}",
                            joint=" ") from None
    return _table(value, "", what)


def _kwargs_file(path: str, what: str) -> dict:
    import yaml  # YAML is a superset of JSON: one parser reads both

    try:
        with open(path, encoding="utf-8") as stream:
            value = yaml.safe_load(stream)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise CalcSpecError(KWARGS, "not valid JSON or YAML "
                            f"({getattr(exc, 'problem', None) or exc})", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalcSpecError(KWARGS, f"cannot read it ({exc})", path) from None
    return _table(value, path, what)


def _table(value, path: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise CalcSpecError(KWARGS, f"must be an object of {what}, "
                            f"e.g. '{{\"sigma\": 2.5}}'", path, " ")
    return value


def _checked(kind: CalculatorKind, params: dict) -> dict:
    """Reject parameters the calculator does not have; map accepted spellings of choices."""
    cls = calculator_class(CalcSpec(kind.name, kind.target, ()))
    defaults = getattr(cls, "default_parameters", {}) or {}
    known = (set(defaults) or known_keys(kind.name)) - set(kind.fixed)
    for key, value in params.items():
        if known and key not in known:
            raise CalcSpecError(SPEC, f"unknown parameter {key!r}; "
                                f"known: {', '.join(sorted(known))}", kind.name)
        _check_type(kind.name, key, value, defaults.get(key))
        if key in kind.choices:
            accepted = kind.choices[key]
            if str(value).lower() not in accepted:
                raise CalcSpecError(SPEC, f"{key}={value} is not one of "
                                    f"{', '.join(sorted(set(accepted.values())))}", kind.name)
            params[key] = accepted[str(value).lower()]
    return params


def _spelled(kind: CalculatorKind, params: dict) -> dict:
    """The accepted spellings of choices mapped as ``_checked`` maps them, without the
    class: the cache key is the same before and after the check (which a value left as
    it is still fails)."""
    for key, accepted in kind.choices.items():
        if key in params and str(params[key]).lower() in accepted:
            params[key] = accepted[str(params[key]).lower()]
    return params


def _check_type(name: str, key: str, value, default) -> None:
    """A switch takes true or false, a number takes a number (as the default shows)."""
    if isinstance(default, bool) and not isinstance(value, bool):
        raise CalcSpecError(SPEC, f"{key}={value} must be true or false", name)
    if (isinstance(default, (int, float)) and not isinstance(default, bool)
            and isinstance(value, str)):
        raise CalcSpecError(SPEC, f"{key}={value} must be a number", name)


def _fingerprint(spec: CalcSpec) -> tuple:
    """The calculator's code (a ``python:`` class's module and the modules it imports;
    installed packages by version) and every file its parameters name, nested ones too."""
    kind = KINDS.get(spec.name)
    if kind is not None:  # a backend we know: its package's version
        code = distributions_fingerprint([kind.package])
    else:
        defined_in = getattr(calculator_class(spec), "__module__", None) or ""
        code = code_fingerprint(sys.modules.get(defined_in)
                                or _user_code(target_module, spec.target))
    found = {**code, **files_fingerprint(spec.parameters)}
    return tuple(sorted(found.items()))


def _probe(spec: CalcSpec) -> None:
    """Build the calculator once, so bad values fail here rather than on every config."""
    try:
        spec.build()
    except (MissingBackend, UsageError):  # already said as facts, or by our own code
        raise
    except Exception as exc:
        raise CalcSpecError(SPEC, "cannot create the calculator "
                            f"({type(exc).__name__}: {exc})", spec.name) from None
