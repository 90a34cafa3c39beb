"""Reading the input on a thread, so results can be written while the input is slow.

The main loop asks for the next config with a time limit; when none has arrived, it
sends off the partial chunk it holds and writes whatever results are ready, which is
what lets the first results of a pipeline appear before its input has ended.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable

END = object()
STALLED = object()


class Feed:
    """Pulls items from an iterable on a daemon thread, a bounded number ahead of the
    consumer, and passes on any exception the iterable raises."""

    def __init__(self, items: Iterable, ahead: int = 256):
        self._queue: queue.Queue = queue.Queue(maxsize=ahead)
        self._thread = threading.Thread(target=self._pump, args=(items,), daemon=True,
                                        name="wfl-input")
        self._thread.start()

    def _pump(self, items: Iterable) -> None:
        try:
            for item in items:
                self._queue.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put(exc)
        else:
            self._queue.put(END)

    def get(self, timeout: float | None):
        """The next item, END, or STALLED when nothing arrived within ``timeout`` seconds."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return STALLED
        if isinstance(item, BaseException):
            raise item
        return item
