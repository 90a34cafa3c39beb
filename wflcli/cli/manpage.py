"""Man pages (roff) written from the click definitions, so they never drift from --help."""

from __future__ import annotations

import datetime
import inspect
import re

import click

from wflcli import __version__


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
    return "\n".join(lines) + "\n"


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
