"""One run of the suite: the wave on a fresh fleet, a fault struck in flight, what came out."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

from tests.chaos.faults import Fault
from tests.chaos.harness import (
    ChaosFleet,
    Leftovers,
    Wave,
    handler_calls,
    outcome,
    settled,
)
from tests.chaos.histories import Shape
from tests.chaos.supervisor import Death

STRIKE_AFTER = 3.0
"""Seconds after the last execution started when the fault strikes (the wave is in full flight)."""
WAVE_TIMEOUT = 200.0
"""A wave not finished by then failed to recover (the lease, 120 s, is the backstop)."""


@dataclass(frozen=True)
class Run:
    """What one run produced and how long it took.

    Attributes:
        fault: the fault's name.
        statuses: each execution's final status, by name.
        shapes: each execution's history shape, by name.
        numbering: histories whose event ids are not 1..N.
        leftovers: rows left behind once the wave ended.
        calls: handler calls per idempotency key.
        deaths: every process exit (the suite's kills included).
        handovers: per strike on a worker holding work, seconds until each message it held
            was sent again or consumed (None: not within the run).
        consumed: per such strike, seconds until every one of them was consumed.
        fault_to_done: seconds from the strike until the last execution ended.
        longest_stall: the longest time after the strike with no new history event.
        wave_seconds: from the first start until the last execution ended.
    """

    fault: str
    statuses: dict[str, str]
    shapes: dict[str, Shape]
    numbering: list[str]
    leftovers: Leftovers
    calls: Counter[str]
    deaths: list[Death]
    handovers: list[float | None]
    consumed: list[float | None]
    fault_to_done: float
    longest_stall: float
    wave_seconds: float

    @property
    def duplicate_calls(self) -> int:
        """Handler calls beyond the first of each invocation (at-least-once shows here)."""
        return sum(count - 1 for count in self.calls.values() if count > 1)

    @property
    def unexpected_deaths(self) -> list[Death]:
        """Exits the suite did not cause."""
        return [death for death in self.deaths if not death.expected]


def run_wave(fleet: ChaosFleet, fault: Fault) -> Run:
    """Start the wave on ``fleet``, strike ``fault`` in flight, and collect the outcome."""
    wave = Wave(fleet)
    wave.start()
    try:
        wave.done.wait(STRIKE_AFTER)  # the strike is scheduled, nothing is awaited
        fleet.supervisor.during = fault.name
        struck_at = time.monotonic()
        striking = _Striking(fault, fleet, wave)
        striking.start()
        wave.await_done(WAVE_TIMEOUT)
        striking.finish()
        fleet.supervisor.during = ""
        left = settled(fleet)
    finally:
        wave.stop()
    statuses, shapes, numbering = outcome(fleet, wave)
    finished = wave.finished_at or time.monotonic()
    return Run(
        fault=fault.name,
        statuses=statuses,
        shapes=shapes,
        numbering=numbering,
        leftovers=left,
        calls=handler_calls(fleet.calls),
        deaths=list(fleet.supervisor.deaths),
        handovers=[recovery.handover for recovery in wave.recoveries if recovery.sends],
        consumed=[recovery.consumed for recovery in wave.recoveries if recovery.sends],
        fault_to_done=finished - struck_at,
        longest_stall=wave.longest_stall(struck_at),
        wave_seconds=finished - wave.started_at,
    )


class _Striking(threading.Thread):
    """The fault's strike in a thread; its error is raised again by :meth:`finish`."""

    def __init__(self, fault: Fault, fleet: ChaosFleet, wave: Wave) -> None:
        super().__init__(daemon=True, name=f"strike: {fault.name}")
        self.fault, self.fleet, self.wave = fault, fleet, wave
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fault.strike(self.fleet, self.wave)
        except BaseException as error:  # re-raised in the test's thread
            self.error = error

    def finish(self, timeout: float = 120) -> None:
        """Wait for the fault to be over; raise what it raised."""
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"the fault {self.fault.name!r} did not end within {timeout} s")
        if self.error is not None:
            raise self.error
