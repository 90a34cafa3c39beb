"""Results that are valid but probably not what was meant: the command succeeds and says
so in one line on stderr."""

from __future__ import annotations

import numpy as np

from helpers_data import rattled_cells
from wflcli.io.writer import format_config


def _write(path, configs):
    path.write_text("".join(format_config(a) for a in configs))
    return path


def test_selecting_more_than_there_is(wfl, tmp_path):
    configs = rattled_cells(5, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info["desc"] = np.array([float(i), 1.0])
    src = _write(tmp_path / "d.xyz", configs)
    for verb in ("select-cur", "select-fps"):
        result = wfl(verb, "-n", "8", "--key", "desc", src)
        assert result.code == 0
        assert f"wfl {verb}: warning: -n 8 is more than the 5 configs" in result.stderr
        assert result.stdout.count("Lattice=") == 5
    assert "warning" not in wfl("select-fps", "-n", "3", "--key", "desc", src).stderr


def test_a_prefix_that_matches_nothing_gets_the_ones_present(wfl, tmp_path):
    configs = rattled_cells(3, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info.update(REF_energy=float(i), GAP_energy=i + 0.01)
    src = _write(tmp_path / "e.xyz", configs)
    result = wfl("error", "--ref", "REF", "--pred", "GAP_", src)
    assert result.code == 0
    assert ("wfl error: warning: --ref REF matches no results; the input has GAP_, REF_ "
            "(did you mean --ref REF_?)") in result.stderr
    refused = wfl("error", "--ref", "X_", "--pred", "Y_", src)
    assert refused.code == 2 and "the input has GAP_, REF_" in refused.stderr


def test_nve_without_a_temperature_or_with_one(wfl, tmp_path):
    src = _write(tmp_path / "c.xyz", rattled_cells(1, "Cu", (1, 1, 1)))
    at_rest = wfl("md", "--calc", "emt", "--steps", "2", src)
    assert at_rest.code == 0 and "the atoms start at rest (0 K)" in at_rest.stderr
    started = wfl("md", "--calc", "emt", "--steps", "2", "-T", "300", src)
    assert "only draws the starting velocities" in started.stderr
    thermostat = wfl("md", "--calc", "emt", "--steps", "2", "-T", "300", "--ensemble",
                     "langevin", src)
    assert thermostat.code == 0 and "warning" not in thermostat.stderr
