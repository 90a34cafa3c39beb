"""Helpers for the verbs that need their whole input before they can answer (select-cur,
select-fps, split, count, ...): read everything, write configs atomically."""

from __future__ import annotations

import sys

from wflcli.cli.stdout import data_stdout
from wflcli.errors import ReaderGone


def read_all(files) -> list:
    from wflcli.io.reader import read_configs

    return list(read_configs(files or ["-"], sys.stdin.buffer))


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
