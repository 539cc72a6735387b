"""The faults, each struck once the wave is in flight (in a thread of its own).

A strike returns when its fault is over (a service back, a worker thawed); the wave may
finish before that or after.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from engine._store.workers import Held
from tests.chaos.harness import ChaosFleet, Strike, Wave
from tests.chaos.services import await_true

KILL_EVERY = 5.0
"""Seconds between two kill -9 of a worker while the wave runs."""
MAX_KILLS = 6
"""At most this many kills per wave (the run stays within its time budget)."""
REDIS_DOWN = 3.0
BEAT_DOWN = 30.0
FROZEN = 20.0
VICTIM = "worker-a"
"""The worker the kill and freeze strike; worker-b stays up and takes its work over."""


@dataclass(frozen=True)
class Fault:
    """A fault: its name in the report and what it does to the fleet."""

    name: str
    strike: Strike


def nothing(fleet: ChaosFleet, wave: Wave) -> None:
    """The control run: no fault."""


def kill_workers(fleet: ChaosFleet, wave: Wave) -> None:
    """kill -9 worker-a (its pool children too) every 5 s until the wave ends.

    Always the same worker, once it is up again: a worker crash-looping (an OOM kill, a
    bad node) while the rest of the fleet stays up, which must carry its work on.
    """
    watched: set[Held] = set()
    for _ in range(MAX_KILLS):
        fleet.await_up(VICTIM)
        heartbeat, struck_at = fleet.held(VICTIM), time.monotonic()
        fleet.supervisor.kill(VICTIM)
        # What it had received and not acknowledged is in Redis still (the survivor's too,
        # and what earlier kills left there: those are watched already).
        held = [m for m in heartbeat + fleet.unacked() if m not in watched]
        watched.update(held)
        wave.watch(held, struck_at)
        if wave.done.wait(KILL_EVERY):
            return


def flush_redis(fleet: ChaosFleet, wave: Wave) -> None:
    """FLUSHALL on the broker: every queued and unacknowledged message is gone."""
    fleet.redis.flushall()


def restart_redis(fleet: ChaosFleet, wave: Wave) -> None:
    """Shut Redis down, keep it down 3 s, start it again (its append-only file kept)."""
    fleet.redis.restart(down_for=REDIS_DOWN)


def restart_postgres(fleet: ChaosFleet, wave: Wave) -> None:
    """``pg_ctl -m immediate restart``: the store crashes and recovers."""
    fleet.postgres.restart_immediately()


def stop_beat(fleet: ChaosFleet, wave: Wave) -> None:
    """Stop beat for 30 s (the workers' own duty threads must carry on), then start it."""
    fleet.supervisor.hold("beat")
    time.sleep(BEAT_DOWN)  # the outage itself
    fleet.supervisor.start("beat")


def freeze_worker(fleet: ChaosFleet, wave: Wave) -> None:
    """SIGSTOP worker-a for 20 s, SIGCONT it, and wait until it reported back."""
    role = VICTIM
    heartbeat, struck_at = fleet.held(role), time.monotonic()
    fleet.supervisor.send(role, signal.SIGSTOP)
    wave.watch(heartbeat + fleet.unacked(), struck_at)
    try:
        time.sleep(FROZEN)  # the freeze itself
    finally:
        thawed = datetime.now(UTC)
        fleet.supervisor.send(role, signal.SIGCONT)
    # Its late reports (a handler it finished, stale messages) land before the checks.
    await_true(
        lambda: fleet.seen_since(role, thawed) and not fleet.held(role),
        60,
        f"{role} to heartbeat holding nothing after SIGCONT",
    )


CONTROL = Fault("none (control)", nothing)
FAULTS = (
    Fault("kill -9 worker-a every 5 s", kill_workers),
    Fault("Redis FLUSHALL", flush_redis),
    Fault("Redis restart (down 3 s)", restart_redis),
    Fault("PostgreSQL immediate restart", restart_postgres),
    Fault("beat stopped 30 s", stop_beat),
    Fault("a worker frozen 20 s (SIGSTOP)", freeze_worker),
)
