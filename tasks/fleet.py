"""A worker's part in the fleet: its heartbeat, the duties, and the broker check (ADR 0035).

The worker's main process tells the store every few seconds that it lives and which
messages it holds (Celery's reserved requests: running, or received and waiting for a pool
slot). Should it fall silent (killed, frozen, cut off), whichever worker runs the duties
resends those messages and drops its claims, so recovery takes seconds rather than a lease.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from engine._consumer import TASK_NAMES
from engine._duties import Duties
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.workers import Held, heartbeat, release_unconsumed

log = logging.getLogger("stepline.worker")

_KINDS = {name: kind for kind, name in TASK_NAMES.items() if kind is not MessageKind.TIMER}


def held_messages(requests: Callable[[], list[Any]] | None = None) -> list[Held]:
    """The stepline messages this worker process holds (timers excepted: rows fire them)."""
    held = []
    for request in (requests or _reserved_requests)():
        kind = _KINDS.get(getattr(request, "task_name", "") or "")
        args: Any = getattr(request, "args", None) or ()
        if kind is not None and len(args) == 3:
            held.append(Held(kind, int(args[0]), str(args[1]), int(args[2])))
    return held


def _reserved_requests() -> list[Any]:
    from celery.worker import state

    for _ in range(5):  # the consumer thread may change the set while it is read
        try:
            return list(state.reserved_requests)
        except RuntimeError:
            continue
    return []


class Heartbeat:
    """Tells the store, every ``interval`` seconds, that worker ``name`` lives and holds what.

    ``announce`` writes the worker's whole announcement; it is called again should the
    row be missing (a wiped store). Failures are logged and retried on the next beat.
    """

    def __init__(
        self,
        runtime: Runtime,
        name: str,
        announce: Callable[[], None],
        interval: float,
        held: Callable[[], list[Held]] = held_messages,
    ) -> None:
        self.runtime = runtime
        self.name = name
        self.announce = announce
        self.interval = interval
        self.held = held
        self._healthy_since: float | None = None

    def beat(self) -> None:
        """One heartbeat (never raises)."""
        try:
            if not heartbeat(self.runtime.store.engine, self.name, self.held(), self._now()):
                self.announce()
        except Exception:  # the store is briefly away: beat again next time
            self._healthy_since = None
            log.warning("worker %s could not reach the store for its heartbeat", self.name)
            return
        if self._healthy_since is None:
            self._healthy_since = time.monotonic()

    def healthy_for(self) -> float | None:
        """Seconds since this worker's heartbeats began to succeed (None: failing)."""
        since = self._healthy_since
        return None if since is None else time.monotonic() - since

    def stop(self) -> None:
        """A clean shutdown: the worker holds nothing any more."""
        try:
            heartbeat(self.runtime.store.engine, self.name, [], self._now())
        except Exception:  # nothing lost: its held messages are resent, and dropped as stale
            log.warning("worker %s could not clear its heartbeat", self.name)

    def _now(self) -> Any:
        return self.runtime.clock.now()


class BrokerCanary:
    """Notices a Redis broker that lost its data (FLUSHALL, a restart without persistence).

    A key is kept in the broker; when it is gone, so are the queued messages, and every
    unconsumed message in the store is made due for the relay at once.
    """

    KEY = "stepline:broker-canary"

    def __init__(self, runtime: Runtime, broker_url: str) -> None:
        self.runtime = runtime
        self.broker_url = broker_url
        self._client: Any = None

    @staticmethod
    def applies_to(broker_url: str) -> bool:
        """Only Redis loses queued messages this way (RabbitMQ's durable queues persist)."""
        return broker_url.startswith(("redis://", "rediss://"))

    def check(self) -> int:
        """Resend everything if the broker lost its data; returns how many were made due."""
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.broker_url, socket_timeout=5)
        if not self._client.set(self.KEY, uuid.uuid4().hex, nx=True):
            return 0
        released = release_unconsumed(self.runtime.store.engine, self.runtime.clock.now())
        if released:
            log.warning("the broker lost its messages: %d message(s) sent again", released)
        return released


def start_fleet_threads(
    runtime: Runtime,
    name: str,
    announce: Callable[[], None],
    *,
    heartbeat_seconds: float,
    duty_interval: float,
    lost_after: float,
    extra: list[Callable[[], object]],
) -> tuple[Heartbeat, threading.Event]:
    """Start the heartbeat and duty threads of worker ``name``; set the event to stop them."""
    stop = threading.Event()
    beats = Heartbeat(runtime, name, announce, heartbeat_seconds)
    beats.beat()
    duties = Duties(
        runtime,
        name,
        interval=duty_interval,
        lost_after=lost_after,
        extra=extra,
        store_healthy_for=beats.healthy_for,
    )
    _daemon("stepline-heartbeat", lambda: _every(heartbeat_seconds, beats.beat, stop))
    _daemon("stepline-duties", lambda: duties.run_forever(stop.wait))
    return beats, stop


def _every(seconds: float, action: Callable[[], None], stop: threading.Event) -> None:
    while not stop.wait(seconds):
        action()


def _daemon(name: str, target: Callable[[], None]) -> None:
    threading.Thread(target=target, daemon=True, name=name).start()
