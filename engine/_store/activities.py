"""The ``activities`` table, and the activity tasks waiting in ``tasks`` for a worker.

An activity Task gets no outbox message (`engine._runtime.Runtime.handler_queue`): its row
in ``tasks`` (status SCHEDULED, resource = the activity's ARN) is the queue GetActivityTask
polls.
"""

from __future__ import annotations

from sqlalchemy import Engine, and_, select
from sqlalchemy.exc import IntegrityError

from engine._activities import Activity
from engine._store.kinds import TaskStatus
from engine._store.rows import TASKS, utc_required
from engine._store.tables import ActivityRow

ACTIVITIES = ActivityRow.__table__  # type: ignore[attr-defined]


def create_activity(engine: Engine, activity: Activity) -> Activity:
    """Store ``activity``; one of that name already stored is returned instead.

    CreateActivity is idempotent on the name, as on AWS.
    """
    try:
        with engine.begin() as db:
            db.execute(
                ACTIVITIES.insert().values(
                    arn=activity.arn, name=activity.name, creation_date=activity.creation_date
                )
            )
    except IntegrityError:
        found = find_activity(engine, activity.arn)
        if found is None:  # pragma: no cover - deleted between the insert and the read
            raise
        return found
    return activity


def find_activity(engine: Engine, arn: str) -> Activity | None:
    """The activity with ``arn``, or None."""
    with engine.connect() as db:
        row = db.execute(select(ACTIVITIES).where(ACTIVITIES.c.arn == arn)).mappings().first()
    return _activity(row) if row is not None else None


def all_activities(engine: Engine) -> list[Activity]:
    """Every activity, oldest first."""
    query = select(ACTIVITIES).order_by(ACTIVITIES.c.creation_date, ACTIVITIES.c.name)
    with engine.connect() as db:
        return [_activity(row) for row in db.execute(query).mappings()]


def delete_activity(engine: Engine, arn: str) -> None:
    """Forget the activity (its waiting tasks wait on, as on AWS, until they time out)."""
    with engine.begin() as db:
        db.execute(ACTIVITIES.delete().where(ACTIVITIES.c.arn == arn))


def waiting_tasks(engine: Engine, arn: str, limit: int = 10) -> list[tuple[int, str, int]]:
    """(execution, thread, seq) of the tasks of activity ``arn`` no worker took yet."""
    query = (
        select(TASKS.c.execution_id, TASKS.c.thread_id, TASKS.c.seq)
        .where(and_(TASKS.c.resource == arn, TASKS.c.status == TaskStatus.SCHEDULED.value))
        .order_by(TASKS.c.execution_id, TASKS.c.seq)
        .limit(limit)
    )
    with engine.connect() as db:
        return [(int(r[0]), str(r[1]), int(r[2])) for r in db.execute(query)]


def _activity(row: object) -> Activity:
    values = dict(row)  # type: ignore[call-overload]
    return Activity(values["arn"], values["name"], utc_required(values["creation_date"]))
