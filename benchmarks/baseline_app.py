"""What the raw-Celery baseline and the durable floor share: an app with stepline's settings.

Both workers run stepline's own Celery configuration (`config.celery.celery_config`: JSON,
``acks_late``, ``task_reject_on_worker_lost``, prefetch 1, task events on, results ignored)
without its beat schedule, so they differ from a stepline worker only in what a task does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import redis
from celery import Celery

from config.celery import celery_config
from config.settings import load_settings


def baseline_app(name: str, queue: str) -> Celery:
    """A Celery app named ``name`` with stepline's settings, its tasks on ``queue``."""
    app = Celery(name)
    config = celery_config(load_settings())
    config.pop("beat_schedule")
    app.conf.update(config, task_default_queue=queue)
    return app


@cache
def broker() -> Any:
    """This process's Redis client on the broker (the tasks report their ends there)."""
    return redis.Redis.from_url(load_settings().broker_url)
