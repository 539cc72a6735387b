"""Nested executions on the durable backend: a child's end reaches its parent, and back.

When an execution ends (`Runtime` acting on ``FinishExecution``), one query in the same
transaction reads its links (``child_executions``):

- started by a parent's ``.sync``/``.sync:2`` Task: a ``child`` message addressed to that
  task (parent execution, thread, seq) goes in the outbox; its consumer completes the task
  with the child's description (`engine._integrations.nested.sync_outcome`);
- it started ``.sync``/``.sync:2`` children still running: a ``stop`` message for each (AWS
  stops them with their parent).

Both are outbox messages, so a worker killed at any point loses neither: the relay resends
them, and their consumers are idempotent (a stale task or an ended child changes nothing).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from engine._interpreter.snapshot import ROOT_THREAD_ID
from engine._resources import outcome_event
from engine._store.children import ChildLink, links_of, parent_task_link, task_links
from engine._store.kinds import MessageKind

if TYPE_CHECKING:
    from engine._runtime import Runtime
    from engine._store.repository import StepSession

log = logging.getLogger("stepline.children")
_SYNC = (".sync", ".sync:2")


def execution_finished(session: StepSession, now: datetime, lease: datetime, queue: str) -> None:
    """In the ending execution's transaction: tell its parent, stop its running children."""
    execution_id = int(session.execution_id or 0)
    for link in links_of(session.db, session.execution_arn, execution_id):
        if link.child_arn == session.execution_arn and link.pattern in _SYNC:
            session.add_message(
                MessageKind.CHILD,
                link.parent_thread_id,
                link.parent_seq,
                available_at=now,
                lease_until=lease,
                queue=queue,
                execution_id=link.parent_execution_id,
            )
        elif _running_child(link, execution_id):
            _stop(session, link, now, lease, queue)


def task_cancelled(
    session: StepSession, thread_id: str, seq: int, now: datetime, lease: datetime, queue: str
) -> None:
    """A task was cancelled (timed out, aborted): stop the ``.sync`` child it waits on.

    AWS stops a ``.sync`` child whose Task ends without it, not only when the parent ends.
    """
    execution_id = int(session.execution_id or 0)
    for link in task_links(session.db, execution_id, thread_id, seq):
        if _running_child(link, execution_id):
            _stop(session, link, now, lease, queue)


def _stop(
    session: StepSession, link: ChildLink, now: datetime, lease: datetime, queue: str
) -> None:
    assert link.child_execution_id is not None
    session.add_message(
        MessageKind.STOP,
        ROOT_THREAD_ID,
        0,
        available_at=now,
        lease_until=lease,
        queue=queue,
        execution_id=link.child_execution_id,
    )


def _running_child(link: ChildLink, execution_id: int) -> bool:
    return (
        link.parent_execution_id == execution_id
        and link.pattern in _SYNC
        and link.child_execution_id is not None
        and link.child_status == "RUNNING"
    )


def complete_parent(runtime: Runtime, execution_id: int, thread_id: str, seq: int) -> None:
    """A ``child`` message: complete the parent's task with its child's end."""
    from engine._integrations.nested import ENDED, sync_outcome

    link = parent_task_link(runtime.store.engine, execution_id, thread_id, seq)
    record = runtime.store.execution(link.child_arn) if link is not None else None
    if link is not None and record is not None and record.status in ENDED:
        outcome = sync_outcome(record, link.pattern)
        runtime.finish_task(execution_id, thread_id, seq, outcome_event(thread_id, seq, outcome))
    else:
        log.warning("child message for task %s/%s/%s: no ended child", execution_id, thread_id, seq)
    _consume(runtime, execution_id, MessageKind.CHILD, thread_id, seq)


def stop_child(runtime: Runtime, execution_id: int, thread_id: str, seq: int) -> None:
    """A ``stop`` message: the parent of this ``.sync`` child ended; stop the child."""
    runtime.stop(execution_id, None, None)  # an ended child ignores it
    _consume(runtime, execution_id, MessageKind.STOP, thread_id, seq)


def _consume(
    runtime: Runtime, execution_id: int, kind: MessageKind, thread_id: str, seq: int
) -> None:
    # Its own short transaction: a crash before it only makes the relay resend the message,
    # and both consumers above are idempotent.
    with runtime.store.session(execution_id) as session:
        session.consume(kind, thread_id, seq)
