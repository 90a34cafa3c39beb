"""``wfl map``: a user's function over every config (or every line of text), as a verb.

The function gets one ``Atoms`` (or, with ``--lines``, one ``str``) and its keyword
arguments, plus ``rng`` (the config's generator, seeded from content) when it has such a
parameter and the ``--init`` factory's result under ``init_as``; it returns Atoms, a list
of Atoms (in order) or None (dropped). A failure is that config's alone, located in the
user's file.
"""

from __future__ import annotations

import copy
import inspect
import traceback
from dataclasses import dataclass

from wflcli.errors import WflError
from wflcli.exec.contracts import TaskDefaults
from wflcli.usercode.function import RNG, FunctionSpec
from wflcli.usercode.target import described, load_target

LINE = "wfl_line"  # info key of a --lines placeholder: the line given to the function


def line_placeholder(line: str):
    """The input config for one line of text: no atoms, the line in info."""
    from ase import Atoms

    return Atoms(info={LINE: line})


@dataclass(frozen=True)
class MapTask(TaskDefaults):
    function: FunctionSpec
    lines: bool = False  # inputs are line placeholders: the function gets the text
    seed: int = 0

    verb = "map"

    def parameters(self) -> dict:
        # --seed changes nothing for a function that takes no rng
        return {**self.function.fingerprint, "lines": self.lines,
                "seed": self.seed if self.function.takes_rng else None}

    def start(self):
        spec = self.function
        function = load_target(spec.target, "map")
        kwargs = spec.kwargs
        fresh = any(isinstance(v, (dict, list)) for v in kwargs.values())  # may be mutated
        state = _initialized(spec.init) if spec.init else None  # once per worker
        name = getattr(function, "__qualname__", spec.target)

        def apply(atoms, context):
            given = atoms.info[LINE] if self.lines else atoms
            keywords = copy.deepcopy(kwargs) if fresh else dict(kwargs)
            if spec.init:
                keywords[spec.init_as] = state
            if spec.takes_rng:
                keywords[RNG] = context.rng
            try:
                return _outputs(function(given, **keywords), name)
            except Exception as exc:  # the executor fails this config alone, as it was given
                _locate(exc, _where(exc, function, spec.sources))
                raise

        return apply


def _initialized(factory: str):
    """The factory's result; its failure stops the run (no config could be computed)."""
    try:
        return load_target(factory, "--init")()
    except Exception as exc:
        raise WflError(f"--init {factory} failed: {described(exc)}") from None


def _locate(exc: BaseException, where: str) -> None:
    """Where the config failed, in the user's code: ``exc.details`` is what the executor's
    ``mark_failed`` records over its own guess (the deepest frame, often in a library)."""
    details = getattr(exc, "details", None)
    if details is None or isinstance(details, dict):
        try:
            exc.details = {**(details or {}), "where": where}
        except AttributeError:  # an exception that takes no attributes: the guess stays
            pass


class ReturnTypeError(TypeError):
    """The function returned something that is not Atoms, a list of Atoms or None."""


def _outputs(result, name: str) -> list:
    from ase import Atoms

    if result is None:
        return []
    if isinstance(result, Atoms):
        return [_plain(result)]
    if isinstance(result, (list, tuple)):
        for item in result:
            if not isinstance(item, Atoms):
                raise ReturnTypeError(f"{name} returned a {type(result).__name__} holding a "
                                      f"{type(item).__name__}; it must return Atoms, a list "
                                      "of Atoms or None")
        return [_plain(atoms) for atoms in result]
    raise ReturnTypeError(f"{name} returned {type(result).__name__}; it must return Atoms, "
                          "a list of Atoms or None")


def _plain(atoms):
    """Results of a calculator the function attached become info/arrays values, as
    ``ase.io.write`` would write them."""
    calculator = atoms.calc
    if calculator is not None and getattr(calculator, "results", None):
        from wflcli.verbs.results import results_annotation

        found = results_annotation(len(atoms), dict(calculator.results), "")
        atoms = atoms.copy()
        atoms.info.update(found["info"])
        atoms.arrays.update(found["arrays"])
    return atoms


def _where(exc: BaseException, function, sources: tuple) -> str:
    """The deepest frame in the user's own files (their function or a helper of theirs),
    else the deepest frame; for a wrong return value, the function's definition."""
    if isinstance(exc, ReturnTypeError):
        try:
            return (f"{inspect.getsourcefile(function)}:"
                    f"{inspect.getsourcelines(function)[1]} in {function.__name__}")
        except (TypeError, OSError, AttributeError):
            return ""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if frame.filename in sources] or frames
    return f"{own[-1].filename}:{own[-1].lineno} in {own[-1].name}" if own else ""
