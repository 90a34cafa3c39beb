"""``wfl map``: a user's function as a verb. Outputs are checked against the same function
called directly on the same input; work is counted through a log the functions write."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers_data import assert_same_atoms, rattled_cells, read_text, write_configs
from helpers_wfl import wfl_argv

OPS = '''
import os
from ase import Atoms
import helper


def log(what):
    with open(os.environ["MAP_LOG"], "a") as stream:
        stream.write(f"{what} {os.getpid()}\\n")


def cap_bonds(atoms, cap_with="H"):
    """Caps the first atom along z: adds one atom."""
    log("call")
    capped = atoms + Atoms(cap_with, positions=[atoms.positions[0] + [0, 0, helper.BOND]])
    capped.info["capped_with"] = cap_with
    return capped


def copies(atoms, n=2):
    """n outputs per input (none for n=0), in order; None for the config marked drop."""
    if atoms.info.get("drop"):
        return None
    out = []
    for k in range(n):
        new = atoms.copy()
        new.info["copy"] = k
        out.append(new)
    return out


def shaken(atoms, rng, stdev=0.1):
    atoms.positions += rng.normal(0, stdev, atoms.positions.shape)
    return atoms


def load_model():
    log("init")
    return {"scale": 1.5}


def broken_model():
    return helper.explode(0)


def scaled(atoms, state):
    log("call")
    atoms.info["scale"] = state["scale"]
    return atoms


def fails_in_helper(atoms):
    if len(atoms) > 4:
        return helper.explode(len(atoms))
    return atoms


def returns_text(atoms):
    return "not a config"


def returns_mixed(atoms):
    return [atoms, 3.0]


NOT_CALLABLE = 42


def no_arguments():
    return None
'''

HELPER = '''
BOND = 1.0


def explode(n):
    raise ValueError(f"too many atoms: {n}")
'''


@pytest.fixture
def ops(tmp_path, monkeypatch):
    """my_ops.py and helper.py in the working folder; MAP_LOG counts calls. The modules
    that in-process runs import are forgotten afterwards, as a new ``wfl`` would be."""
    (tmp_path / "my_ops.py").write_text(OPS)
    (tmp_path / "helper.py").write_text(HELPER)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAP_LOG", str(tmp_path / "map.log"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def logged(folder) -> list[tuple[str, str]]:
    """(what, pid) of every line logged since the last look."""
    log = folder / "map.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return [tuple(line.split()) for line in lines]


def calls(folder) -> list[str]:
    """The pids that ran the function since the last look."""
    return [pid for what, pid in logged(folder) if what == "call"]


def direct(folder):
    """my_ops imported as a plain module, to call the functions directly."""
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location("my_ops_direct", folder / "my_ops.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))


def cells(folder, count=6, name="in.xyz"):
    configs = rattled_cells(count, "Cu", (1, 1, 1))
    for i, atoms in enumerate(configs):
        atoms.info["n"] = i
    return write_configs(folder / name, configs), configs


def run(*args, cwd, input=None):
    return subprocess.run(wfl_argv(*map(str, args)), capture_output=True, cwd=cwd,
                          input=input, timeout=120)


def test_one_to_one_equals_the_function_called_directly(wfl, ops):
    source, configs = cells(ops)
    result = wfl("map", "my_ops.py:cap_bonds", "cap_with=He", source)
    assert result.code == 0, result.stderr
    mine = direct(ops)
    expected = [mine.cap_bonds(atoms.copy(), cap_with="He") for atoms in configs]
    got = read_text(result.stdout)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert_same_atoms(a, b)
    assert got[0].get_chemical_symbols()[-1] == "He"


def test_one_to_many_in_order_and_none_drops(wfl, ops):
    source, configs = cells(ops, 4)
    configs[1].info["drop"] = True
    write_configs(source, configs)
    result = wfl("map", "./my_ops.py:copies", "n=3", source)
    assert result.code == 0, result.stderr
    got = read_text(result.stdout)
    assert [(a.info["n"], a.info["copy"]) for a in got] == \
        [(n, k) for n in (0, 2, 3) for k in range(3)]
    assert wfl("map", "my_ops.py:copies", "n=0", source).stdout == ""


def test_kwargs_json_and_file_typed_like_calc(wfl, ops):
    source, _ = cells(ops, 2)
    by_json = wfl("map", "my_ops.py:cap_bonds", "--kwargs", '{"cap_with": "Ne"}', source)
    (ops / "kw.yaml").write_text("cap_with: Ne\n")
    by_file = wfl("map", "my_ops.py:cap_bonds", "--kwargs", "kw.yaml", source)
    by_pair = wfl("map", "my_ops.py:cap_bonds", "cap_with=Ne", source)
    assert by_json.code == 0 and by_json.stdout == by_file.stdout == by_pair.stdout
    assert "capped_with=Ne" in by_json.stdout


@pytest.mark.slow
def test_rng_is_the_configs_own_whatever_the_split(ops):
    source, configs = cells(ops, 12)
    args = ["map", "my_ops.py:shaken", "stdev=0.2", source]
    serial = run("--no-cache", *args, cwd=ops).stdout
    for split in (["--parallel", "2"], ["--chunk", "1"], ["--chunk", "7"],
                  ["--parallel", "2", "--chunk", "7"]):
        assert run("--no-cache", *split, *args, cwd=ops).stdout == serial, split
    write_configs(ops / "reversed.xyz", configs[::-1])
    backwards = read_text(run("--no-cache", "map", "my_ops.py:shaken", "stdev=0.2",
                              "reversed.xyz", cwd=ops).stdout)
    forwards = read_text(serial)
    assert [a.info["n"] for a in backwards] == list(range(11, -1, -1))
    for a, b in zip(forwards, backwards[::-1]):
        assert_same_atoms(a, b)
    moved = [np.abs(a.positions - c.positions).max() for a, c in zip(forwards, configs)]
    assert min(moved) > 0 and len({round(m, 12) for m in moved}) == 12
    other_seed = run("--no-cache", "--seed", "1", *args, cwd=ops).stdout
    assert other_seed != serial


def test_init_is_built_once_per_worker(ops):
    source, _ = cells(ops, 40)
    args = ["map", "my_ops.py:scaled", "--init", "my_ops.py:load_model", source]
    serial = run("--no-cache", *args, cwd=ops)
    assert serial.returncode == 0, serial.stderr
    lines = logged(ops)
    assert [what for what, _ in lines].count("init") == 1 and len(lines) == 41
    assert all(a.info["scale"] == 1.5 for a in read_text(serial.stdout))
    pooled = run("--no-cache", "--parallel", "2", "--chunk", "5", *args, cwd=ops)
    assert pooled.stdout == serial.stdout
    lines = logged(ops)
    inits = [pid for what, pid in lines if what == "init"]
    workers = {pid for what, pid in lines if what == "call"}
    assert len(lines) - len(inits) == 40
    assert sorted(inits) == sorted(workers) and len(inits) == len(set(inits)) <= 2


def test_init_as_names_the_keyword(wfl, ops):
    (ops / "named.py").write_text("def f(atoms, model):\n    atoms.info['m'] = model\n"
                                  "    return atoms\n\ndef make():\n    return 7\n")
    source, _ = cells(ops, 1)
    done = wfl("map", "named.py:f", "--init", "named.py:make", "--init-as", "model", source)
    assert done.code == 0, done.stderr and "m=7" in done.stdout


def test_lines_are_smiles_built_with_rdkit_inside_the_function(wfl, ops):
    pytest.importorskip("rdkit")
    (ops / "mols.py").write_text(textwrap.dedent('''
        from ase import Atoms
        from rdkit import Chem
        from rdkit.Chem import AllChem

        def from_smiles(smiles, seed=42):
            molecule = Chem.AddHs(Chem.MolFromSmiles(smiles))
            AllChem.EmbedMolecule(molecule, randomSeed=seed)
            atoms = Atoms([a.GetSymbol() for a in molecule.GetAtoms()],
                          positions=molecule.GetConformer().GetPositions())
            atoms.info["smiles"] = smiles
            return atoms
    '''))
    (ops / "in.smi").write_text("# ethanol and friends\nCCO\n\nC#N\n  c1ccccc1  \n")
    result = wfl("map", "mols.py:from_smiles", "--lines", "in.smi")
    assert result.code == 0, result.stderr
    got = read_text(result.stdout)
    assert [a.info["smiles"] for a in got] == ["CCO", "C#N", "c1ccccc1"]
    assert [a.get_chemical_formula() for a in got] == ["C2H6O", "CHN", "C6H6"]
    from_stdin = wfl("map", "mols.py:from_smiles", "--lines", "-", input="CCO\n")
    assert_same_atoms(read_text(from_stdin.stdout)[0], got[0])
    bad = wfl("map", "mols.py:from_smiles", "--lines", "-", input="CCO\nC1CC\n")
    assert bad.code == 3 and "config 1:" in bad.stderr
    failed = read_text(bad.stdout)[-1]
    assert failed.info["wfl_line"] == "C1CC" and failed.info["wfl_error"]["verb"] == "map"


@pytest.mark.slow
def test_a_rerun_computes_nothing_and_edits_recompute(ops):
    source, _ = cells(ops, 5)
    args = ["map", "my_ops.py:cap_bonds", source]
    first = run(*args, cwd=ops)
    assert first.returncode == 0 and len(calls(ops)) == 5
    assert run(*args, cwd=ops).stdout == first.stdout and calls(ops) == []
    assert run("--parallel", "2", "--chunk", "2", *args, cwd=ops).stdout == first.stdout
    assert calls(ops) == [], "chunking and workers do not change the key"
    assert run(*args[:2], "cap_with=He", source, cwd=ops).returncode == 0
    assert len(calls(ops)) == 5, "a kwarg changed"
    (ops / "my_ops.py").write_text(OPS.replace('"""Caps', '"""caps'))
    assert run(*args, cwd=ops).stdout == first.stdout and len(calls(ops)) == 5, \
        "one character of the function's file changed"
    assert run(*args, cwd=ops).returncode == 0 and calls(ops) == []
    (ops / "helper.py").write_text(HELPER.replace("BOND = 1.0", "BOND = 1.5"))
    moved = run(*args, cwd=ops)
    assert len(calls(ops)) == 5 and moved.stdout != first.stdout, "a helper module changed"
    assert run(*args, cwd=ops).stdout == moved.stdout and calls(ops) == []


def test_an_exception_fails_that_config_alone_located_in_the_users_file(wfl, ops):
    from ase.build import bulk

    small = rattled_cells(2, "Cu", (1, 1, 1))
    configs = [small[0], bulk("Cu", cubic=True) * (2, 1, 1), small[1]]
    source = write_configs(ops / "in.xyz", configs)
    result = wfl("map", "my_ops.py:fails_in_helper", source, "-o", "out.xyz",
                 "--failed", "failed.xyz")
    assert result.code == 3
    assert "1 of 3 configs failed" in result.stderr
    assert "ValueError: too many atoms: 8" in result.stderr
    assert len(read_text((ops / "out.xyz").read_text())) == 2
    failed, = read_text((ops / "failed.xyz").read_text())
    error = failed.info["wfl_error"]
    assert error["type"] == "ValueError" and error["verb"] == "map"
    assert error["where"].startswith(f"{ops / 'helper.py'}:6 in explode")
    assert_same_atoms(_without(failed, "wfl_error"), configs[1])


def _without(atoms, key):
    atoms = atoms.copy()
    del atoms.info[key]
    return atoms


@pytest.mark.parametrize("function, named", [("returns_text", "str"),
                                             ("returns_mixed", "list holding a float")])
def test_a_wrong_return_value_fails_naming_its_type(wfl, ops, function, named):
    source, _ = cells(ops, 2)
    result = wfl("map", f"my_ops.py:{function}", source)
    assert result.code == 3
    error = read_text(result.stdout)[0].info["wfl_error"]
    assert named in error["message"] and "Atoms, a list of Atoms or None" in error["message"]
    assert error["where"].startswith(f"{ops / 'my_ops.py'}:")


@pytest.mark.parametrize("args, message", [
    (["nosuch.py:f"], "map: no such file 'nosuch.py'"),
    (["my_ops:cap_bonds"], ("cannot import my_ops (No module named 'my_ops'); my_ops.py is a "
                            "file in this folder: give it as ./my_ops.py:cap_bonds")),
    (["no_such_package.sub:f"], "cannot import no_such_package.sub (No module named"),
    (["my_ops.py"], "'my_ops.py' is not package.module:name or path/to/file.py:name"),
    (["my_ops.py:nope"], "my_ops.py has no nope"),
    (["my_ops.py:NOT_CALLABLE"], "my_ops.py:NOT_CALLABLE is not callable (it is int)"),
    (["my_ops.py:no_arguments"], "no_arguments cannot be called with one positional argument"),
    (["my_ops.py:cap_bonds", "cap_width=He"], "one positional argument and cap_width"),
    (["my_ops.py:shaken", "rng=1"], "rng is the config's random generator"),
    (["my_ops.py:cap_bonds", "--init", "my_ops.py:cap_bonds"],
     "my_ops.py:cap_bonds cannot be called with no positional argument"),
    (["my_ops.py:scaled", "--init", "my_ops.py:load_model", "state=1"],
     "state= is given by --init"),
    (["my_ops.py:cap_bonds", "--kwargs", "{bad"], "--kwargs is not valid JSON"),
    (["my_ops.py:cap_bonds", "--lines", "x.smi", "in.xyz"], "not both"),
    (["broken.py:f"], "cannot import "),
])
def test_errors_before_any_work(wfl, ops, args, message):
    (ops / "broken.py").write_text("def f(atoms):\n    return atoms +\n")
    source, _ = cells(ops, 1)
    result = wfl("map", *args, source)
    assert result.code == 2, result.stderr
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr and calls(ops) == []


def test_an_error_while_importing_names_the_file_and_line(wfl, ops):
    (ops / "broken.py").write_text("def f(atoms):\n    return atoms +\n")
    (ops / "raising.py").write_text("import helper\n\nhelper.explode(3)\n")
    source, _ = cells(ops, 1)
    broken = wfl("map", "broken.py:f", source)
    assert broken.code == 2 and f"SyntaxError: invalid syntax, {ops / 'broken.py'}:2" \
        in broken.stderr
    raising = wfl("map", "raising.py:f", source)
    assert raising.code == 2
    assert f"ValueError: too many atoms: 3, {ops / 'helper.py'}:6" in raising.stderr


def test_help_starts_with_the_papers_example(wfl):
    text = wfl("map", "--help").stdout
    example = text.index("Example")
    assert text.index('def cap_bonds(atoms, cap_with="H"):') > example
    assert "wfl --parallel 4 map my_ops.py:cap_bonds cap_with=H in.xyz -o out.xyz" in text


def test_configs_that_failed_upstream_pass_through_uncomputed(wfl, ops):
    source, configs = cells(ops, 3)
    configs[1].info["wfl_error"] = {"verb": "calc", "type": "X", "message": "m", "where": ""}
    write_configs(source, configs)
    result = wfl("map", "my_ops.py:cap_bonds", source)
    assert result.code == 3 and len(calls(ops)) == 2
    got = read_text(result.stdout)
    assert [len(a) for a in got] == [5, 4, 5]
    assert got[1].info["wfl_error"]["verb"] == "calc"


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_a_failing_init_stops_the_run_with_its_location(ops, parallel):
    source, _ = cells(ops, 4)
    done = run("--parallel", parallel, "map", "my_ops.py:scaled", "--init",
               "my_ops.py:broken_model", source, "-o", "out.xyz", cwd=ops)
    assert done.returncode == 1 and not (ops / "out.xyz").exists()
    assert (f"wfl: error: --init {ops / 'my_ops.py'}:broken_model failed: ValueError: too "
            f"many atoms: 0, {ops / 'helper.py'}:6") in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
