"""A progress line on stderr, only when stderr is a terminal (never in pipes or logs): configs
done of the total (when the inputs can be counted), the rate, the time left, the steps of
dynamics and relaxations in flight; and one closing line that stays on the screen."""

from __future__ import annotations

import contextlib
import sys
import threading
import time


@contextlib.contextmanager
def progress_reporter(verb: str, enabled: bool, sources=()):
    """Yield a callback taking the run's Summary, or None when nothing should be shown.
    ``sources``: the input files, counted on a thread so that a total appears."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)

    from wflcli.exec import steps

    steps.share()
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn(f"wfl {verb}"), BarColumn(bar_width=24),
               MofNCompleteColumn(), TextColumn("configs{task.fields[failed]}"),
               *_live_columns(), TimeElapsedColumn(), TimeRemainingColumn())
    started = time.monotonic()
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task(verb, total=None, failed="")
        _count_in_background(sources, lambda total: progress.update(bar, total=total))

        def update(summary) -> None:
            failed = f", {len(summary.failed)} failed" if summary.failed else ""
            progress.update(bar, completed=summary.inputs, failed=failed)
            update.summary = summary

        update.summary = None
        yield update
    if update.summary is not None:
        console.print(closing_line(verb, update.summary, time.monotonic() - started),
                      highlight=False)


def closing_line(verb: str, summary, seconds: float) -> str:
    """``wfl calc: 2410 configs (12 from cache, 3 failed) in 39.1 s, 61.6 configs/s``."""
    details = [f"{summary.cached} from cache"] if summary.cached else []
    if summary.failed:
        details.append(f"{len(summary.failed)} failed")
    rate = summary.inputs / seconds if seconds > 0 else 0.0
    return (f"wfl {verb}: {summary.inputs} configs"
            + (f" ({', '.join(details)})" if details else "")
            + f" in {seconds:.1f} s, {rate:.3g} configs/s")


def _count_in_background(sources, found) -> None:
    from wflcli.io.framecount import count_frames

    def count() -> None:
        total = count_frames(sources) if sources else None
        if total is not None:
            found(total)

    threading.Thread(target=count, daemon=True, name="wfl-count").start()


def _live_columns():
    """Two columns rich has not: configs per second, and steps in flight (rich is imported
    here, not with the module: `wfl VERB --help` must stay light)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    from wflcli.exec import steps

    class Rate(ProgressColumn):
        def render(self, task):
            elapsed = task.elapsed or 0.0
            return Text(f"{task.completed / elapsed:.3g}/s"
                        if elapsed > 0.5 and task.completed else "")

    class Steps(ProgressColumn):
        """Steps of MD and optimizers done in every worker (they show before configs do)."""

        def render(self, task):
            done = steps.done()
            return Text(f"{done} steps" if done else "")

    return Rate(), Steps()
