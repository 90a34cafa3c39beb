"""Streaming extxyz reader: one ``Atoms`` at a time, every fault located by file and line.

The atom block of a frame is split once and converted column by column with numpy, which
is what makes this reader several times faster than ``ase.io.iread`` while giving the
same ``Atoms`` (positions, cell, pbc, info, arrays, fixed-atom constraints).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import numpy as np

from wflcli.errors import InputError
from wflcli.io.canonical import DEFAULT_PROPERTIES, canonical_text
from wflcli.io.floats import parse_floats
from wflcli.io.formats import read_format, read_with_ase
from wflcli.io.keyvalue import CommentLineError, parse_comment_line
from wflcli.io.linebreaks import Lines
from wflcli.io.periodic import MAX_ATOMIC_NUMBER, periodic_without_cell
from wflcli.io.plain_atoms import plain_atoms
from wflcli.io.sources import open_source

_CELL_KEYS = frozenset({"Lattice", "pbc", "Properties"})  # not in atoms.info: the cell, arrays
_PROPERTY_TYPES = {"R": float, "I": int, "S": str, "L": bool}
_ASE_NAMES = {"pos": "positions", "species": "symbols", "Z": "numbers", "charge": "charges"}
_BOOL_TEXT = {"T": True, "F": False, "True": True, "False": False}
_NOT_AS_READ = frozenset({"symbols", "positions", "numbers", "move_mask"})  # made into Atoms
_PROPERTIES = frozenset({"Properties"})


def read_configs(sources: Iterable[str], stdin: BinaryIO, allow_empty: bool = False,
                 on_source: Callable[[], None] | None = None) -> Iterator:
    """Yield every config of every source in turn (``-`` is stdin; a file that is not
    extxyz is read by ASE, see formats.py). Empty input is an
    error, unless ``allow_empty`` (``wfl count``: 0, as ``wc`` says). ``on_source`` is
    called as each source begins."""
    return (frame.atoms for frame in read_frames(sources, stdin, allow_empty, on_source))


def read_frames(sources: Iterable[str], stdin: BinaryIO, allow_empty: bool = False,
                on_source: Callable[[], None] | None = None) -> Iterator:
    """``read_configs``, as Frames: each config with its text (for verbs that pass frames
    on unchanged, and for cache digests)."""
    found = False
    for source in sources:
        if on_source is not None:
            on_source()
        fmt = read_format(source)
        if fmt is not None:  # not extxyz: ASE reads it
            for atoms in read_with_ase(source, fmt):
                found = True
                yield ParsedFrame(atoms, source)
            continue
        with open_source(source, stdin) as (name, stream):
            for frame in FrameReader(stream, name).frames():
                found = True
                yield frame
    if not found and not allow_empty:
        raise InputError(", ".join(sources) or "<stdin>", None, "no configurations in the input")


class FrameReader:
    """Iterate over the frames of one binary stream named ``name`` (for messages)."""

    def __init__(self, stream: BinaryIO, name: str):
        self.lines = Lines(stream)
        self._look_ahead = _seekable(stream)  # a file, not a pipe: reading on cannot block
        self.name = name
        self.lineno = 0
        from ase.data import atomic_numbers  # deferred: keeps `wfl --help` light

        self._numbers = atomic_numbers

    def __iter__(self) -> Iterator:
        return (frame.atoms for frame in self.frames())

    def frames(self) -> Iterator[Frame]:
        """Each frame of the stream, its Atoms and text made when first asked for."""
        line = self.lines.readline()
        while line:
            self.lineno += 1
            natoms = self._atom_count(line)
            if natoms is None:
                line = self.lines.readline()
                continue
            frame, line = self._frame(line, natoms, self.lineno)
            yield frame
            if line is None:  # not read ahead (a pipe): the next line only once asked for
                line = self.lines.readline()

    def _fail(self, line: int | None, what: str):
        raise InputError(self.name, line, what)

    def _text(self, raw: bytes, line: int) -> str:
        if b"\0" in raw:
            self._fail(line, "binary data (NUL byte), not extxyz text")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(line, "binary data (not UTF-8 text), not extxyz")

    def _atom_count(self, raw: bytes) -> int | None:
        """The atom count on a frame's first line; None for a blank line between frames."""
        text = self._text(raw, self.lineno).strip()
        if not text:
            return None
        try:
            natoms = int(text)
        except ValueError:
            if text.startswith("VEC"):
                self._fail(self.lineno, "VEC cell lines are read from files, not from a pipe "
                           "(give the cell as Lattice= in the comment line)")
            self._fail(self.lineno, f"expected the number of atoms of a frame, got {text[:40]!r}")
        if natoms < 0:
            self._fail(self.lineno, f"negative number of atoms {natoms}")
        return natoms

    def _frame(self, count: bytes, natoms: int, first: int):
        """The frame whose atom count (line ``count``) is on line ``first``, and the line
        after it."""
        comment = self.lines.readline()
        self.lineno += 1
        if not comment:
            self._fail(self.lineno,
                       f"the frame starting at line {first} ends before its comment line")
        block = self.lines.readlines(natoms)
        if natoms and not block[-1]:
            got = sum(1 for b in block if b)
            self._fail(self.lineno + got, f"the frame starting at line {first} declares {natoms} "
                       f"atoms but the input ends after {got}")
        self.lineno += natoms
        # ASE's VEC lines follow the atoms, so finding them means reading ahead; on a pipe
        # that would hold this frame back until the next one starts (no streaming)
        after = self.lines.readline() if self._look_ahead else None
        vectors = ()
        if after is not None and after.lstrip().startswith(b"VEC"):
            vectors, after = self._cell_vectors(after)
        frame = Frame(self, first, count, comment, block, vectors)
        frame.next_at_hand = bool(after)  # None on a pipe, b"" at the end of the file
        return frame, after

    def atoms(self, frame: Frame):
        """The Atoms of ``frame`` (one of this reader's); an InputError if its values are
        wrong."""
        return self._build(self.comment_info(frame), frame.block, frame.line + 1,
                           frame.vectors)

    def comment_info(self, frame: Frame) -> dict:
        """The key=value pairs of ``frame``'s comment line (Properties, Lattice, pbc too)."""
        comment_line = frame.line + 1
        text = self._text(frame.comment, comment_line)
        if frame.vectors:  # as ASE: a frame with VEC lines has a plain comment, no key=value
            return {"comment": text.strip()}
        try:
            return parse_comment_line(text)
        except CommentLineError as exc:
            self._fail(comment_line, str(exc))

    def _cell_vectors(self, raw: bytes) -> tuple[list[list[float]], bytes]:
        """The ``VEC1``..``VEC3`` lines after the atoms (ASE's cell for plain XYZ), from
        ``raw`` (the first) on, and the line after them (the next frame's first)."""
        vectors: list[list[float]] = []
        while raw.lstrip().startswith(b"VEC"):
            self.lineno += 1
            label, *values = self._text(raw, self.lineno).split()
            if len(vectors) == 3:
                self._fail(self.lineno, "more than 3 VEC lines")
            if label != f"VEC{len(vectors) + 1}":
                self._fail(self.lineno, f"expected VEC{len(vectors) + 1}, got {label[:20]!r}")
            try:
                vector = [float(v) for v in values]
            except ValueError:
                vector = []
            if len(vector) != 3:
                self._fail(self.lineno, f"{label} needs 3 real numbers")
            vectors.append(vector)
            raw = self.lines.readline()
        return vectors, raw

    def _build(self, info: dict, block: list[bytes], comment_line: int, vectors: list):
        spec = info.pop("Properties", DEFAULT_PROPERTIES)
        try:
            if not isinstance(spec, str):
                raise ValueError(f"bad Properties {spec!r}")
            properties = _properties(spec)
        except ValueError as exc:
            self._fail(comment_line, str(exc))
        tokens, stride = self._tokens(block, properties, comment_line)
        columns = {}
        offset = 0
        for name, kind, n in properties:
            if name == "symbols" and kind is str and n == 1:  # element symbols: words
                columns[name] = tokens[offset::stride]
            else:
                columns[name] = self._column(tokens, offset, n, stride, kind, name,
                                             comment_line)
            offset += n

        if vectors:
            cell = np.zeros((3, 3))
            cell[:len(vectors)] = vectors
            pbc = [i < len(vectors) for i in range(3)]
        else:
            cell = info.pop("Lattice", None)
            pbc = info.pop("pbc", cell is not None)
            cell = None if cell is None else cell.T
        numbers = columns.pop("numbers", None)
        symbols = columns.pop("symbols", None)
        if numbers is None:
            if symbols is None:
                self._fail(comment_line, "Properties has neither species nor Z")
            numbers = self._species_numbers(symbols, comment_line)
        else:
            self._check_atomic_numbers(numbers, comment_line)
        positions = columns.pop("positions", None)
        if positions is None or positions.shape[1:] != (3,) or positions.dtype.kind != "f":
            self._fail(comment_line, "Properties needs pos:R:3")
        try:
            atoms = plain_atoms(numbers, positions, cell, pbc, info)
        except (ValueError, TypeError) as exc:
            self._fail(comment_line, f"cannot make a configuration from this frame ({exc})")
        problem = periodic_without_cell(atoms)
        if problem:
            self._fail(comment_line, problem)
        move_mask = columns.pop("move_mask", None)
        for name, values in columns.items():
            atoms.arrays[name] = values
        if move_mask is not None:
            atoms.set_constraint(_constraints(move_mask))
        return atoms

    def _tokens(self, block: list[bytes], properties: list, comment_line: int):
        """The words of the atom rows, each row ended by a NUL word, and the stride (words
        a row); an InputError where a row has not as many values as Properties says."""
        ncols = sum(n for _, _, n in properties)
        text = self._text(b"".join(block), comment_line + 1)
        # a NUL after each line: every row must have ncols values (ASE splits rows as here)
        tokens = (text if text.endswith("\n") or not text else text + "\n") \
            .replace("\n", " \0 ").split()
        stride = ncols + 1
        if len(tokens) != stride * len(block) or tokens[ncols::stride] != ["\0"] * len(block):
            self._wrong_column_count(block, ncols, comment_line)
        return tokens, stride

    def column(self, frame: Frame, spec: str, name: str):
        """``atoms.arrays[name]`` of ``frame`` (Properties ``spec``) for a column that goes
        there as read (not species, pos, Z or move_mask), without making the Atoms; None
        for any other name."""
        properties = _properties(spec)
        offset = 0
        for column, kind, n in properties:
            if column == name:
                break
            offset += n
        else:
            return None
        if name in _NOT_AS_READ:
            return None
        tokens, stride = self._tokens(frame.block, properties, frame.line + 1)
        return self._column(tokens, offset, n, stride, kind, name, frame.line + 1)

    def _wrong_column_count(self, block: list[bytes], ncols: int, comment_line: int):
        for i, raw in enumerate(block, start=comment_line + 1):
            found = len(self._text(raw, i).split())
            if found != ncols:
                self._fail(i, f"expected {ncols} columns (from Properties), found {found}")

    def _column(self, tokens, offset, n, stride, kind, name, line):
        texts = [tokens[offset + j::stride] for j in range(n)]
        try:
            if kind is float:
                values = parse_floats([t for column in texts for t in column])
                if values is None:  # not all JSON floats: numpy reads them (or says why)
                    values = np.array(texts, dtype=np.float64)
                else:
                    values = np.array(values, dtype=np.float64).reshape(n, -1)
            elif kind is int:
                values = np.array(texts, dtype=np.int64)
            elif kind is bool:
                values = np.array([[_BOOL_TEXT[t] for t in col] for col in texts], dtype=bool)
            else:
                values = np.array(texts, dtype=str)
        except (ValueError, KeyError, OverflowError):
            self._bad_value(texts, kind, name, line)
        values = values.T if n > 1 else values[0]
        return np.ascontiguousarray(values)

    def _bad_value(self, texts, kind, name, line):
        convert = {float: float, int: _int64, bool: _BOOL_TEXT.__getitem__}[kind]
        for atom in range(len(texts[0])):
            for col in texts:
                try:
                    convert(col[atom])
                except OverflowError:
                    self._fail(line + 1 + atom, f"{name}: {col[atom][:40]} is beyond the "
                               "64-bit integer range")
                except (ValueError, KeyError):
                    what = {float: "a real number", int: "an integer", bool: "T or F"}[kind]
                    self._fail(line + 1 + atom, f"{name}: {col[atom][:40]!r} is not {what}")

    def _species_numbers(self, symbols, line: int):
        if isinstance(symbols, np.ndarray):  # a column of another kind or width
            self._fail(line, "Properties: species must be one text column (species:S:1)")
        try:
            if len(symbols) > _REMEMBERED_ATOMS:
                return _atomic_numbers(symbols)
            return _remembered_numbers(tuple(symbols)).copy()
        except KeyError:
            for i, s in enumerate(symbols):
                if s.capitalize() not in self._numbers:
                    self._fail(line + 1 + i, f"unknown element {s[:20]!r}")

    def _check_atomic_numbers(self, numbers, line: int) -> None:
        """A Z column names elements 0 (ASE's dummy X) to 118, nothing else."""
        if numbers.ndim != 1 or numbers.dtype.kind != "i":
            self._fail(line, "Properties: Z must be one integer column (Z:I:1)")
        outside = np.flatnonzero((numbers < 0) | (numbers > MAX_ATOMIC_NUMBER))
        if outside.size:
            atom = int(outside[0])
            self._fail(line + 1 + atom, f"Z: {numbers[atom]} is not an atomic number "
                       f"(0 to {MAX_ATOMIC_NUMBER})")


class Frame:
    """One extxyz frame as read: its Atoms and its text, each made when first asked for.

    ``text`` is always what ``format_config(atoms)`` gives for the frame as read (so output
    and cache digests are the same whichever is used); when the input already is that text,
    it is taken as it is, without formatting (canonical.py).
    """

    __slots__ = (
        "_atoms",
        "_info",
        "_properties",
        "_proved",
        "_reader",
        "_text",
        "block",
        "comment",
        "count",
        "line",
        "next_at_hand",
        "vectors",
    )

    def __init__(self, reader: FrameReader, line: int, count: bytes, comment: bytes,
                 block: list[bytes], vectors):
        self._reader = reader
        self.line = line  # of the atom count, 1-based
        self.count, self.comment, self.block, self.vectors = count, comment, block, vectors
        self._atoms = self._text = self._info = self._properties = self._proved = None
        self.next_at_hand = False  # the next frame can be read without waiting (a file's)

    @property
    def source(self) -> str:
        return self._reader.name

    def raw_digest(self) -> bytes | None:
        """sha256 of the frame's lines as read, all that its Atoms are made from (the cache
        finds what was written for them by it); None for a frame with VEC lines."""
        if self.vectors:
            return None
        return hashlib.sha256(b"".join((self.count, self.comment, *self.block))).digest()

    @property
    def atoms(self):
        if self._atoms is None:
            self._atoms = self._reader.atoms(self)
        return self._atoms

    @property
    def natoms(self) -> int:
        return len(self.block)

    @property
    def info(self) -> dict:
        """``atoms.info``, without making the Atoms (a filter on info keys needs no more)."""
        if self._atoms is not None:
            return self._atoms.info
        if self._info is None:
            info = self._reader.comment_info(self)
            self._properties = info.pop("Properties", DEFAULT_PROPERTIES)
            if not self.vectors:
                for key in _CELL_KEYS:
                    info.pop(key, None)
            self._info = info
        return self._info

    def info_of(self, keys: frozenset) -> dict:
        """``info`` for just these keys (fewer values converted); call ``check`` first."""
        if self._atoms is not None or self._info is not None or self.vectors:
            return {k: v for k, v in self.info.items() if k in keys}
        keys = keys - _CELL_KEYS
        if not keys:
            return {}
        if self._proved is not None:  # read where the values sit
            return self._proved.info_of(keys)
        return parse_comment_line(self.comment.decode("utf-8"), only=keys)

    def column(self, name: str):
        """``atoms.arrays[name]`` read alone, where the text is proved and no Atoms made
        (a column other than species, pos, Z, move_mask); else None."""
        if self._proved is None or self._atoms is not None:
            return None
        spec = self._proved.info_of(_PROPERTIES).get("Properties", DEFAULT_PROPERTIES)
        return self._reader.column(self, spec, name)

    @property
    def array_names(self) -> set[str]:
        """The keys ``atoms.arrays`` has (numbers and positions, and each other column)."""
        if self._atoms is not None:
            return set(self._atoms.arrays)
        self.info  # noqa: B018 - reads the Properties
        try:
            names = {name for name, _, _ in _properties(self._properties)}
        except (ValueError, TypeError, AttributeError):
            return set(self.atoms.arrays)  # a bad Properties: raised as when read
        return (names - {"symbols", "move_mask"}) | {"numbers", "positions"}

    def check(self) -> None:
        """Refuse a malformed frame now (an InputError, as reading it would), cheaply when
        its text is already the written form."""
        if self._text is None and self._atoms is None:
            proved = canonical_text(self, _properties)  # may remember the formatted text
            if proved is not None:
                self._text, self._proved = proved.text, proved
            else:
                self.atoms  # noqa: B018 - made, or refused

    @property
    def text(self) -> str:
        if self._text is None:
            self.check()
        if self._text is None:
            from wflcli.io.writer import format_config

            self._text = format_config(self.atoms)
        return self._text

    def remember_text(self, text: str) -> None:
        """What ``format_config(self.atoms)`` gave, made elsewhere (canonical.py)."""
        self._text = text


class ParsedFrame:
    """A frame that another reader (ASE's) made: its Atoms, and text formatted on demand."""

    __slots__ = ("_text", "atoms", "line", "source")

    def __init__(self, atoms, source: str):
        self.atoms, self.source, self.line, self._text = atoms, source, None, None

    def check(self) -> None:
        """Nothing to check: ASE made the Atoms."""

    @property
    def natoms(self) -> int:
        return len(self.atoms)

    @property
    def info(self) -> dict:
        return self.atoms.info

    def info_of(self, keys: frozenset) -> dict:
        return {k: v for k, v in self.atoms.info.items() if k in keys}

    @property
    def array_names(self) -> set[str]:
        return set(self.atoms.arrays)

    def column(self, name: str) -> None:
        """No rows of its own to read: its Atoms hold the arrays."""

    @property
    def text(self) -> str:
        if self._text is None:
            from wflcli.io.writer import format_config

            self._text = format_config(self.atoms)
        return self._text


_REMEMBERED_ATOMS = 256


def _atomic_numbers(symbols) -> np.ndarray:
    """The atomic number of each element symbol (any case, as ASE reads them)."""
    from ase.data import atomic_numbers

    return np.array([atomic_numbers[s.capitalize()] for s in symbols], dtype=int)


@functools.lru_cache(maxsize=1024)
def _remembered_numbers(symbols: tuple) -> np.ndarray:
    """``_atomic_numbers``, remembered for small configs: frames of one system repeat."""
    return _atomic_numbers(symbols)


def _int64(text: str) -> int:
    value = int(text)
    if not -2 ** 63 <= value < 2 ** 63:
        raise OverflowError(text)
    return value


@functools.lru_cache(maxsize=64)
def _properties(spec) -> list[tuple[str, type, int]]:
    """(ASE array name, Python type, column count) for each entry of a Properties value."""
    fields = spec.split(":")
    if not fields or len(fields) % 3:
        raise ValueError(f"bad Properties {spec!r}: expected name:type:columns triples")
    result, seen = [], set()
    for name, kind, count in zip(fields[::3], fields[1::3], fields[2::3]):
        if kind not in _PROPERTY_TYPES or not count.isdigit() or int(count) < 1:
            raise ValueError(f"bad Properties entry {name}:{kind}:{count}")
        name = _ASE_NAMES.get(name, name)
        if name in seen:
            raise ValueError(f"Properties names {name!r} twice")
        seen.add(name)
        result.append((name, _PROPERTY_TYPES[kind], int(count)))
    return result


def _constraints(move_mask: np.ndarray):
    """ASE's reading of the move_mask column: fixed atoms or fixed Cartesian directions."""
    from ase.constraints import FixAtoms, FixCartesian

    if move_mask.ndim == 1:
        return FixAtoms(mask=~move_mask)
    return [FixCartesian(i, mask=~row) for i, row in enumerate(move_mask)]


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False
