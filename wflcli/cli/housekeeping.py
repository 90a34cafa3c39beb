"""What the commands that list and remove things share: ages, times, and asking first."""

from __future__ import annotations

import datetime
import re

import click

from wflcli.cli.environment import current_environment

from wflcli.errors import ExitStatus, UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str, option: str) -> float:
    """'30d', '12h', '90m', '1w' -> seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text.strip())
    if not match:
        raise UsageError(f"{option}: {text!r} is not an age like 30d, 12h, 90m or 1w")
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_when(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")


def confirm_removal(what: str, yes: bool) -> None:
    """Ask on a terminal; elsewhere removing needs --yes (a script must say so)."""
    if yes:
        return
    if not current_environment().stdin_isatty:
        raise UsageError("not removing without --yes when not interactive")
    if not click.confirm(f"remove {what}?", err=True):  # declined: a choice, not Ctrl-C
        click.echo("wfl: nothing removed", err=True)
        raise click.exceptions.Exit(ExitStatus.ERROR)
