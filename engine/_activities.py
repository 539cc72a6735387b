"""Activities on each backend: the activities themselves, and handing their tasks to workers.

An activity Task waits until a worker takes it with GetActivityTask: that records
``ActivityStarted`` (with the worker's name) and hands the worker the task's token and
input; the worker answers with SendTaskSuccess/Failure and may SendTaskHeartbeat meanwhile.

- durable: activities in the ``activities`` table; a waiting task is its ``tasks`` row
  (status SCHEDULED, no message), taken through `Runtime.begin_task` in the execution's
  locked transaction, so two pollers never take the same task;
- local: activities in memory; the local driver keeps its activity tasks until taken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from weakref import WeakKeyDictionary

Json = Any


@dataclass(frozen=True)
class Activity:
    """An activity as DescribeActivity reports it."""

    arn: str
    name: str
    creation_date: datetime


@dataclass(frozen=True)
class ActivityTask:
    """What GetActivityTask hands a worker."""

    token: str
    input: Json


class ActivityBackend(Protocol):
    """Where a client keeps its activities and finds their waiting tasks."""

    def create(self, activity: Activity) -> Activity:
        """Store ``activity`` (the stored one when its name exists already)."""
        ...

    def find(self, arn: str) -> Activity | None:
        """The activity with ``arn``, or None."""
        ...

    def all(self) -> list[Activity]:
        """Every activity, oldest first."""
        ...

    def delete(self, arn: str) -> None:
        """Forget the activity."""
        ...

    def take(self, arn: str, worker_name: str | None) -> ActivityTask | None:
        """Start one waiting task of activity ``arn`` for ``worker_name`` (None: none waits)."""
        ...


class DurableActivities:
    """Activities in SQL; their tasks are taken through the runtime."""

    def __init__(self, backend: Any) -> None:
        from engine._store import activities  # SQL only once a durable client asks

        self.table = activities
        self.store = backend.store
        self.runtime = backend.runtime

    def create(self, activity: Activity) -> Activity:
        """Store ``activity`` (idempotent on its name)."""
        found: Activity = self.table.create_activity(self.store.engine, activity)
        return found

    def find(self, arn: str) -> Activity | None:
        """The activity with ``arn``, or None."""
        found: Activity | None = self.table.find_activity(self.store.engine, arn)
        return found

    def all(self) -> list[Activity]:
        """Every activity, oldest first."""
        found: list[Activity] = self.table.all_activities(self.store.engine)
        return found

    def delete(self, arn: str) -> None:
        """Forget the activity."""
        self.table.delete_activity(self.store.engine, arn)

    def take(self, arn: str, worker_name: str | None) -> ActivityTask | None:
        """Start the oldest waiting task (another poller may win a race: try the next)."""
        for execution_id, thread_id, seq in self.table.waiting_tasks(self.store.engine, arn):
            task = self.runtime.begin_task(execution_id, thread_id, seq, worker_name)
            if task is not None and task.task_token:
                return ActivityTask(task.task_token, task.parameters)
        return None


class LocalActivities:
    """Activities in memory; their tasks wait in the local backend's drivers."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._activities: dict[str, Activity] = {}

    def create(self, activity: Activity) -> Activity:
        """Store ``activity`` (idempotent on its name)."""
        return self._activities.setdefault(activity.arn, activity)

    def find(self, arn: str) -> Activity | None:
        """The activity with ``arn``, or None."""
        return self._activities.get(arn)

    def all(self) -> list[Activity]:
        """Every activity, oldest first."""
        return sorted(self._activities.values(), key=lambda a: (a.creation_date, a.name))

    def delete(self, arn: str) -> None:
        """Forget the activity."""
        self._activities.pop(arn, None)

    def take(self, arn: str, worker_name: str | None) -> ActivityTask | None:
        """Start a waiting task of the local backend."""
        taken = self.backend.take_activity_task(arn, worker_name)
        return ActivityTask(*taken) if taken is not None else None


_backends: WeakKeyDictionary[Any, ActivityBackend] = WeakKeyDictionary()


def activities_of(backend: Any) -> ActivityBackend:
    """The activities of ``backend`` (built once per backend)."""
    found = _backends.get(backend)
    if found is None:
        durable = hasattr(backend, "runtime") and hasattr(backend, "store")
        found = DurableActivities(backend) if durable else LocalActivities(backend)
        _backends[backend] = found
    return found


def input_text(value: Json) -> str:
    """The task's input as GetActivityTask returns it: JSON text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
