"""Celery settings for stepline workers, derived from `config.settings.Settings`.

JSON only on the wire; ``acks_late`` with ``task_reject_on_worker_lost`` so a task of a
killed worker is not acknowledged; prefetch 1 so a worker never hoards state steps;
task events on so Flower shows every state as it runs. Redelivery is not relied upon:
the store's relay republishes whatever was not consumed (see engine/_runtime.py).
"""

from __future__ import annotations

from typing import Any

from config.settings import Settings


def celery_config(settings: Settings) -> dict[str, Any]:
    """The ``app.conf`` mapping for ``settings``."""
    transport: dict[str, Any] = {}
    broker = settings.celery_broker_url
    if broker.startswith("redis"):
        transport = {
            "visibility_timeout": settings.visibility_timeout,
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        }
    config: dict[str, Any] = {
        "broker_url": broker,
        "result_backend": settings.result_backend or None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": settings.prefetch_multiplier,
        # Bounded memory (docs/reliability.md): a prefork child above this after a task is
        # replaced by a fresh one; every value a state builds is itself capped.
        "worker_max_memory_per_child": settings.worker_max_memory_mib * 1024,
        # Reconnects to a lost broker within seconds (ADR 0035).
        "worker_consumer": "tasks.fleet:FleetConsumer",
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": settings.steps_queue,
        "broker_transport_options": transport,
        "worker_hijack_root_logger": False,
        "beat_schedule": {
            # A round of the fleet's duties (relay, due timers, continuations), skipped while a
            # worker's own duty thread holds the lock (ADR 0035): beat is a fallback only.
            "stepline-relay": {
                "task": "stepline.housekeeping.relay",
                "schedule": settings.relay_interval_seconds,
                "options": {"queue": settings.steps_queue, "expires": 30},
            },
            "stepline-prune-outbox": {
                "task": "stepline.housekeeping.prune_outbox",
                "schedule": 300.0,
                "options": {"queue": settings.steps_queue, "expires": 300},
            },
            "stepline-prune-queue-messages": {
                "task": "stepline.housekeeping.prune_queue_messages",
                "schedule": 300.0,
                "options": {"queue": settings.steps_queue, "expires": 300},
            },
            "stepline-prune-broker": {
                "task": "stepline.housekeeping.prune_broker",
                "schedule": 300.0,
                "options": {"queue": settings.steps_queue, "expires": 300},
            },
        },
    }
    if settings.result_backend.startswith("redis"):
        config["result_backend_transport_options"] = {
            "visibility_timeout": settings.visibility_timeout
        }
    return config
