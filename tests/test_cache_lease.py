"""The cache's lookups share a read transaction for a moment (store/lease.py): another
process that writes to the same store is never held off for long by it, and what it
wrote is found once that moment is over."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from wflcli.store.cache import ResultCache

# another wfl process's cache: one result put and committed, with a short busy timeout
_OTHER = """
import sys
import threading
from pathlib import Path
from wflcli.store.cache import ResultCache
cache = ResultCache(Path(sys.argv[1]))
cache.put([(b"k" * 32, "calc", "annotation", b"payload")])
cache.close()
"""


def test_a_run_that_looked_up_and_went_quiet_does_not_hold_off_another_writer(tmp_path):
    cache = ResultCache(tmp_path / "store.sqlite")
    try:
        assert cache.get(b"k" * 32) is None  # a lookup: its read transaction is open now
        other = subprocess.run([sys.executable, "-c", _OTHER, str(tmp_path / "store.sqlite")],
                               env=dict(os.environ, WFLCLI_BUSY_TIMEOUT="10"),
                               capture_output=True, text=True, timeout=60)
        assert other.returncode == 0 and other.stderr == ""  # committed: never "locked"
        # its commit waited for this process's read transaction to end: a new one sees it
        assert cache.get(b"k" * 32) == ("annotation", b"payload")
    finally:
        cache.close()


def test_lookups_and_this_processes_commits_take_turns(tmp_path):
    cache = ResultCache(tmp_path / "store.sqlite")
    keys = [bytes([i]) * 32 for i in range(200)]
    try:
        for key in keys:
            assert cache.get(key) is None
            cache.put([(key, "calc", "annotation", key)], then=lambda: None)  # commits now
        cache.flush()
        assert cache.get_many(keys) == {key: ("annotation", key) for key in keys}
    finally:
        cache.close()


def test_each_quiet_spell_ends_its_read_transaction_not_only_the_first(tmp_path):
    """The watching thread sleeps once the transaction it watched has ended, and wakes for
    the next one a lookup opens."""
    store = tmp_path / "store.sqlite"
    cache = ResultCache(store)
    try:
        for round in range(3):
            key = bytes([round]) * 32
            assert cache.get(key) is None  # opens a read transaction, then nothing for a while
            other = subprocess.run([sys.executable, "-c", _OTHER.replace('b"k" * 32', repr(key)),
                                    str(store)],
                                   env=dict(os.environ, WFLCLI_BUSY_TIMEOUT="10"),
                                   capture_output=True, text=True, timeout=60)
            assert other.returncode == 0 and other.stderr == ""
            assert cache.get(key) == ("annotation", b"payload")
    finally:
        cache.close()


class _ClosedJustBeforeTheClear(threading.Event):
    """The watcher's wake-up event, with ``close`` landing at the worst moment: just as the
    watcher, finding no transaction open, is about to go back to sleep."""

    def __init__(self, lease):
        super().__init__()
        self.lease = lease
        self.raced = False

    def clear(self):
        if not self.raced and self.lease._since is None:
            self.raced = True
            self.lease._closed.set()  # what close() does before it joins the watcher
            self.set()
        super().clear()


def test_closing_as_the_watcher_goes_to_sleep_still_ends_it(tmp_path):
    cache = ResultCache(tmp_path / "store.sqlite")
    lease = cache._lease
    lease._opened = _ClosedJustBeforeTheClear(lease)
    assert cache.get(b"k" * 32) is None  # a transaction, and the watcher that ends it
    with cache._lock:
        lease.end()  # ended before the watcher looked (by a commit of this process)
    watcher = lease._watcher
    watcher.join(timeout=5)  # it finds none open, rests, and finds closing under way
    assert lease._opened.raced and not watcher.is_alive()
    cache.close()
