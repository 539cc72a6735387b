"""Fakes for tests of code built on stepline: one per seam.

`InMemoryDispatcher` stands in for Celery: it keeps published messages in a list, and
:meth:`InMemoryDispatcher.run_all` delivers them to a `Runtime` in-process (optionally
each twice, or shuffled), running handlers from a registry.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from engine.resources import HandlerRegistry
from engine.runtime import Runtime
from engine.store.repository import OutboxMessage
from engine.worker import execute_task

Json = Any


class InMemoryDispatcher:
    """Collects published messages instead of sending them to a broker."""

    def __init__(self) -> None:
        self.queue: deque[OutboxMessage] = deque()
        self.published: list[OutboxMessage] = []

    def publish(self, messages: list[OutboxMessage]) -> None:
        """Keep ``messages`` for :meth:`run_all`."""
        self.queue.extend(messages)
        self.published.extend(messages)

    def run_all(
        self,
        runtime: Runtime,
        handlers: HandlerRegistry,
        *,
        duplicate: bool = False,
        shuffle: random.Random | None = None,
        limit: int = 100_000,
    ) -> int:
        """Deliver messages until none are left; returns how many were delivered.

        Timer messages fire only once due (advance the runtime's clock to reach them).
        """
        delivered = 0
        waiting: list[OutboxMessage] = []
        while self.queue and delivered < limit:
            batch = list(self.queue)
            self.queue.clear()
            if shuffle is not None:
                shuffle.shuffle(batch)
            for message in batch:
                if (
                    message.kind == "timer"
                    and message.available_at
                    and (message.available_at > runtime.clock.now())
                ):
                    waiting.append(message)
                    continue
                for _ in range(2 if duplicate else 1):
                    deliver(runtime, handlers, message)
                    delivered += 1
        self.queue.extend(waiting)
        return delivered


def deliver(runtime: Runtime, handlers: HandlerRegistry, message: OutboxMessage) -> None:
    """What the Celery tasks do with one message, in-process.

    Before a handler's outcome is reported, timers that fell due while it ran (a fake
    clock advanced by the handler) fire first, as they would on a real worker fleet.
    """
    if message.kind == "step":
        runtime.advance(message.execution_id, message.thread_id, message.seq)
    elif message.kind == "timer" and message.timer_id is not None:
        runtime.fire_timer(message.timer_id)
    elif message.kind == "task":
        execute_task(
            runtime,
            handlers,
            message.execution_id,
            message.thread_id,
            message.seq,
            before_report=runtime.fire_due_timers,
        )


def drain(
    runtime: Runtime,
    dispatcher: InMemoryDispatcher,
    handlers: HandlerRegistry,
    clock: Any,
    *,
    duplicate: bool = False,
    shuffle: random.Random | None = None,
    max_rounds: int = 10_000,
) -> None:
    """Run until nothing is left: deliver messages, then jump the fake clock to the next timer."""
    for _ in range(max_rounds):
        dispatcher.run_all(runtime, handlers, duplicate=duplicate, shuffle=shuffle)
        next_due = runtime.store.next_timer_due()
        if next_due is None and not dispatcher.queue:
            return
        if next_due is not None:
            clock.sleep_until(next_due)
        fired = runtime.fire_due_timers()
        if not fired and not dispatcher.queue:
            return
