"""A worker names the stepline messages it holds by task, not by Flower's shadow name."""

from __future__ import annotations

from types import SimpleNamespace

from engine._store.kinds import MessageKind
from engine._store.workers import Held
from tasks.fleet import Received, held_message, held_messages


def request(task: str, args: tuple[object, ...], shadow: str = "orders.Charge") -> object:
    """A Celery request as the consumer sees it: ``name`` is the shadow, ``task`` the task."""
    return SimpleNamespace(
        name=shadow, task_name=shadow, task=SimpleNamespace(name=task), args=args
    )


def test_held_messages_are_read_from_the_task_not_the_shadow_name() -> None:
    # Given a step, a handler task, a timer and someone else's task reserved by the worker
    reserved = [
        request("stepline.step", (7, "root", 2)),
        request("stepline.run_task", (7, "root/0", 3)),
        request("stepline.fire_timer", (7, "root", 4, "wait")),
        request("billing.invoice", (1, 2, 3)),
    ]
    # When the heartbeat reads them
    held = held_messages(lambda: reserved)
    # Then it names the step and the task (timers fire from their rows; others are not ours)
    assert held == [
        Held(MessageKind.STEP, 7, "root", 2),
        Held(MessageKind.TASK, 7, "root/0", 3),
    ]


def test_received_messages_are_remembered_for_a_window() -> None:
    # Given a worker that received a message
    received = Received(window=60.0)
    message = held_message(request("stepline.step", (1, "root", 1)))
    assert message is not None
    received.add(message)
    received.add(message)
    # Then it is remembered once; with no window at all it is forgotten
    assert received.recent() == [message]
    assert Received(window=0.0).recent() == []
