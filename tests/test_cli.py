"""CLI conventions: --version, --help with examples, lazy imports, missing backends."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from wflcli import __version__
from wflcli.cli.main import COMMANDS

BACKENDS = ("tblite", "rdkit", "quippy", "matplotlib")


def test_version(wfl):
    result = wfl("--version")
    assert result.code == 0 and result.stdout.strip() == f"wflcli {__version__}"


def test_version_json_names_the_backends(wfl):
    result = wfl("--version", "--json")
    data = json.loads(result.stdout)
    assert data["wflcli"] == __version__
    assert data["packages"]["ase"] and data["packages"]["numpy"]
    assert set(data["packages"]) >= {"tblite", "rdkit", "quippy-ase"}


def test_root_help_lists_every_verb(wfl):
    result = wfl("--help")
    assert result.code == 0
    for name in COMMANDS:
        assert f"  {name}" in result.stdout


@pytest.mark.parametrize("verb", sorted(COMMANDS))
def test_every_verb_help_starts_with_an_example(wfl, verb):
    result = wfl(verb, "--help")
    assert result.code == 0
    description = result.stdout.split("Options:")[0]
    assert "Example" in description and f"wfl {verb}" in description.split("Example")[1]


def test_unknown_verb_is_a_usage_error(wfl):
    result = wfl("frobnicate")
    assert result.code == 2 and "No such command" in result.stderr


def test_misspelt_verb_gets_the_nearest_verbs(wfl):
    result = wfl("cal")
    assert result.code == 2 and "Did you mean 'calc' or 'cat'?" in result.stderr


def test_no_verb_prints_the_help_and_is_a_usage_error(wfl):
    result = wfl()
    assert result.code == 2 and "Commands:" in result.stdout


def test_json_without_version_is_a_usage_error(wfl):
    result = wfl("--json")
    assert result.code == 2 and "--json goes with --version" in result.stderr


def test_a_global_option_after_the_verb_suggests_no_verb_option(wfl):
    result = wfl("rattle", "--seed", "3", input="")
    assert result.code == 2 and "--seed is a global option" in result.stderr
    assert "Did you mean" not in result.stderr  # not rattle's --stdev


def test_choices_take_any_case(wfl, cu_file):
    result = wfl("optimize", "--calc", "emt", "--optimizer", "BFGS", "--steps", "2", cu_file)
    assert result.code == 0, result.stderr
    assert wfl("md", "--calc", "emt", "--ensemble", "NVE", "--steps", "1", cu_file).code == 0


def test_short_f_means_a_format_wherever_it_exists(wfl):
    from wflcli.cli.main import cli

    for name in COMMANDS:
        command = cli.get_command(None, name)
        for param in getattr(command, "params", []):
            if "-f" in getattr(param, "opts", ()):
                assert "--format" in param.opts, f"wfl {name}: -f is {param.opts}"


def test_info_takes_files_as_arguments(wfl, cu_file):
    table = wfl("info", "-k", "natoms,formula", cu_file, cu_file).stdout.splitlines()
    assert table[0] == "natoms\tformula" and len(table) == 41
    assert table[1] == "32\tCu32"
    aliased = wfl("info", "-k", "natoms", "-i", cu_file).stdout.splitlines()
    assert aliased == ["natoms"] + ["32"] * 20


def test_bad_global_option_value_is_a_usage_error(wfl):
    result = wfl("--parallel", "0", "calc", "--calc", "emt")
    assert result.code == 2 and "--parallel" in result.stderr


BLOCKER = textwrap.dedent("""
    import sys
    BLOCKED = {blocked!r}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"No module named {{name!r}} (blocked by the test)")

    sys.meta_path.insert(0, Blocker())
    from wflcli.cli.main import run
    code = run({argv!r})
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in {watch!r})
    print("LOADED", loaded, file=sys.stderr)
    sys.exit(code)
""")


def run_without(argv, blocked=BACKENDS, watch=BACKENDS + ("ase",), stdin=None):
    """Run wfl in a fresh interpreter where the optional backends cannot be imported.

    This stands in for a clean virtual environment without them (building one would
    download packages): the imports fail exactly as they would if not installed.
    """
    script = BLOCKER.format(blocked=blocked, argv=argv, watch=watch)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, input=stdin,
                          timeout=60)


@pytest.mark.parametrize("argv", [["--help"], ["calc", "--help"], ["--version", "--json"]])
def test_help_needs_no_backend_and_imports_nothing_heavy(argv):
    result = run_without(argv, watch=BACKENDS + ("ase", "numpy", "asyncio"))
    assert result.returncode == 0, result.stderr
    assert b"LOADED []" in result.stderr  # not even ASE, numpy or asyncio


def test_missing_backend_names_the_extra_to_install(cu_file):
    result = run_without(["calc", "--calc", "tblite", str(cu_file)])
    assert result.returncode == 1
    assert b"pip install 'wflcli[xtb]'" in result.stderr
    assert b"Traceback" not in result.stderr
