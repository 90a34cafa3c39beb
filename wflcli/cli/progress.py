"""A progress line on stderr, only when stderr is a terminal (never in pipes or logs)."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress_reporter(verb: str, enabled: bool):
    """Yield a callback taking the run's Summary, or None when nothing should be shown."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(f"wfl {verb}"),
               TextColumn("{task.completed} configs, {task.fields[failed]} failed"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        bar = progress.add_task(verb, total=None, failed=0)

        def update(summary) -> None:
            progress.update(bar, completed=summary.inputs, failed=len(summary.failed))

        yield update
