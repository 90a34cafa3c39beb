"""Man pages (roff) written from the click definitions, so they never drift from --help."""

from __future__ import annotations

import datetime
import inspect
import re

import click

from wflcli import __version__
from wflcli.errors import ExitStatus


def _roff(text: str) -> str:
    """Escape text for roff: backslashes, leading dots and quotes, hyphens in options."""
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line
                     for line in text.splitlines())


def _paragraphs(help_text: str) -> list[str]:
    """Help text split as click shows it: \\b marks a block kept verbatim."""
    blocks = re.split(r"\n\s*\n", inspect.cleandoc(help_text))
    out = []
    for block in blocks:
        if block.startswith("\b"):
            out.append(".nf\n" + _roff(block[1:].strip("\n")) + "\n.fi")
        else:
            out.append(_roff(" ".join(block.split())))
    return out


def render(context: click.Context, path: list[str], date: str | None = None) -> str:
    """The man page of the command of ``context``, invoked as ``path`` (["wfl", "calc"])."""
    command = context.command
    name = "-".join(path)
    usage = " ".join(command.collect_usage_pieces(context))
    summary = command.get_short_help_str(limit=80)
    lines = [f'.TH "{name.upper()}" "1" "{date or datetime.date.today()}" '
             f'"wflcli {__version__}" "wflcli manual"',
             ".SH NAME", f"{_roff(name)} \\- {_roff(summary)}",
             ".SH SYNOPSIS", f"\\fB{_roff(' '.join(path))}\\fR {_roff(usage)}",
             ".SH DESCRIPTION"]
    for paragraph in _paragraphs(command.help or ""):
        lines += [paragraph, ".PP"]
    options = [p for p in command.get_params(context) if isinstance(p, click.Option)]
    if options:
        lines.append(".SH OPTIONS")
        for option in options:
            record = option.get_help_record(context)
            if record:
                lines += [".TP", f"\\fB{_roff(record[0])}\\fR", _roff(record[1])]
    if isinstance(command, click.Group):
        lines.append(".SH COMMANDS")
        for sub in command.list_commands(context):
            child = command.get_command(context, sub)
            lines += [".TP", f"\\fB{_roff(sub)}\\fR", _roff(child.get_short_help_str(80)),
                      f"See \\fB{_roff('-'.join(path + [sub]))}\\fR(1)."]
    lines += _exit_status() + _environment(context) + _files() + _see_also(context, path)
    return "\n".join(lines) + "\n"


_EXIT_MEANINGS = {ExitStatus.OK: "done", ExitStatus.ERROR: "an error (bad input names file "
                  "and line)", ExitStatus.USAGE: "a usage error (options or arguments)",
                  ExitStatus.SOME_FAILED: "finished, but some configs failed (each carries "
                  "info['wfl_error'])", ExitStatus.INTERRUPTED: "interrupted (Ctrl-C)",
                  ExitStatus.TERMINATED: "terminated (SIGTERM)"}

# read by wflcli whatever the command (the options' own variables are listed from click)
_VARIABLES = {"WFLCLI_HOME": "the folder of the store and the user's config.toml "
              "(default ~/.wflcli)",
              "WFLCLI_BUSY_TIMEOUT": "seconds to wait for another process's lock on the "
              "store (default 60)"}


def _exit_status() -> list[str]:
    lines = [".SH EXIT STATUS"]
    for status, meaning in _EXIT_MEANINGS.items():
        lines += [".TP", f"\\fB{int(status)}\\fR", _roff(meaning)]
    return lines


def _environment(context: click.Context) -> list[str]:
    variables = {}
    for ctx in (context.find_root(), context):
        for param in ctx.command.get_params(ctx):
            envvar = getattr(param, "envvar", None)
            if isinstance(envvar, str):
                variables[envvar] = f"the default of {max(param.opts, key=len)}"
    variables.update(_VARIABLES)
    lines = [".SH ENVIRONMENT"]
    for name, meaning in variables.items():
        lines += [".TP", f"\\fB{_roff(name)}\\fR", _roff(meaning)]
    return lines


def _files() -> list[str]:
    return [".SH FILES", ".TP", "\\fB~/.wflcli/store.sqlite\\fR",
            _roff("jobs and the per-config result cache (wfl cache, wfl remote)"),
            ".TP", "\\fB~/.wflcli/config.toml\\fR, \\fB.wflcli/config.toml\\fR",
            _roff("remote systems: the user's, and the project's (the nearest up from the "
                  "working folder), which takes precedence")]


def _see_also(context: click.Context, path: list[str]) -> list[str]:
    """wfl's page lists the verbs', a verb's names wfl's, a subcommand's names its parent's
    and its siblings'."""
    if len(path) == 1:
        return [".SH SEE ALSO", _roff(", ".join(
            f"{'-'.join(path + [sub])}(1)" for sub in context.command.list_commands(context)))]
    if len(path) == 2:
        return [".SH SEE ALSO", "wfl(1)"]
    parent = context.parent
    siblings = [sub for sub in parent.command.list_commands(parent) if sub != path[-1]]
    return [".SH SEE ALSO", _roff(", ".join([f"{'-'.join(path[:-1])}(1)"] + [
        f"{'-'.join(path[:-1] + [sub])}(1)" for sub in siblings]))]


def all_pages(root: click.Group, date: str | None = None) -> dict[str, str]:
    """{file name: page} for the root command and every command below it."""
    pages = {}

    def visit(context, path):
        pages[f"{'-'.join(path)}.1"] = render(context, path, date)
        command = context.command
        if isinstance(command, click.Group):
            for sub in command.list_commands(context):
                child = command.get_command(context, sub)
                visit(click.Context(child, info_name=sub, parent=context), path + [sub])

    # contexts as the command line builds them, so settings such as -h are inherited
    visit(click.Context(root, info_name="wfl", **root.context_settings), ["wfl"])
    return pages
