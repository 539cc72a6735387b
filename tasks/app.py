"""The Celery app: ``celery -A tasks.app worker`` / ``beat`` (or ``stepline worker``/``beat``)."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import (
    celeryd_after_setup,
    task_received,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

# Imported first, so its worker_ready receiver (the heartbeat) runs before `_announce`,
# which may wait on the store: a liveness probe must not depend on the store.
import tasks.liveness

# For its signal receivers: the worker's Prometheus endpoint (ADR 0044).
import tasks.metrics  # noqa: F401
from config.celery import celery_config
from config.settings import Settings
from engine._store.db import OUTAGES
from engine._store.workers import announce
from tasks import fleet, wiring
from tasks.monitoring import (
    HOUSEKEEPING_PREFIX,
    SHOW_HOUSEKEEPING,
    StateNamedAMQP,
    quiet_housekeeping_logs,
)
from tasks.startup import import_handlers_or_exit

log = logging.getLogger("stepline.worker")

RETRY_ON_OUTAGE: dict[str, Any] = {
    "autoretry_for": OUTAGES,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 120,
}
"""Options of every task that consumes a stepline message: a store outage (a restart, a
failover) sends the message again with backoff instead of acknowledging it and leaving
it to the relay's lease (ADR 0035)."""


def create_app(settings: Settings) -> Celery:
    """A Celery app configured from ``settings``, with stepline's tasks registered."""
    app = Celery("stepline", amqp=StateNamedAMQP)
    app.conf.update(celery_config(settings))
    app.conf[SHOW_HOUSEKEEPING] = settings.flower_housekeeping
    quiet_housekeeping_logs()
    if settings.celery_broker_url.startswith("sqla+"):
        _tune_sqlalchemy_transport(settings)
    app.steps["consumer"].add(fleet.ResendOnReconnect)
    app.conf.imports = (
        "tasks.steps",
        "tasks.handlers",
        "tasks.timers",
        "tasks.celery_sync",
        "tasks.canvas",
        "tasks.events",
        "tasks.nested",
        "tasks.queues",
    )
    return app


def housekeeping_task(name: str, *, formerly: str) -> Callable[[Callable[..., Any]], Any]:
    """Register a fleet upkeep task as ``stepline.housekeeping.NAME`` (ADR 0046).

    It sends task events only with ``STEPLINE_FLOWER_HOUSEKEEPING`` on, so Flower lists
    states alone. ``formerly``: its name before this release, still served, so messages an
    older beat sent are not refused as unregistered.
    """
    shown = wiring.settings().flower_housekeeping

    def register(function: Callable[..., Any]) -> Any:
        options: dict[str, Any] = {"ignore_result": True, "send_events": shown}
        app.task(name=formerly, **options)(function)
        return app.task(name=HOUSEKEEPING_PREFIX + name, **options)(function)

    return register


def _tune_sqlalchemy_transport(settings: Settings) -> None:
    # kombu passes every transport option to create_engine, so the polling interval
    # can only be set on the transport class (docs/celery-facts.md b4).
    from kombu.transport import sqlalchemy as sqla

    sqla.Transport.polling_interval = settings.broker_polling_interval
    settings.home.mkdir(parents=True, exist_ok=True)


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    wiring.reset()  # connections opened by the parent must not be shared with children


@celeryd_after_setup.connect
def _subscribe(sender: str, instance: Any, **_: Any) -> None:
    """Consume exactly the worker's queues: those STEPLINE_QUEUES names, or all it serves.

    The selection replaces Celery's default one, so a service's worker started with
    ``STEPLINE_QUEUES=payments`` runs no state steps, timers or other services' calls.
    """
    config = wiring.settings()
    import_handlers_or_exit(config.handler_modules)  # or stop: see tasks/startup.py
    queues = config.worker_queues or serving_queues(config)
    selection = instance.app.amqp.queues
    for queue in queues:
        selection.select_add(queue)
    for name in list(selection.consume_from):
        if name not in queues:
            selection.deselect(name)
    _serving[sender] = queues
    log.info("stepline worker %s consumes %s", sender, ", ".join(queues))


_serving: dict[str, list[str]] = {}


@task_received.connect
def _received(request: Any, **_: Any) -> None:
    """Remember what this worker received, to resend it should the broker connection drop."""
    message = fleet.held_message(request)
    if message is not None:
        fleet.RECEIVED.add(message)


@worker_ready.connect
def _announce(sender: Any, **_: Any) -> None:
    """Tell the store what this worker serves, then heartbeat and share the fleet's duties.

    The first announcement is made before the worker takes work, so the runtime never
    mistakes a starting worker's handler for one nobody serves. The heartbeat carries the
    messages the worker holds, so another worker resends them within seconds should this
    one die or freeze (ADR 0035).
    """
    name = sender.hostname
    join_fleet(name, _serving.get(name) or serving_queues(wiring.settings()))


def join_fleet(name: str, queues: list[str]) -> None:
    """Announce worker ``name``, then start its heartbeat and duty threads (until it leaves)."""
    config = wiring.settings()
    announce_now = functools.partial(_announce_once, name, queues)
    announce_now()
    _fleet[name] = fleet.start_fleet_threads(
        wiring.runtime(),
        name,
        announce_now,
        heartbeat_seconds=config.heartbeat_seconds,
        duty_interval=config.relay_interval_seconds,
        lost_after=config.lost_after_seconds,
        extra=duty_jobs(config),
        judging=judging_jobs(config),
    )


_fleet: dict[str, tuple[fleet.Heartbeat, threading.Event]] = {}


@worker_shutdown.connect
def _leave_fleet(**_: Any) -> None:
    """A warm shutdown: stop beating and say this worker holds nothing any more."""
    for name in list(_fleet):
        leave_fleet(name)


def leave_fleet(name: str) -> None:
    """Worker ``name`` stops: its threads end and it says it holds nothing any more."""
    joined = _fleet.pop(name, None)
    if joined is not None:
        beats, stop = joined
        stop.set()
        beats.stop()


def duty_jobs(config: Settings) -> list[Callable[[], object]]:
    """What a duty round does besides the relay and timers: continuations, the broker check."""
    from tasks.canvas import send_continuations

    jobs: list[Callable[[], object]] = [send_continuations]
    if fleet.BrokerWatch.applies_to(config.celery_broker_url):
        jobs.append(fleet.BrokerWatch(wiring.runtime(), config).check)
    return jobs


def judging_jobs(config: Settings) -> list[Callable[[], object]]:
    """Duties that judge workers by their heartbeats: a Redis broker's dead deliveries."""
    if not fleet.BrokerWatch.applies_to(config.celery_broker_url):
        return []
    from tasks.unacked import UnackedSweep

    return [UnackedSweep(wiring.runtime(), config).check]


def _announce_once(name: str, queues: list[str]) -> None:
    handlers = wiring.handlers()
    runtime = wiring.runtime()
    resent = announce(
        runtime.store.engine,
        name,
        queues,
        handlers.names(),
        [*handlers.integration_names(), *celery_task_names(app)],
        runtime.clock.now(),
    )
    if resent:
        log.warning("worker %s restarted: %d message(s) its last run held sent again", name, resent)


def celery_task_names(celery: Celery) -> list[str]:
    """``celery-task:NAME`` of each Celery task this worker registered (Celery's own aside).

    Announced with the integrations, so a waiting ``celery:sendTask`` whose task no worker
    registered fails at once (ADR 0020).
    """
    names = (name for name in celery.tasks if not name.startswith("celery."))
    return [f"celery-task:{name}" for name in sorted(names)]


def serving_queues(config: Settings) -> list[str]:
    """The steps and integrations queues plus the queue(s) of this process's handlers."""
    shared = [config.steps_queue, config.integrations_queue]
    if config.handler_queue:
        return [*shared, config.handler_queue]
    names = wiring.handlers().names()
    return [*shared, *(config.handler_queue_prefix + name for name in names)]


app = create_app(wiring.settings())
