"""An input file is data: ``info['wfl_calc']`` may set only what ``--overrides`` allows, to
plain values, and never an input block or a task; misspelt code parameters are usage
errors. The attack runs against the real NWChem (scripts/install_codes.sh)."""

from __future__ import annotations

import shutil

import pytest
from ase import Atoms

from helpers_data import rattled_cells, read_text, write_configs

needs_nwchem = pytest.mark.skipif(shutil.which("nwchem") is None,
                                  reason="NWChem is not installed: scripts/install_codes.sh")
SPEC = "nwchem:theory=scf,basis=sto-3g"


def _hydrogen(overrides) -> Atoms:
    atoms = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    if overrides is not None:
        atoms.info["wfl_calc"] = overrides
    return atoms


def _python_block(marker) -> dict:
    return {"import": f"os; os.system('touch {marker}')"}


@needs_nwchem
@pytest.mark.slow
@pytest.mark.parametrize("task", ["gradient; task python", "gradient\ntask python"])
def test_an_input_file_cannot_make_nwchem_run_python(tmp_path, wfl, task):
    """On main the ';' form ran os.system through NWChem's python block (exit 0)."""
    marker = tmp_path / "PWNED"
    write_configs(tmp_path / "in.xyz", [_hydrogen({"task": task,
                                                   "python": _python_block(marker)})])
    result = wfl("--no-cache", "calc", "--calc", SPEC, "--keep-files", "all",
                 "--scratch", tmp_path / "scratch", tmp_path / "in.xyz")
    assert result.code == 3
    assert not marker.exists()
    [done] = read_text(result.stdout)
    message = done.info["wfl_error"]["message"]
    assert "sets 'task'" in message or "sets 'python.import'" in message
    assert "--overrides allows: none" in message
    assert not (tmp_path / "scratch").exists()  # refused before any input file was written


@needs_nwchem
@pytest.mark.slow
def test_an_allowed_key_still_takes_only_a_plain_value(tmp_path, wfl):
    marker = tmp_path / "PWNED"
    configs = [_hydrogen({"python": _python_block(marker)}),
               _hydrogen({"basis": "sto-3g; task python"}),
               _hydrogen({"basis": "sto-3g\ntask python"}), _hydrogen({"basis": "3-21G"})]
    write_configs(tmp_path / "in.xyz", configs)
    result = wfl("--no-cache", "calc", "--calc", SPEC, "--overrides", "basis,python",
                 tmp_path / "in.xyz")
    assert result.code == 2 and "cannot take 'python' from an input file" in result.stderr

    result = wfl("--no-cache", "calc", "--calc", SPEC, "--overrides", "basis",
                 "--scratch", tmp_path / "scratch", tmp_path / "in.xyz")
    assert result.code == 3 and not marker.exists()
    *refused, plain = read_text(result.stdout)
    assert "sets 'python.import'" in refused[0].info["wfl_error"]["message"]
    for atoms in refused[1:]:
        assert "no line breaks or input-language characters" in atoms.info["wfl_error"]["message"]
    assert "nwchem_energy" in plain.info  # a plain allowed value works


@pytest.mark.parametrize("spec", ["nwchem:thoery=scf", "orca:orcasimpleinpt=HF",
                                  "espresso:ecutwf=30", "vasp:encutt=400"])
def test_a_misspelt_code_parameter_is_a_usage_error(tmp_path, wfl, spec):
    write_configs(tmp_path / "in.xyz", [_hydrogen(None)])
    result = wfl("calc", "--calc", spec, tmp_path / "in.xyz")
    assert result.code == 2, result.stderr
    assert "unknown parameter" in result.stderr and result.stdout == ""


def test_known_code_parameters_pass(tmp_path):
    from wflcli.calculators.spec import parse_calc_spec

    expected = {
        "nwchem:theory=dft,xc=PBE,basis=3-21G,dft.mult=2":
            {"theory": "dft", "xc": "PBE", "basis": "3-21G", "dft": {"mult": 2}},
        "espresso:ecutwfc=30": {"ecutwfc": 30},
        "vasp:encut=400,ismear=0": {"encut": 400, "ismear": 0},
        "orca:orcasimpleinput=HF": {"orcasimpleinput": "HF"},
        "castep:param.xc=PBE": {"param": {"xc": "PBE"}},
    }
    for text, params in expected.items():
        spec = parse_calc_spec(text)
        assert (spec.name, dict(spec.params)) == (text.partition(":")[0], params)


def test_overrides_for_an_in_process_calculator(tmp_path, wfl):
    """Without --overrides the file cannot change the calculator; with it, it can."""
    from ase.calculators.lj import LennardJones

    configs = rattled_cells(2, element="Ar", repeat=(1, 1, 1))
    configs[1].info["wfl_calc"] = {"sigma": 2.0}
    write_configs(tmp_path / "in.xyz", configs)
    args = ("calc", "--calc", "lj:sigma=3.4,epsilon=0.01,rc=6", tmp_path / "in.xyz")

    refused = wfl(*args)
    assert refused.code == 3
    assert "'sigma', which this run does not allow" in refused.stderr

    allowed = wfl(*args, "--overrides", "sigma")
    assert allowed.code == 0, allowed.stderr
    done = read_text(allowed.stdout)
    reference = configs[1].copy()
    reference.calc = LennardJones(sigma=2.0, epsilon=0.01, rc=6)
    assert done[1].info["lj_energy"] == reference.get_potential_energy()


@pytest.mark.parametrize("keys, message", [
    ("command", "never taken from an input file"),
    ("a;b", "is not a parameter name"),
])
def test_overrides_that_can_never_come_from_data(tmp_path, wfl, keys, message):
    write_configs(tmp_path / "in.xyz", rattled_cells(1))
    result = wfl("calc", "--calc", "emt", "--overrides", keys, tmp_path / "in.xyz")
    assert result.code == 2 and message in result.stderr


@pytest.mark.parametrize("value", ["Fe\n%BLOCK", "Fe;x", "Fe#", ""])
def test_castep_labels_from_data_must_be_plain(value):
    import numpy as np

    from wflcli.calculators.overrides import check_config_text

    atoms = Atoms("Fe2", positions=[[0, 0, 0], [1.2, 0, 0]])
    atoms.arrays["castep_custom_species"] = np.array(["Fe1", value])
    with pytest.raises(ValueError, match="castep would copy it into its input"):
        check_config_text("castep", atoms)
    atoms.arrays["castep_custom_species"] = np.array(["Fe1", "Fe:2"])
    check_config_text("castep", atoms)


@pytest.mark.parametrize("overrides, message", [
    ({"keep_velocities": 1}, "keep_velocities=1 is not a switch"),
    ({"timestep": True}, "timestep=True is not a number"),
    ({"steps": 2.5}, "steps=2.5 is not a whole number"),
])
def test_md_overrides_from_data_have_the_option_type(overrides, message):
    """info['wfl_md'] never reaches an input text, but its values are checked as options."""
    from wflcli.verbs.md import MDOptions

    with pytest.raises(ValueError, match=message):
        MDOptions().merged(overrides)
