"""Time for the I/O shell: the real clock, and a fake one that tests move by hand.

The pure core never reads either; the shell reads one and passes ``now`` down.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the shell needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def sleep_until(self, moment: datetime) -> None:
        """Block until ``moment`` (a fake clock jumps there)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime) -> None:
        """Sleep until ``moment`` (returns at once if it has passed)."""
        delay = (moment - self.now()).total_seconds()
        if delay > 0:
            time.sleep(delay)


class FakeClock:
    """A clock that only moves when told to; waits and backoffs complete instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The fake current time."""
        with self._lock:
            return self._now

    def sleep_until(self, moment: datetime) -> None:
        """Jump to ``moment`` if it is in the future."""
        with self._lock:
            self._now = max(self._now, moment)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        """What a handler calls to 'take' ``seconds`` of fake time."""
        self.advance(seconds)
