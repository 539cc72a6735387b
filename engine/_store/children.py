"""The ``child_executions`` table: which parent Task started which child execution.

A ``states:startExecution.sync`` (or ``.sync:2``) Task records its child here *before* it
starts it, so the child's end always finds its parent, even when the child ends before the
starting worker has returned. The same link tells the parent's end which children to stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError

from engine._store.rows import EXECUTIONS
from engine._store.tables import ChildExecutionRow

CHILDREN = ChildExecutionRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ChildLink:
    """One parent task → child execution link.

    Attributes:
        child_arn: the child execution's ARN.
        parent_execution_id: the parent's row id; with thread and seq, its task's address.
        parent_thread_id: the thread of the parent's Task.
        parent_seq: the step number of the parent's Task.
        pattern: the integration pattern (``.sync`` or ``.sync:2``).
        child_execution_id: the child's row id (None until it was started).
        child_status: the child's status (None until it was started).
    """

    child_arn: str
    parent_execution_id: int
    parent_thread_id: str
    parent_seq: int
    pattern: str
    child_execution_id: int | None = None
    child_status: str | None = None


def link_child(engine: Engine, link: ChildLink) -> None:
    """Record ``link`` once; a redelivered start finds it there already and changes nothing."""
    row = {
        "child_arn": link.child_arn,
        "parent_execution_id": link.parent_execution_id,
        "parent_thread_id": link.parent_thread_id,
        "parent_seq": link.parent_seq,
        "pattern": link.pattern,
    }
    try:
        with engine.begin() as db:
            db.execute(CHILDREN.insert().values(**row))
    except IntegrityError:
        return  # the same task's earlier delivery linked it


def parent_task_link(
    engine: Engine, execution_id: int, thread_id: str, seq: int
) -> ChildLink | None:
    """The link a parent task at (execution, thread, seq) made, with its child's status."""
    with engine.connect() as db:
        links = task_links(db, execution_id, thread_id, seq)
    return links[0] if links else None


def task_links(db: Connection, execution_id: int, thread_id: str, seq: int) -> list[ChildLink]:
    """In the caller's transaction: the links the task at (execution, thread, seq) made."""
    where = and_(
        CHILDREN.c.parent_execution_id == execution_id,
        CHILDREN.c.parent_thread_id == thread_id,
        CHILDREN.c.parent_seq == seq,
    )
    return _links(db, where)


def links_of(db: Connection, execution_arn: str, execution_id: int) -> list[ChildLink]:
    """The link that started this execution and the links it made, in one round trip.

    Read in the caller's transaction: an execution's end asks both.
    """
    return _links(
        db,
        or_(CHILDREN.c.child_arn == execution_arn, CHILDREN.c.parent_execution_id == execution_id),
    )


def _links(db: Connection, where: object) -> list[ChildLink]:
    query = (
        select(CHILDREN, EXECUTIONS.c.id.label("child_id"), EXECUTIONS.c.status)
        .select_from(CHILDREN.outerjoin(EXECUTIONS, EXECUTIONS.c.arn == CHILDREN.c.child_arn))
        .where(where)  # type: ignore[arg-type]
    )
    return [
        ChildLink(
            row["child_arn"],
            int(row["parent_execution_id"]),
            row["parent_thread_id"],
            int(row["parent_seq"]),
            row["pattern"],
            row["child_id"],
            row["status"],
        )
        for row in db.execute(query).mappings()
    ]
