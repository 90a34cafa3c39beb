"""A filter expression has a bounded cost: hostile ones are one clean usage error (or a
normal answer), never an internal error or a memory blow-up."""

from __future__ import annotations

import resource

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import wfl_program

_MEMORY = 4 << 30  # bytes of address space: far less than ten billion tuple elements


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))


def _filter(expression: str, source):
    return wfl_program("filter", "--", expression, str(source), text=True, timeout=120,
                       preexec_fn=_limited)


@pytest.mark.parametrize("expression, message", [
    ("-" * 30000 + "1", "filter expression: longer than 10000 characters"),
    ("-" * 3000 + "1", "filter expression: nested more than 100 levels deep"),
    ("-" * 150 + "1 < 0", "filter expression: nested more than 100 levels deep"),
    ("not " * 120 + "natoms", "filter expression: nested more than 100 levels deep"),
])
def test_deep_or_long_expressions_are_usage_errors(tmp_path, expression, message):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2))
    result = _filter(expression, source)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"wfl: error: {message}")
    assert "internal error" not in result.stderr and result.stdout == ""


def test_tuple_repetition_is_arithmetic_not_ten_billion_elements(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2))
    result = _filter("len((1,)*10000000000) == 1 and natoms * (1, 2) == (32, 64)", source)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Lattice=") == 2
    result = _filter("(1,)*10000000000", source)
    assert result.returncode == 0 and "internal error" not in result.stderr


def test_an_ordinary_nested_expression_still_works(tmp_path):
    source = write_configs(tmp_path / "in.xyz", rattled_cells(2))
    result = _filter("((((natoms == 32))))" + " and natoms > 1" * 40, source)
    assert result.returncode == 0 and result.stdout.count("Lattice=") == 2
