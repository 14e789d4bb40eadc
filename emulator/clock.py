"""The one source of the present time, so that windows, retention and timeouts can be tested without waiting."""

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """The host's time, ahead by an offset that an operator may move forward (never back: what the store
    recorded must not come to lie in the future). The offset is kept in the store, so that a restart
    does not take the emulator back in time."""

    def __init__(self, offset: timedelta = timedelta(0)):
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta


class ManualClock(Clock):
    """A clock that moves only when told to: for tests and for replaying time."""

    def __init__(self, start: datetime):
        super().__init__()
        self._now = start

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta
