"""The closed sets of values the store keeps in string columns.

`StrEnum`s, so a stored value is the member's value and old rows read unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """What an outbox message asks for (``outbox.kind``)."""

    STEP = "step"  # enter a thread's state (stepline.step)
    TASK = "task"  # run a Task state's handler (stepline.run_task)
    TIMER = "timer"  # fire a due timer (stepline.fire_timer); never an outbox row
    CHILD = "child"  # a child execution ended: complete its parent's .sync task
    STOP = "stop"  # the parent of a .sync child ended: stop the child
    EVENT = "event"  # an execution changed status: publish it on the event bus


class TaskStatus(StrEnum):
    """How far a Task invocation got (``tasks.status``)."""

    SCHEDULED = "SCHEDULED"  # decided, its message not yet consumed
    STARTED = "STARTED"  # a worker claimed it (TaskStarted recorded)
    DONE = "DONE"  # its outcome was delivered, or it was cancelled
