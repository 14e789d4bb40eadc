"""Requests go before background work.

Python runs one thread at a time, and a request thread that lets go of the GIL (every SQLite call, every
socket write) waits up to a switch interval (5 ms) to get it back while a background thread computes. A
create brings about eight times its own CPU of background work (its task, its first automated backup), so
a client creating instances one after the other met that wait at nearly every step. Background work that
is about to start waits instead, while requests are being answered and for a moment after the last one,
but never longer than `LONGEST`: under a stream of requests it still goes, at its own pace."""

import threading
import time

# How long without a request counts as a pause in a client's stream (a client signs and sends its next
# request within a millisecond of the last answer).
QUIET = 0.002
LONGEST = 0.1


class Foreground:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._serving = 0
        self._last = 0.0

    def __enter__(self) -> None:
        with self._lock:
            self._serving += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._serving -= 1
            self._last = time.monotonic()

    def busy(self) -> bool:
        return bool(self._serving) or time.monotonic() - self._last < QUIET

    def wait_for_a_pause(self) -> None:
        """Until no request is being answered and none was for QUIET, or LONGEST has passed."""
        deadline = time.monotonic() + LONGEST
        while self.busy() and time.monotonic() < deadline:
            time.sleep(QUIET)
