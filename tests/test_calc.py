"""``wfl calc`` against ASE's calculators called directly on the same input."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from helpers_data import rattled_cells, read_text, write_configs


def emt_cases():
    """Cu/Al/Ni, with and without pbc, from 1 to 256 atoms."""
    configs = []
    for element in ("Cu", "Al", "Ni"):
        for repeat in ((1, 1, 1), (2, 2, 2), (4, 4, 4)):
            configs += rattled_cells(2, element, repeat, pbc=True)
        configs += rattled_cells(1, element, (2, 2, 1), pbc=False)
        cluster = bulk(element, "fcc", cubic=True) * (2, 2, 2)
        cluster.pbc, cluster.cell = False, None
        configs.append(cluster)
    configs.append(bulk("Cu", "fcc", a=3.6))  # a single atom, primitive cell
    return configs


def test_emt_matches_ase_directly(wfl, tmp_path):
    path = tmp_path / "in.xyz"
    ase.io.write(path, emt_cases(), format="extxyz")  # as a user's file would be
    configs = ase.io.read(path, ":")
    result = wfl("calc", "--calc", "emt", path)
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    assert len(out) == len(configs)
    for original, labelled in zip(configs, out):
        atoms = original.copy()
        atoms.calc = EMT()
        assert labelled.info["emt_energy"] == pytest.approx(atoms.get_potential_energy(),
                                                            abs=1e-10)
        assert np.allclose(labelled.arrays["emt_forces"], atoms.get_forces(), atol=1e-10)
        if atoms.pbc.all():
            assert np.allclose(labelled.info["emt_stress"], atoms.get_stress(), atol=1e-12)
        else:
            assert "emt_stress" not in labelled.info
        assert np.array_equal(labelled.positions, original.positions)


def test_prefix_and_properties(wfl, cu_file):
    result = wfl("calc", "--calc", "emt", "--prefix", "REF_", "--properties", "energy", cu_file)
    (first, *_) = read_text(result.stdout)
    assert "REF_energy" in first.info
    assert "REF_forces" not in first.arrays and "REF_stress" not in first.info


def test_other_inputs_keys_are_kept(wfl, tmp_path):
    atoms = rattled_cells(1)[0]
    atoms.info["config_type"] = "rattled"
    atoms.arrays["tag"] = np.arange(len(atoms))
    result = wfl("calc", "--calc", "emt", write_configs(tmp_path / "in.xyz", [atoms]))
    (out,) = read_text(result.stdout)
    assert out.info["config_type"] == "rattled"
    assert out.arrays["tag"].tolist() == list(range(len(atoms)))


def test_lj_and_morse_with_parameters(wfl, tmp_path):
    from ase.calculators.lj import LennardJones
    from ase.calculators.morse import MorsePotential

    configs = rattled_cells(3, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", configs)
    for spec, make in (("lj:sigma=2.3,epsilon=0.4,rc=6", lambda: LennardJones(sigma=2.3, epsilon=0.4, rc=6)),
                       ("morse:epsilon=0.3,r0=2.5", lambda: MorsePotential(epsilon=0.3, r0=2.5))):
        result = wfl("calc", "--calc", spec, "--prefix", "X_", src)
        assert result.code == 0, result.stderr
        for original, out in zip(configs, read_text(result.stdout)):
            atoms = original.copy()
            atoms.calc = make()
            assert out.info["X_energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-10)


def test_python_spec_with_kwargs(wfl, tmp_path):
    from ase.calculators.lj import LennardJones

    configs = rattled_cells(2, "Cu", (1, 1, 1))
    result = wfl("calc", "--calc", "python:ase.calculators.lj:LennardJones",
                 "--calc-kwargs", json.dumps({"sigma": 2.2, "rc": 5.0}),
                 write_configs(tmp_path / "in.xyz", configs))
    assert result.code == 0, result.stderr
    out = read_text(result.stdout)
    atoms = configs[0].copy()
    atoms.calc = LennardJones(sigma=2.2, rc=5.0)
    assert out[0].info["LennardJones_energy"] == pytest.approx(atoms.get_potential_energy())


def test_tblite_matches_its_own_ase_calculator(wfl, tmp_path):
    pytest.importorskip("tblite", reason="tblite is the xtb extra; CI installs it")
    from tblite.ase import TBLite

    mols = [molecule("H2O"), molecule("CH3CH2OH")]
    for method in ("GFN2-xTB", "GFN1-xTB"):
        result = wfl("calc", "--calc", f"tblite:method={method}",
                     write_configs(tmp_path / "mol.xyz", mols))
        assert result.code == 0, result.stderr
        for mol, out in zip(mols, read_text(result.stdout)):
            atoms = mol.copy()
            atoms.calc = TBLite(method=method, verbosity=0)
            assert out.info["tblite_energy"] == pytest.approx(atoms.get_potential_energy(),
                                                              abs=1e-8)
            assert np.allclose(out.arrays["tblite_forces"], atoms.get_forces(), atol=1e-8)
            assert "tblite_stress" not in out.info


def test_failed_configs_are_kept_with_the_reason_and_exit_3(wfl, tmp_path):
    good = rattled_cells(2, "Cu", (1, 1, 1))
    bad = bulk("Si", "diamond", a=5.43)  # EMT has no parameters for Si
    src = write_configs(tmp_path / "in.xyz", [good[0], bad, good[1]])
    result = wfl("calc", "--calc", "emt", src)
    assert result.code == 3
    out = read_text(result.stdout)
    assert [len(a) for a in out] == [4, 2, 4]
    error = out[1].info["wfl_error"]
    assert error["verb"] == "calc" and error["type"] == "NotImplementedError"
    assert "emt_energy" not in out[1].info and "emt_energy" in out[2].info
    assert "1 of 3 configs failed" in result.stderr and "config 1:" in result.stderr


def test_failed_file_takes_the_failures(wfl, tmp_path):
    good = rattled_cells(2, "Cu", (1, 1, 1))
    src = write_configs(tmp_path / "in.xyz", [good[0], bulk("Si", "diamond", a=5.43), good[1]])
    result = wfl("calc", "--calc", "emt", src, "-o", tmp_path / "ok.xyz",
                 "--failed", tmp_path / "failed.xyz")
    assert result.code == 3
    ok = ase.io.read(tmp_path / "ok.xyz", ":")
    failed = ase.io.read(tmp_path / "failed.xyz", ":")
    assert len(ok) == 2 and len(failed) == 1
    assert failed[0].info["wfl_error"]["type"] == "NotImplementedError"


@pytest.mark.parametrize("args,words", [
    (["--calc", "nosuch"], "unknown calculator 'nosuch'"),
    (["--calc", "lj:sigmaa=2"], "unknown parameter 'sigmaa'"),
    (["--calc", "lj:sigma"], "expected key=value"),
    (["--calc", "tblite:method=GFN9"], "not one of"),
    (["--calc", "python:nosuchmodule:X"], "cannot import nosuchmodule"),
    (["--calc", "python:ase.calculators.emt:Nope"], "has no Nope"),
    (["--calc", "lj", "--calc-kwargs", "{bad"], "not valid JSON"),
    ([], "--calc is required"),
])
def test_bad_calculator_specs_are_usage_errors(wfl, cu_file, args, words):
    result = wfl("calc", *args, cu_file)
    assert result.code == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_list_calcs(wfl):
    result = wfl("calc", "--list-calcs")
    assert result.code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["emt", "lj", "morse", "tblite", "gap", "mace", "nwchem", "cp2k", "espresso",
                     "orca", "vasp", "castep", "aims", "python"]
    assert "WFL_VASP_GAMMA_COMMAND (default vasp_gam), VASP_PP_PATH]" in result.stdout


def test_per_config_overrides_change_that_config_alone(tmp_path, wfl):
    """info['wfl_calc'] merges into the spec's parameters for its config; a bad one fails
    that config alone, naming the problem."""
    from ase.calculators.lj import LennardJones

    configs = rattled_cells(3, element="Ar", repeat=(1, 1, 1))
    configs[1].info["wfl_calc"] = {"sigma": 2.0}
    configs[2].info["wfl_calc"] = {"sigmaa": 2.0}
    write_configs(tmp_path / "in.xyz", configs)

    result = wfl("calc", "--calc", "lj:sigma=3.4,epsilon=0.01,rc=6", "--overrides",
                 "sigma,sigmaa", tmp_path / "in.xyz")

    assert result.code == 3
    done = read_text(result.stdout)
    for atoms, sigma in ((done[0], 3.4), (done[1], 2.0)):
        reference = atoms.copy()
        reference.calc = LennardJones(sigma=sigma, epsilon=0.01, rc=6)
        assert atoms.info["lj_energy"] == reference.get_potential_energy()
    assert "unknown parameter 'sigmaa'" in done[2].info["wfl_error"]["message"]
    assert done[2].info["wfl_error"]["message"].startswith("info['wfl_calc']")


def test_calc_kwargs_from_a_yaml_file_and_dotted_keys(tmp_path):
    from wflcli.calculators.spec import parse_calc_spec
    from wflcli.calculators.spec_error import KWARGS, CalcSpecError
    from wflcli.errors import UsageError

    settings = tmp_path / "lj.yaml"
    settings.write_text("# what the group always uses\nepsilon: 0.02\nrc: 7.5\n")
    spec = parse_calc_spec("lj:sigma=3.1", str(settings))
    assert spec.parameters == {"sigma": 3.1, "epsilon": 0.02, "rc": 7.5}
    nested = parse_calc_spec("python:ase.calculators.emt:EMT", None)  # no parameters at all
    assert nested.parameters == {}
    assert parse_calc_spec("nwchem:dft.xc=PBE,dft.mult=2,basis=3-21G").parameters == \
        {"basis": "3-21G", "dft": {"mult": 2, "xc": "PBE"}}
    settings.write_text("epsilon: 0.02\n  rc: [7.5\n")
    with pytest.raises(CalcSpecError) as refused:  # a fact about the kwargs' file and line
        parse_calc_spec("lj", str(settings))
    assert (refused.value.source, refused.value.subject) == (KWARGS, f"{settings}:2")
    assert refused.value.fact.startswith("not valid JSON or YAML")
    settings.write_text("- 1\n- 2\n")
    with pytest.raises(UsageError, match="must be an object of constructor arguments"):
        parse_calc_spec("lj", str(settings))


def test_kwargs_errors_name_the_option_that_gave_them(tmp_path, wfl):
    """The calculator's facts are worded by the command line: --calc-kwargs for calc,
    --kwargs and wfl map for map's own keyword arguments."""
    settings = tmp_path / "lj.yaml"
    settings.write_text("epsilon: 0.02\n  rc: [7.5\n")
    src = write_configs(tmp_path / "in.xyz", [bulk("Cu", cubic=True)])
    result = wfl("calc", "--calc", "lj", "--calc-kwargs", settings, src)
    assert result.code == 2 and result.stdout == ""
    assert f"--calc-kwargs {settings}:2: not valid JSON or YAML" in result.stderr
    result = wfl("map", "json:dumps", "--kwargs", "[1]", src)
    assert result.code == 2
    assert "--kwargs must be an object of keyword arguments" in result.stderr
    result = wfl("map", "json:dumps", "a=1", "a.b=2", src)
    assert result.code == 2
    assert "wfl map: a.b: a already has a value that is not a table" in result.stderr
