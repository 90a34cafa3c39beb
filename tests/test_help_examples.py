"""Every example in every --help (and so in every man page, which is made from the help)
is a command line that wfl accepts: each ``wfl ...`` stage of it resolves to a verb whose
options and values click accepts, with global options before the verb; and each is run,
with the README's blocks not marked runnable, in a folder of its own with its inputs
made (tests/helpers_examples.py), a system called ``cluster`` on the local scheduler."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import warnings
from pathlib import Path

import click
import pytest

from wflcli.cli.main import cli
from helpers_wfl import PROGRAM

_SHELL = {"|", ">", "<", "&&", ">>", "2>"}


def _examples():
    context = click.Context(cli, info_name="wfl")
    found = []

    def visit(command, path):
        text = (command.help or "").replace("\\\n", " ")
        for block in re.split(r"\n\s*\n", text):
            if not block.lstrip().startswith("\b"):
                continue  # examples live in verbatim blocks
            for line in block.splitlines()[1:]:
                line = line.split("  #")[0].strip()
                if re.match(r"(eval \"\$\()?wfl |\S.*\| *wfl ", line):
                    found.append((" ".join(path), line))
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                visit(command.get_command(context, name), [*path, name])

    visit(cli, ["wfl"])
    return found


EXAMPLES = _examples()


def _stages(line: str) -> list[list[str]]:
    """The ``wfl`` commands of a shell line, each as its argument list."""
    line = re.sub(r'^eval "\$\((.*)\)"$', r"\1", line)
    words = shlex.split(line.replace("|", " | ").replace("&&", " && "))
    stages, current = [], None
    for word in words:
        if word in _SHELL:
            current = None
        elif word.startswith(">"):
            continue
        elif current is None:
            current = [] if word == "wfl" else None
            if current is not None:
                stages.append(current)
        else:
            current.append(word)
    return stages


def test_there_are_examples_of_every_verb():
    verbs = {where for where, _ in EXAMPLES}
    assert {"wfl calc", "wfl md", "wfl remote ls"} <= verbs


@pytest.mark.parametrize("where, line", EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_help_example_is_a_valid_command_line(where, line, tmp_path, monkeypatch):
    stages = _stages(line)
    assert stages, line
    monkeypatch.chdir(tmp_path)  # where the files an example names exist (empty)
    for word in (word for args in stages for word in args):
        if re.fullmatch(r"[\w-]+\.[A-Za-z]\w*", word):
            (tmp_path / word).touch()
    for args in stages:
        command = cli.make_context("wfl", list(args), resilient_parsing=False)
        while isinstance(command.command, click.Group) and _unparsed(command):
            name, sub, rest = command.command.resolve_command(command, _unparsed(command))
            # parses every option and argument of the verb, as a run would, then stops
            command = sub.make_context(name, rest, parent=command)


def _unparsed(context: click.Context) -> list[str]:
    """What a group left for its subcommand (click 8 keeps the verb apart)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*context.protected_args, *context.args]


# --- every example run, in a folder of its own with its inputs made ------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"(<!-- runnable -->\n)?```sh\n(.*?)```", re.DOTALL)
# README blocks not marked runnable (test_readme.py runs those) are run here
README_EXAMPLES = [("README block %d" % number, block) for number, (marked, block)
                   in enumerate(_BLOCK.findall(README.read_text()), 1) if not marked]

CANNOT_RUN = {  # what no test can run on these machines, and why
    "--buildcell": "AIRSS buildcell is packaged on no registry these machines reach",
    "vasp:": "VASP is licensed software, not installed here",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The inputs that take a fit or a run, made once (tests/helpers_examples.py)."""
    from helpers_examples import build_library

    folder = tmp_path_factory.mktemp("examples-library")
    home = folder / "home"
    home.mkdir()
    (home / "config.toml").write_text(_cluster(folder))
    build_library(folder, PROGRAM, _environment(folder, home))
    return folder


def _cluster(library: Path) -> str:
    """'cluster', as the examples call it: the local scheduler (no SSH needed)."""
    from helpers_remote import system_toml

    return system_toml("cluster", "local", library / "runs", ssh=False,
                       extra="[systems.cluster.partitions.main]\ncores = 64\n"
                             'time = "24:00:00"\n')


def _environment(folder: Path, home: Path) -> dict:
    return dict(os.environ, HOME=str(folder), WFLCLI_HOME=str(home),
                PATH=f"{Path(PROGRAM).parent}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.slow
@pytest.mark.parametrize("where, line", EXAMPLES + README_EXAMPLES,
                         ids=[w for w, _ in EXAMPLES + README_EXAMPLES])
def test_example_runs(where, line, tmp_path, library):
    from helpers_examples import make_input

    for needle, reason in CANNOT_RUN.items():
        if needle in line:
            pytest.skip(reason)
    if "mace:" in line or "fit-mace" in line:
        pytest.importorskip("mace", reason="mace-torch is the mace extra; CI installs it")
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(_cluster(library))
    shutil.copy(library / "home" / "store.sqlite", home)  # task records 1 to 13
    for folder in (".local/share/bash-completion/completions", ".config/fish/completions"):
        (tmp_path / folder).mkdir(parents=True)
    line = line.replace("/home/me/", f"{tmp_path}/")  # the user's home in the example
    written = r"-o|>|--train|--rest" + (r"|--test" if "split" in line else "")  # else input
    outputs = set(re.findall(rf"(?:{written}) ?'?([\w.{{}}-]+)", line))
    names = set(re.findall(r"[\w./-]+\.(?:xyz(?:\.gz)?|traj|xml|model|smi|py|yaml)\b", line))
    for word in names - outputs | ({"train.xyz", "test.xyz"} if "*.xyz" in line else set()):
        # mace_run_train needs a batch (10) of training configs after the validation part
        relative = word if not os.path.isabs(word) else Path(word).name
        assert make_input(relative, tmp_path, library, 24 if "fit-mace" in line else 8)
    for folder in re.findall(r"--stage (\S+)", line):  # a folder of files to take along
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "Cu.upf").write_text("a pseudopotential\n")
    shell = ["bash", "-euo", "pipefail", "-c"]
    if "completion zsh" in line:  # as in a ~/.zshrc: completion is set up first
        shell, line = ["zsh", "-c"], f"autoload -U compinit; compinit -u; {line}"
    done = subprocess.run([*shell, line], cwd=tmp_path, env=_environment(tmp_path, home),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{where}: {line}\n{done.stderr[-3000:]}"
