"""A ``python:`` calculator's cache key sees its code, its files and its dependencies: an
edited helper module, a changed file named deep in its parameters and an upgraded
installed distribution each recompute (issue 18, item 2). Each run is a new ``wfl``
process, as a user's would be: an edited module is imported afresh."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program

CALCULATOR = """
import os
from ase.calculators.emt import EMT
{import_line}

class Calc(EMT):
    def __init__(self, opts=None, **kwargs):
        super().__init__(**kwargs)
        self.extra = 0.0
        if opts:
            with open(opts["model"]) as stream:
                self.extra = float(stream.read())

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.results["energy"] = self.results["energy"] * SCALE + self.extra
        with open(os.environ["CALC_LOG"], "a") as log:
            log.write("call\\n")
"""


def emt_energies(configs) -> list[float]:
    from ase.calculators.emt import EMT

    energies = []
    for atoms in configs:
        atoms = atoms.copy()
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
    return energies


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """Input cells, a call log and a runner of the installed ``wfl`` with ``tmp_path`` on
    PYTHONPATH; returns (run, configs)."""

    configs = rattled_cells(3, "Cu", (1, 1, 1))
    source = write_configs(tmp_path / "in.xyz", configs)
    log = tmp_path / "calls.log"
    env = dict(os.environ, CALC_LOG=str(log), PYTHONPATH=str(tmp_path / "site-packages")
               + os.pathsep + str(tmp_path))

    def run(spec: str, *args: str):
        done = wfl_program("calc", "--calc", spec, *args, str(source), text=True, env=env,
                           cwd=tmp_path,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        calls = len(log.read_text().splitlines()) if log.exists() else 0
        log.unlink(missing_ok=True)
        return [a.info["Calc_energy"] for a in read_text(done.stdout)], calls

    return run, configs


@pytest.mark.parametrize("layout", ["file", "package"])
def test_an_edited_helper_module_recomputes(setup, tmp_path, layout):
    run, configs = setup
    if layout == "file":  # python:./mycalc.py:Calc, helper.py beside it
        folder, spec, line = tmp_path, "python:./mycalc.py:Calc", "from helper import SCALE"
    else:  # python:mypkg.calc:Calc, a relative import inside the package
        folder, spec = tmp_path / "mypkg", "python:mypkg.calc:Calc"
        line = "from .helper import SCALE"
        folder.mkdir()
        (folder / "__init__.py").write_text("")
    (folder / "mycalc.py" if layout == "file" else folder / "calc.py").write_text(
        CALCULATOR.format(import_line=line))
    helper = folder / "helper.py"
    helper.write_text("SCALE = 2.0\n")
    reference = emt_energies(configs)
    energies, calls = run(spec)
    assert calls == 3 and energies == [2.0 * e for e in reference]
    assert run(spec) == (energies, 0), "an unchanged rerun hits"
    helper.write_text("SCALE = 3.0\n")
    energies, calls = run(spec)
    assert calls == 3 and energies == [3.0 * e for e in reference], "stale cache hit"


def test_a_file_named_in_a_nested_parameter_recomputes(setup, tmp_path):
    run, configs = setup
    (tmp_path / "mycalc.py").write_text(CALCULATOR.format(import_line="SCALE = 1.0"))
    model = tmp_path / "m.txt"
    model.write_text("1.5")
    kwargs = ["--calc-kwargs", json.dumps({"opts": {"model": str(model)}})]
    reference = emt_energies(configs)
    energies, calls = run("python:mycalc:Calc", *kwargs)
    assert calls == 3 and energies == [e + 1.5 for e in reference]
    assert run("python:mycalc:Calc", *kwargs) == (energies, 0)
    model.write_text("2.5")
    energies, calls = run("python:mycalc:Calc", *kwargs)
    assert calls == 3 and energies == [e + 2.5 for e in reference], "stale cache hit"


def install_tiny(site: Path, version: str, factor: float) -> None:
    """A tiny distribution as pip leaves one in site-packages: the package and its
    dist-info (METADATA, top_level.txt, RECORD), which importlib.metadata reads."""
    for old in site.glob("wfltiny-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    package = site / "wfltiny"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f"FACTOR = {factor}\n")
    info = site / f"wfltiny-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: wfltiny\nVersion: {version}\n")
    (info / "top_level.txt").write_text("wfltiny\n")
    (info / "RECORD").write_text(f"wfltiny/__init__.py,,\nwfltiny-{version}.dist-info/METADATA,,\n")


def test_an_upgraded_installed_distribution_recomputes(setup, tmp_path):
    run, configs = setup
    site = tmp_path / "site-packages"
    install_tiny(site, "1.0", 2.0)
    (tmp_path / "mycalc.py").write_text(CALCULATOR.format(
        import_line="from wfltiny import FACTOR as SCALE"))
    reference = emt_energies(configs)
    energies, calls = run("python:mycalc:Calc")
    assert calls == 3 and energies == [2.0 * e for e in reference]
    assert run("python:mycalc:Calc") == (energies, 0)
    install_tiny(site, "1.1", 4.0)
    energies, calls = run("python:mycalc:Calc")
    assert calls == 3 and energies == [4.0 * e for e in reference], "stale cache hit"


def test_fingerprint_reads_imports_without_running_them(tmp_path, monkeypatch):
    """Helpers imported in a function body or by import_module("name") count; the standard
    library and installed packages count by version, not by source."""
    from wflcli.usercode.fingerprint import code_fingerprint

    (tmp_path / "late.py").write_text("raise SystemExit('imported')\n")
    (tmp_path / "dynamic.py").write_text("X = 1\n")
    (tmp_path / "entry.py").write_text(textwrap.dedent("""
        import json, importlib
        import numpy

        def f():
            import late
            return importlib.import_module("dynamic")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    found = code_fingerprint(importlib.import_module("entry"))
    assert {key for key in found if key.startswith("module ")} == \
        {"module entry", "module late", "module dynamic"}
    assert found["distribution numpy"] == importlib.metadata.version("numpy")
    assert not any("json" in key for key in found)


@pytest.mark.parametrize("spec, message", [
    ("python:./missing.py:Calc", "--calc python: no such file './missing.py'"),
    ("python:./mycalc.py:Nope", "mycalc.py has no Nope"),
])
def test_file_spelling_errors(wfl, tmp_path, monkeypatch, spec, message):
    (tmp_path / "mycalc.py").write_text("X = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    source = write_configs(tmp_path / "in.xyz", rattled_cells(1, "Cu", (1, 1, 1)))
    result = wfl("calc", "--calc", spec, source)
    assert result.code == 2 and message in result.stderr and result.stdout == ""
