"""Helpers for the verbs that need their whole input before they can answer (select-cur,
select-fps, split, count, ...): read everything (leaving out configs that failed
upstream), write configs atomically."""

from __future__ import annotations

import sys

import click

from wflcli.cli.stdout import data_stdout
from wflcli.errors import ReaderGone


def read_all(files) -> list:
    from wflcli.io.reader import read_configs

    return list(read_configs(files or ["-"], sys.stdin.buffer))


def read_valid(files, verb: str, quiet: bool = False) -> list:
    """The whole input without the configs that failed upstream (they carry
    ``info['wfl_error']``; nothing may compute on them), saying on stderr how many."""
    from wflcli.verbs.upstream import without_failed

    configs, left_out = without_failed(read_all(files))
    if not quiet:
        say_left_out(verb, left_out)
    return configs


def say_left_out(verb: str, left_out: int) -> None:
    if left_out:
        click.echo(f"wfl {verb}: left out {left_out} config{'s' if left_out != 1 else ''} "
                   "that failed upstream", err=True)


def write_configs(configs, output: str | None) -> None:
    """Write configs as extxyz to ``output`` (atomically) or stdout."""
    from wflcli.io.output import open_output
    from wflcli.io.writer import format_config

    try:
        with data_stdout() as stdout, open_output(output, stdout) as sink:
            for atoms in configs:
                sink.write(format_config(atoms))
    except BrokenPipeError:
        raise ReaderGone() from None


def write_text(text: str) -> None:
    """Plain text (tables, TSV, JSON) to stdout."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise ReaderGone() from None
