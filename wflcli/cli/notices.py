"""Lines on stderr while a command runs: notices of events, and one-line warnings for
results that are valid but probably not what was meant (the command still succeeds):
``wfl VERB: warning: ...``. While a progress line is drawn, they are printed above it
through its console, so no line starts on the spinner's."""

from __future__ import annotations

import contextlib

import click

_shown_on = []  # the console of the progress line being drawn, if any


def say(text: str) -> None:
    """One line on stderr, above the progress line when one is drawn (any thread)."""
    if _shown_on:
        _shown_on[-1].print(text, highlight=False, markup=False, soft_wrap=True)
    else:
        click.echo(text, err=True)


def warn(verb: str, text: str) -> None:
    say(f"wfl {verb}: warning: {text}")


@contextlib.contextmanager
def shown_on(console):
    """While the block runs, notices go through ``console`` (a live display's)."""
    _shown_on.append(console)
    try:
        yield
    finally:
        _shown_on.remove(console)
