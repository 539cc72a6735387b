"""The Celery app: ``celery -A tasks.app worker`` / ``beat`` (or ``stepline worker``/``beat``)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import celeryd_after_setup, worker_process_init

from config.celery import celery_config
from config.settings import Settings
from engine._loading import import_handler_modules
from tasks import wiring

log = logging.getLogger("stepline.worker")


def create_app(settings: Settings) -> Celery:
    """A Celery app configured from ``settings``, with stepline's tasks registered."""
    app = Celery("stepline")
    app.conf.update(celery_config(settings))
    if settings.celery_broker_url.startswith("sqla+"):
        _tune_sqlalchemy_transport(settings)
    app.conf.imports = ("tasks.steps", "tasks.handlers", "tasks.timers")
    return app


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
    """Consume the steps queue and the queue of every handler this worker registered."""
    config = wiring.settings()
    import_handler_modules(config.handler_modules)
    queues = config.worker_queues or serving_queues(config)
    for queue in queues:
        instance.app.amqp.queues.select_add(queue)
    log.info("stepline worker %s consumes %s", sender, ", ".join(queues))


def serving_queues(config: Settings) -> list[str]:
    """The steps queue plus the queue(s) of the handlers registered in this process."""
    if config.handler_queue:
        return [config.steps_queue, config.handler_queue]
    names = wiring.handlers().names()
    return [config.steps_queue, *(config.handler_queue_prefix + name for name in names)]


app = create_app(wiring.settings())
