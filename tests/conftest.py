"""Shared fixtures: running ``wfl`` in process, a private store, calculator call counts,
test data files and a hostile folder (subprocess runs: helpers_wfl.py; data: helpers_data.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers_data import HOSTILE, rattled_cells
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


@pytest.fixture
def cu_file(tmp_path):
    """20 rattled 32-atom Cu cells written by ASE."""
    import ase.io

    path = tmp_path / "cu.xyz"
    ase.io.write(path, rattled_cells(20))
    return path
