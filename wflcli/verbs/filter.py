"""``wfl filter``'s judgement of each frame, apart from reading and writing.

An expression that names only info keys (and ``natoms``) is judged from the frame's comment
line, so frames pass on without becoming Atoms; any other name (an array, ``volume``,
``formula``, ...) makes the Atoms, and gives the same value as ``Expression.matches``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from wflcli.errors import WflError
from wflcli.verbs.expression import AtomsNames, Expression, MissingName


class FrameNames(Mapping):
    """The names an expression sees in one frame (a reader's Frame), made as asked for."""

    def __init__(self, frame, info: dict):
        self._frame, self._info = frame, info  # info: at least the keys the expression names
        self._all: AtomsNames | None = None
        self._columns: dict = {}

    def _names(self) -> AtomsNames:
        if self._all is None:
            self._all = AtomsNames(self._frame.atoms)
        return self._all

    def _natoms_shown(self, name: str) -> bool:
        return name == "natoms" and name not in self._frame.array_names

    def __contains__(self, name) -> bool:
        return (name in self._info or self._natoms_shown(name) or self._column(name) is not None
                or name in self._names())

    def __getitem__(self, name):
        if name in self._info:
            return self._info[name]
        if self._natoms_shown(name):
            return self._frame.natoms
        column = self._column(name)
        return self._names()[name] if column is None else column

    def _column(self, name: str):
        """An array read from the frame's rows alone (None where it takes the Atoms)."""
        if name not in self._columns:
            self._columns[name] = None if self._all is not None else self._frame.column(name)
        return self._columns[name]

    def __iter__(self) -> Iterator:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


@dataclass
class Tally:
    """What a filter run says at the end: configs without a name, failed ones passed on."""

    missing: dict[str, int] = field(default_factory=dict)
    passed_failed: int = 0


def judged(frames: Iterable, test: Expression, invert: bool, tally: Tally) -> Iterator:
    """``(index, frame, keep)`` for each frame in turn. A frame that failed upstream
    (``info['wfl_error']``) is kept, unjudged; one without a name the expression uses is
    not (counted in ``tally``)."""
    named = frozenset(test.names)
    wanted = named | {"wfl_error"}
    for index, frame in enumerate(frames):
        frame.check()  # a malformed frame is refused here, as when read
        info = frame.info_of(wanted)
        failed = "wfl_error" in info
        # where info has every name, FrameNames would give just its values
        names = info if info.keys() >= named else FrameNames(frame, info)
        try:
            keep = failed or test.holds(names) != invert
        except MissingName as exc:
            tally.missing[exc.args[0]] = tally.missing.get(exc.args[0], 0) + 1
            keep = False
        except (TypeError, ValueError, IndexError, ArithmeticError) as exc:
            raise WflError(f"filter expression on config {index}: {exc}") from None
        tally.passed_failed += failed
        yield index, frame, keep
