"""A progress line on stderr, only when stderr is a terminal (never in pipes or logs): configs
done of the total (when the inputs can be counted), the rate, the time left, the steps of
dynamics and relaxations in flight, a batch run's tasks; and one closing line that stays on
the screen. Notices printed meanwhile (cli/notices.py) go above the line, not onto it."""

from __future__ import annotations

import contextlib
import threading
import time

from wflcli.cli import notices
from wflcli.cli.environment import current_environment


@contextlib.contextmanager
def progress_reporter(verb: str, enabled: bool, sources=(), tasks=None):
    """Yield a callback taking the run's Summary, or None when nothing should be shown.
    ``sources``: the input files, counted on a thread so that a total appears. ``tasks``:
    a function giving a batch run's task states as a few words."""
    environment = current_environment()
    if not enabled or not environment.stderr_isatty:
        yield None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)

    from wflcli.exec import steps

    steps.share()
    console = environment.console()
    columns = (SpinnerColumn(), TextColumn(f"wfl {verb}"), BarColumn(bar_width=24),
               MofNCompleteColumn(), TextColumn("configs{task.fields[failed]}"),
               *_live_columns(tasks), TimeElapsedColumn(), TimeRemainingColumn())
    started = time.monotonic()
    with Progress(*columns, console=console, transient=True) as progress, \
            notices.shown_on(console):
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


@contextlib.contextmanager
def phases(verb: str, enabled: bool):
    """For a verb that runs one long step after another (a fit): a spinner with the
    current phase and its time; yields ``show(text)``, or a no-op off a terminal."""
    environment = current_environment()
    if not enabled or not environment.stderr_isatty:
        yield lambda text: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = environment.console()
    with Progress(SpinnerColumn(), TextColumn(f"wfl {verb}: {{task.description}}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress, \
            notices.shown_on(console):
        phase = progress.add_task("starting", total=None)
        yield lambda text: progress.update(phase, description=text, refresh=True)


def _count_in_background(sources, found) -> None:
    from wflcli.io.framecount import count_frames

    def count() -> None:
        total = count_frames(sources) if sources else None
        if total is not None:
            found(total)

    threading.Thread(target=count, daemon=True, name="wfl-count").start()


def _live_columns(tasks):
    """Columns rich has not: configs per second, steps in flight, a batch run's tasks (rich
    is imported here, not with the module: `wfl VERB --help` must stay light)."""
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

    class Tasks(ProgressColumn):
        def render(self, task):
            return Text(tasks())

    return (Rate(), Steps(), *((Tasks(),) if tasks else ()))
