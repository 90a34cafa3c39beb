"""Ctrl-C and SIGTERM never leave the cache unable to keep what was finished.

Python raises a signal's exception wherever the main thread is. Landing just after a
``with`` took a threading lock, and before its block began, it left that lock taken, and
the cache's writer thread waited for it for ever: ``wfl`` hung after SIGTERM (seen in CI).
The tests make a signal land at exactly that moment, in a child process (so a hang fails
the test by its timeout instead of hanging the run): the lock of the event that lookups
wait on, and the lock of the writer's queue.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from helpers_wfl import wfl_argv

from wflcli import interrupts

_CHILD = """
import signal, sys, threading
from pathlib import Path
from wflcli import interrupts
from wflcli.store.cache import ResultCache

class Stop(BaseException):
    pass

class SignalledOnce:
    '''A lock that sends this process SIGTERM the first time the main thread takes it:
    the signal's exception then lands between taking it and the block that gives it back.'''
    def __init__(self):
        self._lock = threading.Lock()
        self.fired = False
    def acquire(self, blocking=True, timeout=-1):
        got = self._lock.acquire(blocking, timeout)
        if got and not self.fired and threading.current_thread() is threading.main_thread():
            self.fired = True
            signal.raise_signal(signal.SIGTERM)
        return got
    def release(self):
        self._lock.release()
    def locked(self):
        return self._lock.locked()
    __enter__ = acquire
    def __exit__(self, *exc):
        self.release()

signal.signal(signal.SIGTERM, lambda *_: interrupts.deliver(Stop()))
cache = ResultCache(Path(sys.argv[1]))
keys = [bytes([i]) * 32 for i in range(50)]
lock = SignalledOnce()
if sys.argv[2] == "lookup":
    cache.put([(key, "calc", "annotation", key) for key in keys[:25]], then=lambda: None)
    cache.flush()  # the writer thread runs, and lookups see its results
    cache._open._cond = threading.Condition(lock)
    call = lambda: cache.get_many(keys)
else:  # the queue's lock, before the writer's thread starts waiting on it
    queue = cache._writer._queue
    queue.mutex = lock
    queue.not_empty = threading.Condition(lock)
    queue.not_full = threading.Condition(lock)
    queue.all_tasks_done = threading.Condition(lock)
    call = lambda: cache.put([(key, "calc", "annotation", key) for key in keys[:25]],
                             then=lambda: None)
try:
    call()
except Stop:
    print("stopped", lock.fired)
cache.put([(key, "calc", "annotation", key) for key in keys[25:]])
cache.flush()  # what a run does after Ctrl-C: keep what was finished
cache.close()
again = ResultCache(Path(sys.argv[1]))
print("kept", len(again.get_many(keys)))
again.close()
"""


@pytest.mark.parametrize("where", ["lookup", "hand-over"])
def test_a_signal_inside_a_cache_call_waits_for_it_and_the_results_are_kept(tmp_path, where):
    done = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "store.sqlite"), where],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["stopped True", "kept 50", ""], done.stderr


def test_a_shielded_call_runs_whole_and_its_signal_is_raised_as_it_returns():
    steps = []

    @interrupts.shielded
    def inner():
        interrupts.deliver(KeyboardInterrupt())  # as a signal handler would, mid-call
        steps.append("inner finished")

    @interrupts.shielded
    def outer():
        inner()
        steps.append("outer finished")  # nested: still held until the outermost returns
        return "value"

    with pytest.raises(KeyboardInterrupt):
        outer()
    assert steps == ["inner finished", "outer finished"]
    with pytest.raises(KeyboardInterrupt):  # nothing under way: raised at once
        interrupts.deliver(KeyboardInterrupt())
    assert outer.__name__ == "outer"


def test_the_first_of_two_signals_is_the_one_raised():
    @interrupts.shielded
    def twice():
        interrupts.deliver(KeyboardInterrupt())
        interrupts.deliver(SystemExit(143))

    with pytest.raises(KeyboardInterrupt):
        twice()
    assert interrupts.shielded(lambda: "after")() == "after"  # nothing left held


def test_other_threads_are_not_shielded_signals_never_run_there():
    seen = []

    @interrupts.shielded
    def on_a_thread():
        try:
            interrupts.deliver(KeyboardInterrupt())
        except KeyboardInterrupt:
            seen.append("raised at once")

    thread = threading.Thread(target=on_a_thread)
    thread.start()
    thread.join()
    assert seen == ["raised at once"]


def test_ctrl_c_ignored_from_the_start_stays_ignored(tmp_path):
    """`nohup wfl ... &` and the shell's background jobs start with SIGINT ignored."""
    script = tmp_path / "slow.py"
    script.write_text("import time\ndef slow(atoms):\n    time.sleep(0.05)\n    return atoms\n")
    configs = tmp_path / "in.xyz"
    configs.write_text("1\nProperties=species:S:1:pos:R:3 pbc=\"F F F\"\nH 0 0 0\n" * 40)
    child = subprocess.Popen(
        wfl_argv("--no-cache", "map", f"{script}:slow", str(configs)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    first = child.stdout.readline()  # running: past start-up and its handlers
    child.send_signal(signal.SIGINT)
    rest, errors = child.communicate(timeout=60)
    assert child.returncode == 0, errors
    assert (first + rest).count(b"H ") == 40


_ASYNC = """
import asyncio, os, signal
from wflcli import interrupts
from wflcli.cli import main

signal.signal(signal.SIGTERM, main._terminate)

async def work():
    def busy():  # a callback of the loop's (asyncssh's reading is one) when SIGTERM comes
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(10 ** 6))
    asyncio.get_running_loop().call_soon(busy)
    try:
        await asyncio.sleep(20)
        print("ran on")
    finally:
        print("cleaned up")

try:
    interrupts.run_async(work())
except main.Terminated:
    print("terminated")
"""


def test_sigterm_inside_an_event_loop_callback_cancels_the_coroutine_and_ends_it():
    done = subprocess.run([sys.executable, "-c", _ASYNC], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "cleaned up\nterminated\n"
    assert "Traceback" not in done.stderr
