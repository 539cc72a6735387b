"""`StepSession`: the unit of work of one step (one transaction, one commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.interpreter.codec import (
    execution_from_json,
    execution_to_json,
    thread_from_json,
    thread_to_json,
)
from engine.interpreter.snapshot import Execution, Thread
from engine.interpreter.turn import StepResult
from engine.records import ExecutionRecord
from engine.store.rows import (
    EXECUTIONS,
    HISTORY,
    OUTBOX,
    TASKS,
    THREADS,
    TIMERS,
    OutboxMessage,
    TaskInvocation,
    invocation,
    new_id,
    put_definition,
    text_of,
)

Json = Any


def _param(name: str) -> Any:
    # Bound parameters are prefixed: SQLAlchemy reserves a column's own name in SET clauses.
    return bindparam(f"p_{name}")


# The statements every step runs, built once: building a statement costs more CPU than
# executing it (the compiled form is cached either way).
_EXECUTION = select(EXECUTIONS).where(EXECUTIONS.c.id == _param("execution_id"))
_EXECUTION_LOCKED = _EXECUTION.with_for_update()
_THREAD_KEY = and_(
    THREADS.c.execution_id == _param("execution_id"), THREADS.c.thread_id == _param("thread_id")
)
_THREAD_SNAPSHOT = select(THREADS.c.snapshot).where(_THREAD_KEY)
_SAVE_THREAD = (
    update(THREADS)
    .where(_THREAD_KEY)
    .values(status=_param("status"), seq=_param("seq"), snapshot=_param("snapshot"))
)
_SAVE_HEADER = (
    update(EXECUTIONS)
    .where(EXECUTIONS.c.id == _param("execution_id"))
    .values(header=_param("header"), status=_param("status"))
)
_SAVE_ENDED_HEADER = _SAVE_HEADER.values(stop_date=_param("stop_date"))
_MESSAGE_KEY = and_(
    OUTBOX.c.execution_id == _param("execution_id"),
    OUTBOX.c.thread_id == _param("thread_id"),
    OUTBOX.c.seq == _param("seq"),
    OUTBOX.c.kind == _param("kind"),
)


def _add_message(insert_into: Any) -> Any:
    """INSERT a message, or refresh the same one if it is still unconsumed; RETURNING its id.

    One round trip instead of a SELECT then an INSERT; no row comes back when the message
    already exists and was consumed.
    """
    statement = insert_into(OUTBOX)
    refreshed = {
        name: statement.excluded[name] for name in ("available_at", "lease_until", "timer_id")
    }
    return statement.on_conflict_do_update(
        index_elements=["execution_id", "thread_id", "seq", "kind"],
        set_=refreshed,
        where=OUTBOX.c.done.is_(False),
    ).returning(OUTBOX.c.id)


_ADD_MESSAGE = {
    "postgresql": _add_message(postgresql.insert),
    "sqlite": _add_message(sqlite.insert),
}
_CONSUME = update(OUTBOX).where(_MESSAGE_KEY).values(done=True)


class StepSession:
    """The unit of work of one step: reads, then one commit of everything it changed."""

    def __init__(self, db: Connection, execution_id: int | None, *, lock: bool) -> None:
        self.db = db
        self.execution_id = execution_id
        self._lock = lock
        self._row: dict[str, Any] = {}
        self._threads: dict[str, Thread] = {}
        self._stored: set[str] = set()
        self.messages: list[OutboxMessage] = []
        self.folded = 0  # states entered without a message of their own (Runtime.fold_states)

    # reads

    def load(self) -> bool:
        """Lock and read the execution row; False when it does not exist."""
        query = _EXECUTION_LOCKED if self._lock else _EXECUTION
        row = self.db.execute(query, {"p_execution_id": self.execution_id}).mappings().first()
        self._row = dict(row) if row is not None else {}
        return row is not None

    @property
    def header(self) -> Execution:
        """The execution header (checkpoint)."""
        return execution_from_json(self._row["header"])

    @property
    def definition_hash(self) -> str:
        """The definition this execution runs."""
        return str(self._row["definition_hash"])

    def definition_text(self) -> str:
        """The text of the definition this execution runs."""
        return text_of(self.db, self.definition_hash)

    def thread(self, thread_id: str) -> Thread | None:
        """A thread of this execution (the session's latest version)."""
        if thread_id in self._threads:
            return self._threads[thread_id]
        snapshot = self.db.scalar(
            _THREAD_SNAPSHOT, {"p_execution_id": self.execution_id, "p_thread_id": thread_id}
        )
        if snapshot is None:
            return None
        thread = thread_from_json(snapshot)
        self._threads[thread_id] = thread
        self._stored.add(thread_id)
        return thread

    def children(self, parent_id: str) -> list[Thread]:
        """Every child thread of ``parent_id`` (all generations)."""
        rows = self.db.execute(
            select(THREADS.c.thread_id, THREADS.c.snapshot).where(
                and_(
                    THREADS.c.execution_id == self.execution_id,
                    THREADS.c.parent_id == parent_id,
                )
            )
        ).all()
        children = []
        for thread_id, snapshot in rows:
            if thread_id not in self._threads:
                self._threads[thread_id] = thread_from_json(snapshot)
                self._stored.add(thread_id)
            children.append(self._threads[thread_id])
        return children

    def timer(self, timer_id: int) -> Any:
        """A timer row (locked with the execution)."""
        return self.db.execute(select(TIMERS).where(TIMERS.c.id == timer_id)).mappings().first()

    def task(self, thread_id: str, seq: int) -> TaskInvocation | None:
        """A pending task of this execution."""
        row = (
            self.db.execute(
                select(TASKS).where(
                    and_(
                        TASKS.c.execution_id == self.execution_id,
                        TASKS.c.thread_id == thread_id,
                        TASKS.c.seq == seq,
                    )
                )
            )
            .mappings()
            .first()
        )
        return invocation(row) if row is not None else None

    # writes

    def create_execution(
        self, record: ExecutionRecord, definition_text: str, header: Execution
    ) -> int:
        """Insert the execution row (its definition stored once) and lock it."""
        digest = put_definition(self.db, definition_text)
        values = {
            "arn": record.arn,
            "machine_arn": record.machine_arn,
            "version_arn": record.version_arn,
            "name": record.name,
            "type": record.type,
            "status": str(record.status),
            "start_date": record.start_date,
            "definition_hash": digest,
            "header": execution_to_json(header),
        }
        self.execution_id = new_id(self.db.execute(insert(EXECUTIONS).values(values)))
        # Inserted by this transaction, so already locked: no need to read it back.
        self._row = {**values, "id": self.execution_id}
        return self.execution_id

    def apply(self, result: StepResult, now: datetime) -> None:
        """Record a step's new header, threads and history events."""
        self._update_header(result.execution, now)
        for thread in result.threads:
            self._threads[thread.id] = thread
        self._write_threads(result.threads)
        if result.history:
            self.db.execute(
                insert(HISTORY),
                [
                    {
                        "execution_id": self.execution_id,
                        "event_id": e.id,
                        "previous_event_id": e.previous_event_id,
                        "type": e.type,
                        "timestamp": e.timestamp,
                        "thread_id": e.thread_id,
                        "details": e.details,
                    }
                    for e in result.history
                ],
            )

    def _update_header(self, header: Execution, now: datetime) -> None:
        values: dict[str, Any] = {
            "header": execution_to_json(header),
            "status": header.status.value,
        }
        if header.status.value != "RUNNING":
            values["stop_date"] = now
        statement = _SAVE_ENDED_HEADER if "stop_date" in values else _SAVE_HEADER
        parameters = {f"p_{name}": value for name, value in values.items()}
        self.db.execute(statement, {**parameters, "p_execution_id": self.execution_id})
        self._row = {**self._row, **values}

    def _write_threads(self, threads: tuple[Thread, ...]) -> None:
        new = [t for t in threads if t.id not in self._stored]
        changed = [
            {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread.id,
                "p_status": thread.status.value,
                "p_seq": thread.seq,
                "p_snapshot": thread_to_json(thread),
            }
            for thread in threads
            if thread.id in self._stored
        ]
        if changed:
            self.db.execute(_SAVE_THREAD, changed)
        if new:
            self.db.execute(
                insert(THREADS),
                [
                    {
                        "execution_id": self.execution_id,
                        "thread_id": t.id,
                        "parent_id": t.parent_id,
                        "status": t.status.value,
                        "seq": t.seq,
                        "snapshot": thread_to_json(t),
                    }
                    for t in new
                ],
            )
            self._stored.update(t.id for t in new)

    def add_message(
        self,
        kind: str,
        thread_id: str,
        seq: int,
        *,
        available_at: datetime,
        lease_until: datetime,
        queue: str | None = None,
        shadow: str | None = None,
        timer_id: int | None = None,
    ) -> None:
        """Queue a message in the outbox (ignored if the same one is already there)."""
        row = self.db.execute(
            _ADD_MESSAGE[self.db.dialect.name],
            {
                "execution_id": self.execution_id,
                "thread_id": thread_id,
                "seq": seq,
                "kind": kind,
                "queue": queue,
                "shadow": shadow,
                "timer_id": timer_id,
                "available_at": available_at,
                "lease_until": lease_until,
                "sends": 0,
                "done": False,
            },
        ).first()
        if row is None:
            return  # the same message was already sent and consumed
        message_id = int(row.id)
        self.messages.append(
            OutboxMessage(
                message_id,
                int(self.execution_id or 0),
                thread_id,
                seq,
                kind,
                queue,
                shadow,
                timer_id,
                available_at,
            )
        )

    def consume(self, kind: str, thread_id: str, seq: int) -> None:
        """Mark a message consumed (in the consumer's transaction)."""
        self.db.execute(
            _CONSUME,
            {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread_id,
                "p_seq": seq,
                "p_kind": kind,
            },
        )

    def put_timer(self, thread_id: str, seq: int, kind: str, due: datetime) -> int:
        """Create (or move) a timer; returns its id."""
        key = and_(
            TIMERS.c.execution_id == self.execution_id,
            TIMERS.c.thread_id == thread_id,
            TIMERS.c.seq == seq,
            TIMERS.c.kind == kind,
        )
        existing = self.db.scalar(select(TIMERS.c.id).where(key))
        if existing is not None:
            self.db.execute(
                update(TIMERS).where(TIMERS.c.id == existing).values(due_at=due, fired=False)
            )
            return int(existing)
        return new_id(
            self.db.execute(
                insert(TIMERS).values(
                    execution_id=self.execution_id,
                    thread_id=thread_id,
                    seq=seq,
                    kind=kind,
                    due_at=due,
                    fired=False,
                )
            )
        )

    def fire_timer(self, timer_id: int) -> None:
        """Mark a timer fired (with the step it caused)."""
        self.db.execute(update(TIMERS).where(TIMERS.c.id == timer_id).values(fired=True))

    def put_task(self, thread_id: str, seq: int, values: dict[str, Any]) -> None:
        """Record a task the interpreter decided to run."""
        self.db.execute(
            insert(TASKS).values(
                execution_id=self.execution_id,
                thread_id=thread_id,
                seq=seq,
                status="SCHEDULED",
                **values,
            )
        )

    def claim_task(self, thread_id: str, seq: int, until: datetime) -> None:
        """This worker runs the task until ``until`` unless it renews the claim."""
        key = and_(
            TASKS.c.execution_id == self.execution_id,
            TASKS.c.thread_id == thread_id,
            TASKS.c.seq == seq,
        )
        self.db.execute(update(TASKS).where(key).values(status="STARTED", claimed_until=until))
        self.db.execute(
            update(OUTBOX)
            .where(
                and_(
                    OUTBOX.c.execution_id == self.execution_id,
                    OUTBOX.c.thread_id == thread_id,
                    OUTBOX.c.seq == seq,
                    OUTBOX.c.kind == "task",
                )
            )
            .values(lease_until=until)
        )

    def set_task_status(self, thread_id: str, seq: int, status: str) -> None:
        """Move a task to STARTED or DONE."""
        self.db.execute(
            update(TASKS)
            .where(
                and_(
                    TASKS.c.execution_id == self.execution_id,
                    TASKS.c.thread_id == thread_id,
                    TASKS.c.seq == seq,
                )
            )
            .values(status=status)
        )

    def cancel_timers(self) -> None:
        """Retire every unfired timer of an execution that ended (they could only be stale)."""
        self.db.execute(
            update(TIMERS)
            .where(
                and_(
                    TIMERS.c.execution_id == self.execution_id,
                    TIMERS.c.fired.is_(False),
                )
            )
            .values(fired=True)
        )
