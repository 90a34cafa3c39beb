"""The progress line's count of MD and optimizer steps (exec/steps.py), summed over the
worker processes without a lock: exact, and still readable after a worker was killed
mid-count (Ctrl-C kills the workers; a lock it held was never given back, and the
progress line, waiting for it, kept the run from ending)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

from wflcli.exec import steps


def _count(number: int, times: int) -> None:
    steps.count_as_worker(number)
    for _ in range(times):
        steps.add()


def _count_for_ever(number: int) -> None:
    steps.count_as_worker(number)
    while True:
        steps.add(3)


def test_steps_of_every_worker_are_summed_exactly(monkeypatch):
    monkeypatch.setattr(steps, "_counts", None)
    steps.share()
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(number, 20_000)) for number in range(3)]
    for worker in workers:
        worker.start()
    steps.add(5)  # this process counts too
    for worker in workers:
        worker.join(timeout=60)
    assert steps.done() == 3 * 20_000 + 5


def test_a_worker_killed_while_counting_leaves_the_count_readable(monkeypatch):
    monkeypatch.setattr(steps, "_counts", None)
    steps.share()
    context = multiprocessing.get_context("fork")
    victim = context.Process(target=_count_for_ever, args=(0,))
    victim.start()
    while steps.done() < 3_000:  # counting under way
        time.sleep(0.01)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(timeout=10)
    before = steps.done()
    reader = threading.Thread(target=steps.done, daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive()
    after = context.Process(target=_count, args=(0, 100))  # started again in its place
    after.start()
    after.join(timeout=60)
    assert before % 3 == 0 and steps.done() == before + 100
