"""Every example in every --help (and so in every man page, which is made from the help)
is a command line that wfl accepts: each ``wfl ...`` stage of it resolves to a verb whose
options and values click accepts, with global options before the verb."""

from __future__ import annotations

import re
import shlex
import warnings

import click
import pytest

from wflcli.cli.main import cli

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
