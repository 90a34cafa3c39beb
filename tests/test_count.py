"""``wfl count``: one block per file and a total, 0 for empty input, and --keys."""

from __future__ import annotations

import json

import numpy as np

from helpers_data import rattled_cells
from wflcli.io.writer import format_config


def _write(path, configs):
    path.write_text("".join(format_config(a) for a in configs))
    return path


def _labelled(n, kind):
    configs = rattled_cells(n, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info.update(config_type=kind, REF_energy=float(i), step=i)
        atoms.arrays["REF_forces"] = np.zeros((len(atoms), 3))
    return configs


def test_a_block_per_file_and_the_total(wfl, tmp_path):
    a = _write(tmp_path / "a.xyz", _labelled(3, "md"))
    b = _write(tmp_path / "b.xyz", _labelled(2, "opt"))
    data = json.loads(wfl("count", "--json", a, b).stdout)
    assert data["files"][str(a)]["configs"] == 3 and data["files"][str(b)]["configs"] == 2
    assert data["total"] == {"configs": 5, "atoms": 20, "species": {"Cu": 20},
                             "config_type": {"md": 3, "opt": 2}}
    text = wfl("count", a, b).stdout
    assert [line for line in text.splitlines() if line.startswith("==")] == [
        f"== {a}", f"== {b}", "== total"]
    assert json.loads(wfl("count", "--json", a).stdout)["configs"] == 3  # one file: as before


def test_empty_input_counts_zero(wfl, tmp_path):
    result = wfl("count", "--json", input=b"")
    assert result.code == 0 and json.loads(result.stdout)["configs"] == 0
    empty = tmp_path / "empty.xyz"
    empty.write_text("")
    assert "configs  0" in wfl("count", empty).stdout


def test_keys_types_counts_and_prefixes(wfl, tmp_path):
    configs = _labelled(4, "md")
    configs[0].info["GAP_energy"] = 1.5
    data = json.loads(wfl("count", "--json", "--keys",
                          _write(tmp_path / "x.xyz", configs)).stdout)
    info = {row["key"]: (row["type"], row["configs"]) for row in data["info"]}
    assert info["REF_energy"] == ("float", 4) and info["step"] == ("int", 4)
    assert info["GAP_energy"] == ("float", 1) and info["config_type"] == ("str", 4)
    arrays = {row["key"]: (row["type"], row["configs"]) for row in data["arrays"]}
    assert arrays == {"REF_forces": ("float[3]", 4)}
    assert data["prefixes"] == {"GAP_": ["energy"], "REF_": ["energy", "forces"]}
