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
from datetime import timedelta
from typing import Any

from celery import bootsteps
from celery.worker.consumer import Consumer

from config.settings import Settings
from engine._consumer import TASK_NAMES
from engine._duties import Duties
from engine._observe.metrics import count_released
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.workers import (
    Held,
    announcements,
    heartbeat,
    release_held,
    release_orphans,
    release_unconsumed,
)

log = logging.getLogger("stepline.worker")

_KINDS = {name: kind for kind, name in TASK_NAMES.items() if kind is not MessageKind.TIMER}


def held_messages(requests: Callable[[], list[Any]] | None = None) -> list[Held]:
    """The stepline messages this worker process holds (timers excepted: rows fire them)."""
    held = (held_message(request) for request in (requests or _reserved_requests)())
    return [message for message in held if message is not None]


def held_message(request: Any) -> Held | None:
    """The stepline message a Celery request carries (None: a timer's or another task's)."""
    # ``request.name`` is the shadow name Flower shows (``machine.state``), not the task's.
    kind = _KINDS.get(getattr(getattr(request, "task", None), "name", "") or "")
    args: Any = getattr(request, "args", None) or ()
    if kind is None or len(args) != 3:
        return None
    return Held(kind, int(args[0]), str(args[1]), int(args[2]))


class Received:
    """The messages this worker received lately, to resend should its broker connection drop.

    After a reconnect Celery drops what it had reserved and cancels what ran, but the broker
    keeps those messages unacknowledged until its visibility timeout (an hour): without this
    they would wait for the relay's lease.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[Held, float] = {}
        self._lock = threading.Lock()

    def add(self, message: Held) -> None:
        """``message`` was just received."""
        now = time.monotonic()
        with self._lock:
            self._seen[message] = now
            if len(self._seen) > 1000:
                self._forget_before(now - self.window)

    def recent(self) -> list[Held]:
        """What was received within the window."""
        with self._lock:
            self._forget_before(time.monotonic() - self.window)
            return list(self._seen)

    def _forget_before(self, moment: float) -> None:
        for message, at in list(self._seen.items()):
            if at < moment:
                del self._seen[message]

    def resend(self, runtime: Runtime) -> int:
        """The broker connection came back: resend what was received and not consumed."""
        released = release_held(runtime.store.engine, self.recent(), runtime.clock.now())
        count_released(released, "connection_lost")
        if released:
            log.warning("broker connection restored: %d message(s) sent again", released)
        return released


def _reserved_requests() -> list[Any]:
    from celery.worker import state

    for _ in range(5):  # the consumer thread may change the sets while they are read
        try:
            # Reserved: running or waiting for a pool slot; scheduled: a retry's countdown.
            return [*state.reserved_requests, *state.scheduled_requests]
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


class BrokerWatch:
    """Notices messages a Redis broker lost, and has them sent again (ADR 0035).

    - A wiped broker (FLUSHALL, a restart without persistence): a canary key kept in it is
      gone, and with it every queued message: every unconsumed message is made due.
    - Messages lost one by one (a crash that lost the broker's last writes): once a queue
      has stayed empty for ``QUIET_ROUNDS`` checks, a message bound to it that was sent
      over ``lost_after`` seconds ago and that no live worker holds is nowhere, and is
      made due (``release_orphans``).
    """

    KEY = "stepline:broker-canary"
    QUIET_ROUNDS = 3
    PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")  # kombu's priority lists

    def __init__(self, runtime: Runtime, config: Settings) -> None:
        self.runtime = runtime
        self.config = config
        self._client: Any = None
        self._quiet: dict[str, int] = {}

    @staticmethod
    def applies_to(broker_url: str) -> bool:
        """Only Redis loses queued messages this way (RabbitMQ's durable queues persist)."""
        return broker_url.startswith(("redis://", "rediss://"))

    def check(self) -> int:
        """One check; returns how many messages were made due."""
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.config.celery_broker_url, socket_timeout=5)
        now = self.runtime.clock.now()
        engine = self.runtime.store.engine
        if self._client.set(self.KEY, uuid.uuid4().hex, nx=True):
            released = release_unconsumed(engine, now)
            count_released(released, "broker_lost")
            if released:
                log.warning("the broker lost its messages: %d message(s) sent again", released)
            return released
        quiet = self._quiet_queues()
        if not quiet:
            return 0
        silence = timedelta(seconds=self.config.lost_after_seconds)
        released = release_orphans(
            engine,
            quiet,
            default_queue=self.config.steps_queue,
            published_before=now - silence,
            live_since=now - silence,
            lease=self.config.lease_seconds,
            now=now,
        )
        count_released(released, "broker_lost")
        if released:
            log.warning("%d message(s) the broker lost were sent again", released)
        return released

    def _quiet_queues(self) -> list[str]:
        queues = sorted(
            {self.config.steps_queue, self.config.integrations_queue}
            | {queue for a in announcements(self.runtime.store.engine) for queue in a.queues}
        )
        pipe = self._client.pipeline(transaction=False)
        for queue in queues:
            for suffix in self.PRIORITY_SUFFIXES:
                pipe.llen(queue + suffix)
        sizes = pipe.execute()
        step = len(self.PRIORITY_SUFFIXES)
        for index, queue in enumerate(queues):
            empty = not any(sizes[index * step : (index + 1) * step])
            self._quiet[queue] = self._quiet.get(queue, 0) + 1 if empty else 0
        return [queue for queue in queues if self._quiet[queue] >= self.QUIET_ROUNDS]


def start_fleet_threads(
    runtime: Runtime,
    name: str,
    announce: Callable[[], None],
    *,
    heartbeat_seconds: float,
    duty_interval: float,
    lost_after: float,
    extra: list[Callable[[], object]],
    judging: list[Callable[[], object]] | None = None,
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
        judging=judging or [],
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


RECEIVED = Received(window=300.0)
"""This process's received messages (a window longer than any lease worth saving)."""


class ResendOnReconnect(bootsteps.StartStopStep):  # type: ignore[misc]
    """A consumer step: after each broker reconnect, resend what was received and not consumed.

    See :class:`Received`.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, consumer: Any, **kwargs: Any) -> None:
        super().__init__(consumer, **kwargs)
        self.connected_before = False

    def start(self, consumer: Any) -> None:
        """The consumer (re)started: on a restart, resend."""
        if self.connected_before:
            from tasks import wiring

            try:
                RECEIVED.resend(wiring.runtime())
            except Exception:  # the store is away too: the relay's lease still covers them
                log.warning("could not resend the messages received before the reconnect")
        self.connected_before = True


RECONNECT_INTERVALS = {"interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0}
"""How soon a worker tries its broker again after losing it (kombu's default backs off to
30 s: a broker restarted in 3 s would leave every worker idle for up to half a minute)."""


class FleetConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, reconnecting to a lost broker within a couple of seconds."""

    def ensure_connected(self, conn: Any) -> Any:
        """Connect as Celery does, retrying every 0.5-2 s instead of 2-30 s."""
        original = conn.ensure_connection

        def quick(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **{**RECONNECT_INTERVALS, **kwargs})

        conn.ensure_connection = quick
        tolerate_close_after_collect(conn)
        return super().ensure_connected(conn)


def tolerate_close_after_collect(conn: Any) -> None:
    """Let ``conn.close()`` succeed after ``conn.collect()`` dropped its transport.

    On a lost broker Celery collects the connection (kombu sets the transport's client to
    None) and then closes it. Should the default channel's first close have failed midway
    (its pending BRPOP read raised the connection error), the second close restores the
    channel's unacknowledged messages through a new Redis client, whose parameters come from
    the collected client: ``AttributeError: 'NoneType' object has no attribute 'hostname'``.
    That is no connection error, so it escaped Celery's cleanup and stopped the worker
    ("Unrecoverable error"). Nothing is lost by skipping that restore: Redis keeps the messages
    unacknowledged until its visibility timeout and `ResendOnReconnect` resends them sooner.
    """
    close = conn.close

    def close_collected() -> None:
        try:
            close()
        except AttributeError:
            if conn._transport is not None:  # not the collected case: a real bug
                raise
            log.warning(
                "the lost broker connection's channel could not be closed (its transport was"
                " collected); its unacknowledged messages are resent after the reconnect"
            )
            conn._default_channel = None

    conn.close = close_collected
    conn.release = close_collected
