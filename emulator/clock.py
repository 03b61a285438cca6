"""The emulator's time source: the real clock, or a manual one that tests move by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: 2026-03-02 09:00:00 UTC: a working day inside the demo fixtures' open fiscal year.
DEFAULT_MANUAL_START = 1_772_442_000.0


class Clock(Protocol):
    """Unix epoch seconds, and a way to wait (a manual clock just moves forward)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to: ``advance()``, ``set()``, or ``sleep()`` (which advances).

    Pass ``clock.now`` and ``clock.sleep`` to a client as its clock and sleep, and client and
    emulator share one simulated time: rate-limit windows pass without real waiting.
    """

    def __init__(self, start: float = DEFAULT_MANUAL_START):
        self._now = float(start)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards); returns the new time."""
        with self._lock:
            self._now += max(float(seconds), 0.0)
            return self._now

    def set(self, epoch_seconds: float) -> None:
        with self._lock:
            self._now = float(epoch_seconds)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
