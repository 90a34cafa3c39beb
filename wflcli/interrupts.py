"""Ctrl-C and SIGTERM held back while the main thread is inside the cache (or starts
workers), and taken by an event loop itself while one runs.

Python raises a signal's exception wherever the main thread is at that moment. Raised
inside the ``with`` of a ``threading.Condition`` (an Event's wait, a Queue's put or join),
it can leave that condition's lock taken: the exception lands after ``__enter__`` took it
and before the block that gives it back begins. The cache's writer thread then waits for
that lock for ever, and so does the flush that keeps the finished results: ``wfl`` hung
after SIGTERM instead of exiting (seen in CI, and in a loop of in-process kills). So the
cache's methods are ``shielded``: a signal that arrives on the main thread while one runs
is raised as it returns, microseconds later (or after the commit a flush waits for).

An event loop (the SSH transfers of ``--remote``) takes the signals itself while it runs
(``run_async``): asyncio keeps only KeyboardInterrupt and SystemExit raised inside its
callbacks, and logs any other exception (SIGTERM's) as the callback's error, with a
traceback, and runs on.
"""

from __future__ import annotations

import functools
import signal
import threading

_depth = 0  # shielded calls under way on the main thread
_held: BaseException | None = None  # what a signal raised meanwhile


def deliver(exception: BaseException) -> None:
    """For a signal handler (Python runs them on the main thread): raise ``exception``
    now, or as the shielded call under way returns."""
    global _held
    if not _depth:
        raise exception
    if _held is None:
        _held = exception


def shielded(method):
    """``method`` runs whole before a signal's exception is raised on this thread."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        global _depth, _held
        if threading.current_thread() is not threading.main_thread():
            return method(*args, **kwargs)  # signal handlers never run here
        _depth += 1
        try:
            return method(*args, **kwargs)
        finally:
            _depth -= 1
            if not _depth and _held is not None:
                exception, _held = _held, None
                raise exception

    return run


def run_async(coroutine):
    """``asyncio.run(coroutine)``, where Ctrl-C and SIGTERM cancel the coroutine (its
    ``finally`` blocks run, connections close) and then raise here what this process's
    handler for them raises (``deliver``'s exception); a signal ignored stays ignored."""
    import asyncio

    stopped: list[BaseException] = []

    async def cancelled_by_signals():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        on_main = threading.current_thread() is threading.main_thread()  # else none run
        handlers = {number: handler for number in (signal.SIGINT, signal.SIGTERM)
                    if on_main and callable(handler := signal.getsignal(number))}

        def stop(number: int) -> None:
            try:
                handlers[number](number, None)
            except BaseException as exc:  # what the handler raises is what to raise
                if not stopped:
                    stopped.append(exc)
                    task.cancel()

        for number in handlers:
            loop.add_signal_handler(number, stop, number)
        try:
            return await coroutine
        finally:
            for number, handler in handlers.items():
                loop.remove_signal_handler(number)
                signal.signal(number, handler)

    try:
        result = asyncio.run(cancelled_by_signals())
    except asyncio.CancelledError:
        if not stopped:
            raise
    if stopped:
        raise stopped[0]
    return result
