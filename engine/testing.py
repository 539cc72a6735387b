"""Fakes for tests of code built on stepline: one per seam.

`InMemoryDispatcher` stands in for Celery (as dramatiq's StubBroker stands in for a
broker): it keeps published messages in a list, and :meth:`InMemoryDispatcher.join`
hands them to the same consumer path the Celery tasks use (:func:`engine._consumer.consume`)
until nothing is left, firing timers as a fake clock reaches them (optionally delivering
each message twice, or shuffled). Whatever a consumer raises — a handler crash the worker
would log, a bug in the runtime — propagates out of ``join`` to the test.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from engine._clock import Clock
from engine._consumer import consume, message_args
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.repository import OutboxMessage

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
                    message.kind == MessageKind.TIMER
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

    def join(
        self,
        runtime: Runtime,
        handlers: HandlerRegistry,
        clock: Clock,
        *,
        duplicate: bool = False,
        shuffle: random.Random | None = None,
        max_rounds: int = 10_000,
    ) -> None:
        """Run until nothing is left: deliver messages, then move ``clock`` to the next timer.

        ``clock`` is the runtime's fake clock; with a real one, ``join`` waits for timers.
        """
        for _ in range(max_rounds):
            self.run_all(runtime, handlers, duplicate=duplicate, shuffle=shuffle)
            next_due = runtime.store.next_timer_due()
            if next_due is None and not self.queue:
                return
            if next_due is not None:
                clock.sleep_until(next_due)
            fired = runtime.fire_due_timers()
            if not fired and not self.queue:
                return


def deliver(runtime: Runtime, handlers: HandlerRegistry, message: OutboxMessage) -> None:
    """What a Celery worker does with one message, in-process (the same consumer path).

    Before a handler's outcome is reported, timers that fell due while it ran (a fake
    clock advanced by the handler) fire first, as they would on a real worker fleet.
    """
    kind = MessageKind(message.kind)
    args = message_args(message)
    consume(runtime, handlers, kind, args, before_report=runtime.fire_due_timers)
