"""``wfl calc`` imports a built-in calculator's package only when it computes a config, so
a rerun served from the cache never pays for the import (EMT's pulls in scipy's graph
routines); a wrong calculator is still a usage error before any output, as before."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers_data import rattled_cells, write_configs
from helpers_wfl import wfl_program
from wflcli.io.writer import format_config


@pytest.fixture
def cells(tmp_path):
    return write_configs(tmp_path / "in.xyz", rattled_cells(4, "Cu", (1, 1, 1)))


# runs wfl as its console script does, then lists the modules it imported into a file
_LISTING = """
import atexit, runpy, sys
listing = sys.argv.pop(1)
atexit.register(lambda: open(listing, "w").write("\\n".join(sorted(sys.modules))))
sys.argv[0] = "wfl"
runpy.run_module("wflcli", run_name="__main__")
"""


def imported(*args) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``wfl ARGS``: the result and the modules it imported."""
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "modules"
        done = subprocess.run([sys.executable, "-c", _LISTING, str(listing), *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        return done, set(listing.read_text().split())


@pytest.mark.parametrize("spec,module", [("emt", "ase.calculators.emt"),
                                         ("lj:sigma=2.5", "ase.calculators.lj")])
def test_a_rerun_served_from_the_cache_never_imports_the_calculator(cells, tmp_path, spec,
                                                                    module):
    first, before = imported("calc", "--calc", spec, cells, "-o", tmp_path / "first.xyz")
    again, after = imported("calc", "--calc", spec, cells, "-o", tmp_path / "again.xyz")
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert module in before and module not in after
    assert (tmp_path / "again.xyz").read_bytes() == (tmp_path / "first.xyz").read_bytes()


def test_a_spelling_of_a_choice_gets_the_same_results_checked_or_not(tmp_path):
    """tblite's method=gfn1 is mapped to GFN1-xTB before the check, as the check maps it:
    a result computed with the check made first (--refresh) is found by a later run."""
    from ase.build import molecule

    src = write_configs(tmp_path / "h2o.xyz", [molecule("H2O")])
    first, before = imported("--refresh", "calc", "--calc", "tblite:method=gfn1", src)
    again, after = imported("calc", "--calc", "tblite:method=gfn1", src)
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert "tblite.ase" in before and "tblite.ase" not in after
    assert again.stdout == first.stdout


WRONG = [("emt:asap_cutof=true", "--calc emt: unknown parameter 'asap_cutof'; known: "
          "asap_cutoff"),
         ("lj:sigma=abc", "--calc lj: sigma=abc must be a number"),
         ("lj:sigmaa=1,epsilonn=2", "--calc lj: unknown parameter 'sigmaa'"),
         ("tblite:method=GFN9", "--calc tblite: method=GFN9 is not one of")]


@pytest.mark.parametrize("spec,message", WRONG)
def test_a_wrong_parameter_on_a_cached_input_is_the_usage_error_it_was(wfl, cells, tmp_path,
                                                                        spec, message):
    name = spec.split(":")[0]
    if name == "tblite":  # a molecule: its SCF converges
        from ase.build import molecule

        cells = write_configs(tmp_path / "h2o.xyz", [molecule("H2O")])
    assert wfl("calc", "--calc", name, cells).code == 0  # every config now in the cache
    unchecked = wfl("--no-cache", "calc", "--calc", spec, cells)  # checked up front
    out = tmp_path / "out.xyz"
    for args in (["calc", "--calc", spec, cells], ["calc", "--calc", spec, cells, "-o", out]):
        done = wfl(*args)
        assert (done.code, done.stdout, done.stderr) == (2, "", unchecked.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()


def test_a_wrong_parameter_is_refused_before_workers_compute(cells, tmp_path):
    out = tmp_path / "out.xyz"
    done = wfl_program("--parallel", "2", "calc", "--calc", "emt:asap_cutof=true", cells,
                       "-o", out, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("wfl: error: --calc emt: unknown parameter 'asap_cutof'; "
                                   "known: asap_cutoff")
    assert not out.exists()


def test_configs_that_failed_upstream_are_not_written_before_the_check(wfl, tmp_path):
    failed, good = rattled_cells(2, "Cu", (1, 1, 1))
    failed.info["wfl_error"] = {"verb": "md", "type": "ValueError", "message": "x",
                                "where": ""}
    src = tmp_path / "in.xyz"
    src.write_text(format_config(failed) + format_config(good))
    done = wfl("calc", "--calc", "emt:asap_cutof=true", src)
    assert done.code == 2 and done.stdout == ""
    assert "unknown parameter 'asap_cutof'" in done.stderr


def test_a_wrong_calculator_is_named_before_other_errors(wfl, tmp_path):
    """As when every check came first: a missing input file is not what the user hears."""
    done = wfl("calc", "--calc", "lj:sigmaa=2", tmp_path / "missing.xyz")
    assert done.code == 2 and "unknown parameter 'sigmaa'" in done.stderr
    both = wfl("calc", "--calc", "lj:sigmaa=2", "--overrides", "a b", tmp_path / "missing.xyz")
    assert both.code == 2 and "unknown parameter 'sigmaa'" in both.stderr
