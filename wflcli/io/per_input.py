"""One output file per input file: ``-o '{stem}.labelled.xyz'``.

The inputs are still read as one stream, so one executor run (``--parallel``, ``--remote``,
the cache) covers all of them; the reader notes where each file starts, and the outcomes,
which come back in input order, are routed to their file's output. Each output is written
under a temporary name and renamed when its input is done, so an error or Ctrl-C leaves the
finished files complete and no half-written one. A config's position is its place in its
own file, as when the verb runs on that file alone (``md``'s ``MD_source``, cache keys).
"""

from __future__ import annotations

import bisect
import contextlib
import os
from collections.abc import Iterator
from typing import BinaryIO

from wflcli.errors import UsageError
from wflcli.io.output import Sink, atomic_file
from wflcli.io.reader import read_frames
from wflcli.io.sources import COMPRESSORS, STDIN

PLACEHOLDERS = ("{stem}", "{name}", "{dir}")


def is_pattern(path: str | None) -> bool:
    return bool(path) and any(mark in path for mark in PLACEHOLDERS)


def expand(pattern: str, source: str) -> str:
    """The output ``pattern`` names for the input file ``source``."""
    folder, name = os.path.split(source)
    base = name
    if base.lower().endswith(tuple(COMPRESSORS)):
        base = base[:base.rfind(".")]
    stem = base[:base.rfind(".")] if base.rfind(".") > 0 else base
    return pattern.replace("{stem}", stem).replace("{name}", name).replace("{dir}", folder or ".")


def output_paths(patterns: dict[str, str], files) -> dict[str, list[str]]:
    """{option: one path per input} for the ``patterns`` given ({option: pattern}); a usage
    error when an input is stdin, or two outputs, or an output and an input, coincide."""
    if not files or STDIN in files:
        option = next(iter(patterns))
        raise UsageError(f"{option} {patterns[option]}: one output per input file needs "
                         "input files, not stdin")
    taken = {os.path.realpath(source): f"input {source}" for source in files}
    if len(taken) < len(files):
        raise UsageError("an input file is named twice: each needs its own output")
    paths = {}
    for option, pattern in patterns.items():
        paths[option] = [expand(pattern, source) for source in files]
        for source, path in zip(files, paths[option]):
            earlier = taken.setdefault(os.path.realpath(path), f"{option} for {source}")
            if earlier != f"{option} for {source}":
                raise UsageError(f"{option} {pattern}: {path} for {source} is also {earlier}")
    return paths


def plan_outputs(targets: dict, inputs: TrackedInputs) -> dict:
    """{option: path or None} -> {option: what ``open_target`` opens}: a pattern becomes
    one file per input of ``inputs``; the rest stay as they are."""
    patterns = {option: value for option, value in targets.items() if is_pattern(value)}
    if not patterns:
        return targets
    paths = output_paths(patterns, inputs.files)
    return {option: open_per_input(paths[option], inputs) if option in paths else value
            for option, value in targets.items()}


class TrackedInputs:
    """The configs of all ``files`` in turn, noting where each file starts; ``positions``
    gives each config's place in its own file (each pulled after its config was read)."""

    def __init__(self, files, stdin: BinaryIO):
        self.files = list(files)
        self._stdin = stdin
        self.starts: list[int] = []  # sequence number of each file's first config
        self._read = 0

    def __iter__(self) -> Iterator:
        return (frame.atoms for frame in self.frames())

    def frames(self) -> Iterator:
        """The configs as Frames (reader.py): Atoms and text, each made when asked for."""
        for frame in read_frames(self.files, self._stdin, on_source=self._begin):
            self._read += 1
            yield frame

    def _begin(self) -> None:
        self.starts.append(self._read)

    def positions(self) -> Iterator[int]:
        sequence = 0
        while True:
            yield sequence - self.starts[self.file_of(sequence)]
            sequence += 1

    def file_of(self, sequence: int) -> int:
        return bisect.bisect_right(self.starts, sequence) - 1


class PerInputSink(Sink):
    """Writes the n-th outcome to the output of the file its config came from; ``select``
    before writing, ``flush`` after. A file is renamed into place as soon as its last
    outcome is written and the reader has begun the next file (reading runs ahead with
    ``--parallel`` and ``--remote``; serially, when the next file's first outcome comes)."""

    routes = True

    def __init__(self, paths: list[str], inputs: TrackedInputs):
        self._paths, self._inputs = paths, inputs
        self._current, self._sequence, self._flushed = -1, -1, -1
        self._open: contextlib.ExitStack | None = None

    def select(self, sequence: int) -> None:
        self._sequence = sequence
        self._advance_to(self._inputs.file_of(sequence))

    def flush(self) -> None:
        """After an outcome: if the reader has seen the next config's file begin, this
        file is complete and is renamed now, not when the next outcome comes."""
        super().flush()
        self._flushed = self._sequence
        self._advance_to(self._inputs.file_of(self._flushed + 1))

    def where(self, index: int) -> str:
        return f"{index} of {self._inputs.files[self._current]}"

    def finish(self) -> None:
        """Every output renamed into place, those of inputs without configs empty."""
        self._advance_to(len(self._paths))

    def discard(self, exc: BaseException) -> None:
        """On an error: the files whose outcomes were all written are kept, the one being
        written is removed."""
        with contextlib.suppress(Exception):
            self._advance_to(self._inputs.file_of(self._flushed + 1))
        if self._open is not None:
            with contextlib.suppress(BaseException):  # the original error is what counts
                self._open.__exit__(type(exc), exc, exc.__traceback__)
            self._open = None

    def _advance_to(self, target: int) -> None:
        while self._current < target:
            if self._open is not None:
                self._open.close()  # renamed into place
                self._open = None
            self._current += 1
            if self._current < len(self._paths):
                self._open = contextlib.ExitStack()
                self._stream = self._open.enter_context(atomic_file(self._paths[self._current]))


@contextlib.contextmanager
def open_per_input(paths: list[str], inputs: TrackedInputs) -> Iterator[PerInputSink]:
    sink = PerInputSink(paths, inputs)
    try:
        yield sink
    except BaseException as exc:
        sink.discard(exc)
        raise
    sink.finish()
