"""Shared fixtures: running ``wfl`` in process or as the installed program, and test data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers_data import (  # noqa: F401  (old home of these helpers, until tests move)
    HOSTILE,
    _equal,
    assert_same_atoms,
    rattled_cells,
    read_text,
    write_configs,
)
from wflcli.cli.main import run


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def private_store(tmp_path_factory, monkeypatch):
    """Every test gets its own store (outside its tmp_path, which stays the test's own):
    nothing is read from or left in the user's ~/.wflcli."""
    monkeypatch.setenv("WFLCLI_HOME", str(tmp_path_factory.mktemp("wflcli-home")))


@pytest.fixture
def wfl():
    """Run ``wfl ARGS`` in this process with stdin given; stdout and stderr kept apart."""

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        runner = CliRunner()
        with runner.isolation(input=input) as (out, err, _):
            code = run([str(a) for a in args])
        return Result(code, out.getvalue().decode(), err.getvalue().decode())

    return invoke


HERE = Path(__file__).parent


@pytest.fixture
def hostile_path(tmp_path):
    """A folder inside tmp_path whose name holds every hostile name of helpers_data (spaces,
    quotes, ``;``, ``$()``, backticks, a newline, globs, ``%``): remote tests' run folders
    live in it, so a path that reaches a shell or a job script unquoted shows."""
    folder = tmp_path / " ".join(HOSTILE)
    folder.mkdir()
    return folder


@pytest.fixture
def calc_log(tmp_path, monkeypatch):
    """Counts calls of the test calculators (tests/helpers_calc.py, importable as
    ``python:helpers_calc:...``) made by in-process and subprocess runs."""
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CALC_LOG", str(log))
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def calls() -> int:
        count = len(log.read_text().splitlines()) if log.exists() else 0
        log.unlink(missing_ok=True)
        return count

    return calls


WFL_PROGRAM = shutil.which("wfl", path=os.path.dirname(sys.executable)) or "wfl"


@pytest.fixture
def wfl_program():
    """Run the installed ``wfl`` as a subprocess (start-up, signals, pipes, exit codes)."""

    def invoke(*args: str, input: bytes | None = None, timeout: float = 120, **kwargs):
        return subprocess.run([WFL_PROGRAM, *map(str, args)], input=input, capture_output=True,
                              timeout=timeout, **kwargs)

    return invoke


@pytest.fixture
def cu_file(tmp_path):
    """20 rattled 32-atom Cu cells written by ASE."""
    import ase.io

    path = tmp_path / "cu.xyz"
    ase.io.write(path, rattled_cells(20))
    return path
