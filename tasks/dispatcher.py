"""`CeleryDispatcher`: outbox messages → Celery messages (ids only, never payloads)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import Celery, group

from config.settings import Settings
from engine._consumer import TASK_NAMES, message_args
from engine._store.kinds import MessageKind
from engine._store.repository import OutboxMessage


class CeleryDispatcher:
    """Publishes committed outbox messages; fan-outs go out as one group."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def publish(self, messages: list[OutboxMessage]) -> None:
        """Send every message (a batch of several becomes a Celery group)."""
        signatures = [self.signature(message) for message in messages]
        if len(signatures) == 1:
            signatures[0].apply_async()
        else:
            group(signatures).apply_async()

    def signature(self, message: OutboxMessage) -> Any:
        """The Celery signature for one message; Flower lists it as ``machine.state``.

        Flower shows the execution's ARN beside the ids (``kwargsrepr``), never a payload.
        """
        options: dict[str, Any] = {"queue": message.queue or self.settings.steps_queue}
        if message.shadow:
            options["shadow"] = message.shadow
        if message.execution_arn:
            # Shown by Flower in the task's kwargs (search ``kwargs:execution=ARN``); the
            # task takes no such argument: its arguments stay ids.
            options["kwargsrepr"] = repr({"execution": message.execution_arn})
        kind = MessageKind(message.kind)
        if kind is MessageKind.TIMER:
            due = message.available_at or datetime.now(UTC)
            options["countdown"] = max(0.0, (due - datetime.now(UTC)).total_seconds())
        name, args = TASK_NAMES[kind], message_args(message)
        return self.app.signature(name, args=args, immutable=True, **options)
