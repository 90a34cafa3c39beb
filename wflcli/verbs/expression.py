"""The ``wfl filter`` expression language: a small, safe subset of Python expressions.

The text is parsed with Python's own parser into a syntax tree, which is then walked by
the interpreter below; it is never handed to ``eval``. Only the node types listed here are
accepted: no attribute access, no imports, no comprehensions, no calls but the listed
functions, no keyword arguments.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Iterator, Mapping

import numpy as np


class ExpressionError(ValueError):
    """A fault in the expression text, with the column where it is (1-based)."""

    def __init__(self, message: str, column: int | None):
        self.column = column
        super().__init__(f"{message} (at column {column})" if column else message)


class MissingName(LookupError):
    """The config has no value of that name: it does not match."""


def _norm(value):
    array = np.asarray(value, dtype=float)
    return np.linalg.norm(array, axis=-1) if array.ndim > 1 else float(np.linalg.norm(array))


FUNCTIONS = {
    "max": np.max, "min": np.min, "sum": np.sum, "mean": np.mean, "abs": np.abs,
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "norm": _norm, "len": len,
    "any": np.any, "all": np.all,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}


MAX_LENGTH = 10_000  # characters: longer is not a filter someone typed
MAX_DEPTH = 100      # levels of the syntax tree: the interpreter below recurses on them


def _check_depth(tree) -> None:
    """Refuse a tree deeper than MAX_DEPTH before anything recurses on it."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep",
                                  getattr(node, "col_offset", -1) + 1 or None)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class Expression:
    """A checked expression; ``matches(atoms)`` tests it on one config, ``value(atoms)``
    gives its value there (a selection key)."""

    def __init__(self, text: str):
        self.text = text
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"longer than {MAX_LENGTH} characters", None)
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntax error: {exc.msg}", exc.offset) from None
        except (RecursionError, MemoryError):  # Python's parser gives up on deep nesting
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep", None) from None
        _check_depth(tree.body)
        self._check(tree.body)
        self.tree = tree.body
        self.names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
                            - set(FUNCTIONS))

    def _check(self, node) -> None:
        column = getattr(node, "col_offset", -1) + 1 or None
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else "this"
                raise ExpressionError(f"{name}() is not a known function "
                                      f"({', '.join(sorted(FUNCTIONS))})", column)
            if node.keywords:
                raise ExpressionError("functions take no keyword arguments", column)
            for arg in node.args:
                self._check(arg)
            return
        allowed = (ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Constant,
                   ast.Tuple, ast.List, ast.Subscript, ast.Load, ast.Slice)
        if not isinstance(node, allowed):
            raise ExpressionError(f"{type(node).__name__.lower()} is not allowed in a filter",
                                  column)
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise ExpressionError("this operator is not allowed", column)
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise ExpressionError(f"{node.id!r} is not allowed", column)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.operator, ast.boolop, ast.unaryop, ast.cmpop,
                                      ast.expr_context)):
                self._check(child)

    def matches(self, atoms) -> bool:
        return self.holds(AtomsNames(atoms))

    def holds(self, names) -> bool:
        """``matches``, given the names (a mapping, see ``AtomsNames``) instead of the
        Atoms."""
        return _true(self._eval(self.tree, names))

    def value(self, atoms):
        return self._eval(self.tree, AtomsNames(atoms))

    def _eval(self, node, names):
        evaluate = _EVALUATE.get(type(node))
        if evaluate is None:
            raise ExpressionError(f"cannot evaluate {type(node).__name__}", None)
        return evaluate(self, node, names)

    def _constant(self, node, names):
        return node.value

    def _name(self, node, names):
        if node.id not in names:
            raise MissingName(node.id)
        return names[node.id]

    def _sequence(self, node, names):
        return tuple(self._eval(e, names) for e in node.elts)

    def _bool_op(self, node, names):
        values = (self._eval(v, names) for v in node.values)
        if isinstance(node.op, ast.And):
            return all(_true(v) for v in values)
        return any(_true(v) for v in values)

    def _unary_op(self, node, names):
        return _UNARY[type(node.op)](self._eval(node.operand, names))

    def _bin_op(self, node, names):
        left, right = self._eval(node.left, names), self._eval(node.right, names)
        # arithmetic on tuples is per element, as on arrays: (1,) * 10**10 never makes
        # ten billion elements
        left, right = (np.asarray(v) if isinstance(v, tuple) else v for v in (left, right))
        if isinstance(left, str) or isinstance(right, str):
            if not (isinstance(node.op, ast.Add) and isinstance(left, str)
                    and isinstance(right, str)):
                raise TypeError("only + joins text")
        elif isinstance(node.op, ast.Pow):
            left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
        return _BINARY[type(node.op)](left, right)

    def _compare(self, node, names):
        left = self._eval(node.left, names)
        for op, comparator in zip(node.ops, node.comparators):
            right = self._eval(comparator, names)
            if not _true(_COMPARE[type(op)](left, right)):
                return False
            left = right
        return True

    def _call(self, node, names):
        return FUNCTIONS[node.func.id](*(self._eval(a, names) for a in node.args))

    def _subscript(self, node, names):
        return self._eval(node.value, names)[self._index(node.slice, names)]

    def _index(self, node, names):
        if isinstance(node, ast.Slice):
            return slice(*(None if part is None else int(self._eval(part, names))
                           for part in (node.lower, node.upper, node.step)))
        return int(self._eval(node, names))


# each node type the checked tree may hold, and how it is evaluated (by type: no chain of
# isinstance tests for each node of each config)
_EVALUATE = {ast.Constant: Expression._constant, ast.Name: Expression._name,
             ast.Tuple: Expression._sequence, ast.List: Expression._sequence,
             ast.BoolOp: Expression._bool_op, ast.UnaryOp: Expression._unary_op,
             ast.BinOp: Expression._bin_op, ast.Compare: Expression._compare,
             ast.Call: Expression._call, ast.Subscript: Expression._subscript}


def _true(value) -> bool:
    """Whether ``value`` holds: all its elements for an array; a plain bool (the result of
    comparing two numbers, the common case) is its own answer, without numpy."""
    return value if value is True or value is False else bool(np.all(value))


def _volume(atoms):
    return atoms.get_volume() if atoms.cell.rank == 3 else None


# the derived names, each made only when an expression uses it (a formula costs more than
# many a filter)
_DERIVED = {"natoms": len, "symbols": lambda atoms: tuple(atoms.get_chemical_symbols()),
            "formula": lambda atoms: atoms.get_chemical_formula(), "volume": _volume}


class AtomsNames(Mapping):
    """Everything an expression can name in a config: info keys, arrays, and a few derived
    values (each made when first asked for); an info key before an array of that name, an
    array before a derived name."""

    def __init__(self, atoms):
        self._atoms = atoms
        self._derived: dict = {}

    def __getitem__(self, name):
        atoms = self._atoms
        if name in atoms.info:
            return atoms.info[name]
        if name in atoms.arrays:
            return atoms.arrays[name]
        if name not in self._derived and name in _DERIVED:
            self._derived[name] = _DERIVED[name](atoms)
        value = self._derived.get(name)
        if value is None:  # not a name, or no volume (no 3D cell)
            raise KeyError(name)
        return value

    def __contains__(self, name) -> bool:
        try:
            self[name]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator:
        derived = [name for name in _DERIVED if name in self]
        return iter(dict.fromkeys([*derived, *self._atoms.arrays, *self._atoms.info]))

    def __len__(self) -> int:
        return sum(1 for _ in self)
