"""``--calc mace:MODEL`` against MACE's own ``MACECalculator`` called directly, with a tiny
model built once per session from MACE's Python API (random weights, saved with
torch.save)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from helpers_data import rattled_cells, read_text, write_configs
from helpers_wfl import wfl_program

pytest.importorskip("mace", reason="mace-torch is not installed (pip install 'wflcli[mace]')")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    import torch

    from helpers_mace import build_tiny_model

    # one thread: the tests' graphs are small, and on a busy machine threads only wait for
    # each other (the thread count does not change a result: see the --parallel test)
    torch.set_num_threads(1)
    return build_tiny_model(tmp_path_factory.mktemp("mace") / "tiny.model")


def two_sizes(count: int) -> list:
    """Rattled Cu/Ag cells, half of 4 atoms and half of 32."""
    small = rattled_cells(count // 2, "Cu", (1, 1, 1), stdev=0.1)
    large = rattled_cells(count - count // 2, "Cu", (2, 2, 2), stdev=0.1)
    for atoms in large:
        atoms.symbols[::3] = "Ag"
    return [atoms for pair in zip(small, large) for atoms in pair]


def direct(model: str, configs: list, dtype: str = "float64") -> list[dict]:
    from mace.calculators import MACECalculator

    calculator = MACECalculator(model_paths=model, device="cpu", default_dtype=dtype)
    results = []
    for atoms in configs:
        atoms = atoms.copy()
        atoms.calc = calculator
        results.append({"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
                        "stress": atoms.get_stress()})
    return results


def test_calc_equals_mace_calculator(wfl, tmp_path, tiny_model):
    configs = two_sizes(50)
    src = write_configs(tmp_path / "in.xyz", configs)
    result = wfl("calc", "--calc", f"mace:{tiny_model},dtype=float64", src)
    assert result.code == 0, result.stderr
    done = read_text(result.stdout)
    assert len(done) == 50
    for out, want in zip(done, direct(tiny_model, configs)):
        assert abs(out.info["MACE_energy"] - want["energy"]) < 1e-10
        assert np.abs(out.arrays["MACE_forces"] - want["forces"]).max() < 1e-10
        assert np.abs(out.info["MACE_stress"] - want["stress"]).max() < 1e-10


def test_float32_is_mace_calculators_float32(wfl, tmp_path, tiny_model):
    configs = two_sizes(4)
    result = wfl("calc", "--calc", f"mace:{tiny_model},dtype=float32", "--prefix", "M_",
                 write_configs(tmp_path / "in.xyz", configs))
    assert result.code == 0, result.stderr
    float64 = direct(tiny_model, configs)
    for out, want, exact in zip(read_text(result.stdout), direct(tiny_model, configs,
                                                                 "float32"), float64):
        # float32 rounding (1e-7 relative), batched or not; float64 would agree to 1e-16
        assert out.info["M_energy"] == pytest.approx(want["energy"], rel=1e-6)
        assert np.abs(out.arrays["M_forces"] - want["forces"]).max() < 1e-6
        assert out.info["M_energy"] != exact["energy"]  # it did run in float32


def test_auto_device_is_the_cpu_here(tiny_model):
    import torch

    from wflcli.calculators.spec import parse_calc_spec

    spec = parse_calc_spec(f"mace:{tiny_model}")
    assert spec.parameters["device"] == ("cuda" if torch.cuda.device_count() else "cpu")
    assert spec.parameters["dtype"] == "float64"  # the model's own
    assert spec.short_name == "MACE"


@pytest.mark.slow
def test_parallel_is_byte_identical_to_serial(tmp_path, tiny_model):
    src = write_configs(tmp_path / "in.xyz", two_sizes(40))
    env = dict(os.environ, WFLCLI_HOME=str(tmp_path / "home"))

    def run(*options, batch="0"):
        args = ["calc", "--calc", f"mace:{tiny_model}", src] + (["--batch", batch]
                                                                if batch != "0" else [])
        result = wfl_program("--no-cache", *options, *args, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr == b""  # MACE's import and load notices stay out of it
        return result.stdout

    # batched: the same chunks make the same batches, in one process or two
    assert run("--chunk", "16") == run("--parallel", "2", "--chunk", "16")
    # one at a time: however the input is chunked
    assert run(batch="1") == run("--parallel", "2", "--chunk", "3", batch="1")


def clusters(count: int) -> list:
    """Rattled Cu/Ag clusters in no cell: configs without a stress."""
    from ase.cluster import Octahedron

    configs = []
    for i in range(count):
        atoms = Octahedron("Cu", 3 + i % 2)
        atoms.symbols[::4] = "Ag"
        atoms.rattle(0.05, seed=i)
        configs.append(atoms)
    return configs


@pytest.mark.parametrize("batching", [[], ["--batch", "7"], ["--batch", "3", "--batch-atoms",
                                                                   "40"]])
def test_batched_equals_one_at_a_time(wfl, tmp_path, tiny_model, batching):
    configs = two_sizes(50) + clusters(4)
    src = write_configs(tmp_path / "in.xyz", configs)
    alone = read_text(wfl("calc", "--calc", f"mace:{tiny_model}", "--batch", "1", src).stdout)
    result = wfl("--no-cache", "calc", "--calc", f"mace:{tiny_model}", *batching, src)
    assert result.code == 0, result.stderr
    batched = read_text(result.stdout)
    assert len(batched) == len(configs)
    for one, many in zip(alone, batched):
        assert set(one.info) == set(many.info) and set(one.arrays) == set(many.arrays)
        assert abs(one.info["MACE_energy"] - many.info["MACE_energy"]) < 1e-8
        assert np.abs(one.arrays["MACE_forces"] - many.arrays["MACE_forces"]).max() < 1e-8
        if one.pbc.all():
            assert np.abs(one.info["MACE_stress"] - many.info["MACE_stress"]).max() < 1e-8
    assert "MACE_stress" not in batched[-1].info  # a cluster has none


def test_a_bad_config_in_a_batch_fails_alone(wfl, tmp_path, tiny_model):
    configs = two_sizes(12)
    configs[5].symbols[0] = "Au"
    configs[8].info["wfl_calc"] = {"dtype": "float32"}  # its own parameters: evaluated alone
    result = wfl("calc", "--calc", f"mace:{tiny_model}", "--batch", "6", "--overrides", "dtype",
                 write_configs(tmp_path / "in.xyz", configs))
    assert result.code == 3
    done = read_text(result.stdout)
    assert [i for i, a in enumerate(done) if "wfl_error" in a.info] == [5]
    assert "does not know Au" in done[5].info["wfl_error"]["message"]
    wanted = direct(tiny_model, configs[:5] + configs[6:8] + configs[9:])
    for out, want in zip(done[:5] + done[6:8] + done[9:], wanted):
        assert abs(out.info["MACE_energy"] - want["energy"]) < 1e-8
    float32 = direct(tiny_model, [configs[8]], "float32")[0]
    assert done[8].info["MACE_energy"] == pytest.approx(float32["energy"], abs=1e-10)


def test_the_model_files_content_is_in_the_cache_key(wfl, tmp_path, tiny_model):
    from helpers_mace import build_tiny_model

    model = build_tiny_model(tmp_path / "m.model", seed=1)
    src = write_configs(tmp_path / "in.xyz", two_sizes(2))
    first = read_text(wfl("calc", "--calc", f"mace:{model}", src).stdout)
    build_tiny_model(model, seed=2)  # same path, other weights
    second = read_text(wfl("calc", "--calc", f"mace:{model}", src).stdout)
    assert second[0].info["MACE_energy"] != first[0].info["MACE_energy"]
    assert second[0].info["MACE_energy"] == pytest.approx(
        direct(model, two_sizes(2)[:1])[0]["energy"], abs=1e-10)


def test_md_matches_ase_driven_by_mace_calculator(wfl, tmp_path, tiny_model):
    from ase import units
    from ase.md.verlet import VelocityVerlet
    from mace.calculators import MACECalculator

    atoms = two_sizes(2)[0]
    atoms.set_momenta(np.random.default_rng(3).normal(0, 0.3, (len(atoms), 3)))
    result = wfl("md", "--calc", f"mace:{tiny_model}", "--keep-velocities", "--steps", "10",
                 "--every", "10", write_configs(tmp_path / "in.xyz", [atoms]))
    assert result.code == 0, result.stderr
    last = read_text(result.stdout)[-1]
    ase_run = atoms.copy()
    ase_run.calc = MACECalculator(model_paths=tiny_model, device="cpu", default_dtype="float64")
    VelocityVerlet(ase_run, 1.0 * units.fs).run(10)
    assert np.abs(last.positions - ase_run.positions).max() < 1e-10
    assert last.info["MACE_energy"] == pytest.approx(ase_run.get_potential_energy(), abs=1e-10)


def test_optimize_matches_ase_driven_by_mace_calculator(wfl, tmp_path, tiny_model):
    from ase.optimize import BFGS
    from mace.calculators import MACECalculator

    atoms = two_sizes(2)[0]
    result = wfl("optimize", "--calc", f"mace:{tiny_model}", "--optimizer", "bfgs", "--fmax",
                 "0.02", write_configs(tmp_path / "in.xyz", [atoms]))
    assert result.code == 0, result.stderr
    (relaxed,) = read_text(result.stdout)
    ase_run = atoms.copy()
    ase_run.calc = MACECalculator(model_paths=tiny_model, device="cpu", default_dtype="float64")
    optimizer = BFGS(ase_run, logfile=None)
    assert optimizer.run(fmax=0.02, steps=500)
    assert relaxed.info["optimize_steps"] == optimizer.nsteps
    assert np.abs(relaxed.positions - ase_run.positions).max() < 1e-8


def test_elements_the_model_does_not_know_fail_alone(wfl, tmp_path, tiny_model):
    configs = two_sizes(2)
    configs[0].symbols[0] = "Au"
    result = wfl("calc", "--calc", f"mace:{tiny_model}",
                 write_configs(tmp_path / "in.xyz", configs))
    assert result.code == 3
    bad, good = read_text(result.stdout)
    assert bad.info["wfl_error"]["message"] == "the MACE model does not know Au (it knows Cu, Ag)"
    assert "MACE_energy" in good.info
    assert "the MACE model does not know Au" in result.stderr


@pytest.mark.parametrize("make, spec, message", [
    (lambda p: p.write_text("not a model\n"), "mace:{path}",
     "{path} is not a MACE model file (UnpicklingError"),
    (lambda p: __import__("torch").save({"model": 1, "epoch": 3}, p), "mace:{path}",
     "{path} holds a dict (a training checkpoint?)"),
    (None, "mace:{model},device=cuda:7", "device=cuda:7, but torch"),
    (None, "mace:{model},device=tpu", "device=tpu is not one of cpu, cuda, cuda:N or auto"),
    (None, "mace:{model},dtype=float16", "dtype=float16 is not one of float64, float32"),
    (None, "mace:{model},head=pbe", "head=pbe is not one of the model's heads (Default)"),
    (None, "mace:{model},cutoff=5", "unknown parameter 'cutoff'"),
    (None, "mace", "--calc mace needs a model file"),
])
def test_bad_specs_are_usage_errors_before_any_work(wfl, tmp_path, tiny_model, make, spec,
                                                     message):
    path = tmp_path / "bad.model"
    if make is not None:
        make(path)
    result = wfl("calc", "--calc", spec.format(path=path, model=tiny_model),
                 write_configs(tmp_path / "in.xyz", two_sizes(2)))
    assert result.code == 2
    assert result.stdout == ""
    assert message.format(path=path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cuda_is_refused_where_torch_sees_none(wfl, tmp_path, tiny_model):
    import torch

    if torch.cuda.device_count():
        pytest.skip("this machine has a GPU: the refusal cannot be seen")
    result = wfl("calc", "--calc", f"mace:{tiny_model},device=cuda",
                 write_configs(tmp_path / "in.xyz", two_sizes(2)))
    assert result.code == 2
    assert "device=cuda, but torch" in result.stderr and "sees no CUDA device" in result.stderr


def test_a_missing_package_is_one_line_naming_the_extra(tmp_path, tiny_model):
    # mace-torch is installed here: a package named mace that fails to import stands in for
    # its absence (the only way to see the message on a machine that has it)
    shadow = tmp_path / "shadow" / "mace"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named mace')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shadow.parent), *sys.path]))
    result = wfl_program("calc", "--calc", f"mace:{tiny_model}",
                         write_configs(tmp_path / "in.xyz", two_sizes(2)), env=env)
    assert result.returncode == 2 or result.returncode == 1
    assert result.stderr.decode().strip() == (
        "wfl: error: --calc mace needs the Python package 'mace-torch': "
        "pip install 'wflcli[mace]' (or pip install mace-torch)")


def test_list_calcs_names_mace(wfl):
    result = wfl("calc", "--list-calcs")
    assert "mace     a MACE model: mace:MODEL" in result.stdout
    assert "[needs wflcli[mace]]" in result.stdout
