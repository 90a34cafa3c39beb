"""One-line notices on stderr for results that are valid but probably not what was meant
(the command still succeeds): ``wfl VERB: warning: ...``."""

from __future__ import annotations

import click


def warn(verb: str, text: str) -> None:
    click.echo(f"wfl {verb}: warning: {text}", err=True)
