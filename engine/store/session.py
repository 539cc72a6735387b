"""`StepSession`: the unit of work of one step (one transaction, one commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.interpreter.codec import (
    execution_to_json,
    header_with_input,
    header_without_input,
    same_bulk,
    thread_from_parts,
    thread_parts,
)
from engine.interpreter.snapshot import Execution, Thread
from engine.interpreter.turn import StepResult
from engine.records import ExecutionRecord
from engine.store.db import pipelined
from engine.store.rows import (
    EXECUTIONS,
    HISTORY,
    OUTBOX,
    TASKS,
    THREADS,
    TIMERS,
    OutboxMessage,
    TaskInvocation,
    hold_claim,
    invocation,
    new_id,
    put_definition,
    task_key,
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
# The execution and the thread a message is about, in one round trip.
_EXECUTION_AND_THREAD = (
    select(
        EXECUTIONS,
        THREADS.c.snapshot.label("thread_snapshot"),
        THREADS.c.bulk.label("thread_bulk"),
    )
    .select_from(
        EXECUTIONS.outerjoin(
            THREADS,
            and_(
                THREADS.c.execution_id == EXECUTIONS.c.id,
                THREADS.c.thread_id == _param("thread_id"),
            ),
        )
    )
    .where(EXECUTIONS.c.id == _param("execution_id"))
)
_EXECUTION_AND_THREAD_LOCKED = _EXECUTION_AND_THREAD.with_for_update(of=EXECUTIONS)
_THREAD_SNAPSHOT = select(THREADS.c.snapshot, THREADS.c.bulk).where(_THREAD_KEY)
_SAVE_THREAD = (
    update(THREADS)
    .where(_THREAD_KEY)
    .values(
        status=_param("status"),
        seq=_param("seq"),
        snapshot=_param("snapshot"),
        bulk=_param("bulk"),
    )
)
# The same without the bulky part, when none of its values changed.
_SAVE_THREAD_LIGHT = (
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
    """INSERT a message, or refresh the same one if it is still unconsumed.

    A message that already exists and was consumed stays as it is; the session publishes it
    anyway, and its consumer finds the seq advanced and does nothing (DESIGN 2.4). No
    RETURNING: the statement can then be pipelined with the step's other writes.
    """
    statement = insert_into(OUTBOX).inline()  # inline: no implicit RETURNING of the id
    refreshed = {
        name: statement.excluded[name] for name in ("available_at", "lease_until", "timer_id")
    }
    return statement.on_conflict_do_update(
        index_elements=["execution_id", "thread_id", "seq", "kind"],
        set_=refreshed,
        where=OUTBOX.c.done.is_(False),
    )


_ADD_MESSAGE = {
    "postgresql": _add_message(postgresql.insert),
    "sqlite": _add_message(sqlite.insert),
}
_CONSUME = update(OUTBOX).where(_MESSAGE_KEY).values(done=True)


class StepSession:
    """The unit of work of one step: reads, then one flush and one commit of its writes.

    The checkpoint writes (header, threads, history, outbox) are buffered and sent together
    by :meth:`flush` (pipelined on PostgreSQL, one round trip): a header or thread written
    several times in one session is written once, with its last value.
    """

    def __init__(self, db: Connection, execution_id: int | None, *, lock: bool) -> None:
        self.db = db
        self.execution_id = execution_id
        self._lock = lock
        self._row: dict[str, Any] = {}
        self._header: Execution | None = None
        self._threads: dict[str, Thread] = {}
        self._stored: dict[str, Thread] = {}  # each thread as its row holds it
        self._unsplit: set[str] = set()  # rows written before the bulk column existed
        self._absent: set[str] = set()
        self._header_applied_at: datetime | None = None  # set: the header needs writing
        self._thread_writes: dict[str, Thread] = {}
        self._history: list[dict[str, Any]] = []
        self._consumed: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self.messages: list[OutboxMessage] = []
        self.folded = 0  # states entered without a message of their own (Runtime.fold_states)

    # reads

    def load(self, thread_id: str | None = None) -> bool:
        """Lock and read the execution row (and ``thread_id``'s); False when it does not exist."""
        parameters: dict[str, Any] = {"p_execution_id": self.execution_id}
        if thread_id is None:
            query = _EXECUTION_LOCKED if self._lock else _EXECUTION
        else:
            query = _EXECUTION_AND_THREAD_LOCKED if self._lock else _EXECUTION_AND_THREAD
            parameters["p_thread_id"] = thread_id
        row = self.db.execute(query, parameters).mappings().first()
        if row is None:
            self._row = {}
            return False
        self._row = dict(row)
        if thread_id is not None:
            snapshot, bulk = self._row.pop("thread_snapshot"), self._row.pop("thread_bulk")
            self._remember(thread_id, snapshot, bulk)
        return True

    def _remember(self, thread_id: str, snapshot: Json, bulk: Json) -> Thread | None:
        if snapshot is None:
            self._absent.add(thread_id)
            return None
        thread = thread_from_parts(snapshot, bulk)
        self._threads[thread_id] = thread
        self._stored[thread_id] = thread
        if bulk is None:
            self._unsplit.add(thread_id)
        return thread

    @property
    def header(self) -> Execution:
        """The execution header (checkpoint)."""
        if self._header is None:
            self._header = header_with_input(self._row["header"], self._row.get("input"))
        return self._header

    @property
    def execution_arn(self) -> str:
        """The execution's ARN."""
        return str(self._row["arn"])

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
        if thread_id in self._absent:
            return None
        row = self.db.execute(
            _THREAD_SNAPSHOT, {"p_execution_id": self.execution_id, "p_thread_id": thread_id}
        ).first()
        return self._remember(thread_id, *(row if row is not None else (None, None)))

    def children(self, parent_id: str) -> list[Thread]:
        """Every child thread of ``parent_id`` (all generations), this session's included."""
        rows = self.db.execute(
            select(THREADS.c.thread_id, THREADS.c.snapshot, THREADS.c.bulk).where(
                and_(
                    THREADS.c.execution_id == self.execution_id,
                    THREADS.c.parent_id == parent_id,
                )
            )
        ).all()
        for thread_id, snapshot, bulk in rows:
            if thread_id not in self._threads:
                self._remember(thread_id, snapshot, bulk)
        return [t for t in self._threads.values() if t.parent_id == parent_id]

    def timer(self, timer_id: int) -> Any:
        """A timer row (locked with the execution)."""
        return self.db.execute(select(TIMERS).where(TIMERS.c.id == timer_id)).mappings().first()

    def task(self, thread_id: str, seq: int) -> TaskInvocation | None:
        """A pending task of this execution."""
        row = (
            self.db.execute(select(TASKS).where(task_key(self.execution_id, thread_id, seq)))
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
            "header": header_without_input(header),
            "input": header.input,
        }
        self.execution_id = new_id(self.db.execute(insert(EXECUTIONS).values(values)))
        # Inserted by this transaction, so already locked: no need to read it back.
        self._row = {**values, "id": self.execution_id}
        self._header = header
        return self.execution_id

    def apply(self, result: StepResult, now: datetime) -> None:
        """Record a step's new header, threads and history events (written by flush)."""
        header = result.execution
        self._header = header
        self._header_applied_at = now
        for thread in result.threads:
            self._threads[thread.id] = thread
            self._thread_writes[thread.id] = thread
            self._absent.discard(thread.id)
        self._history.extend(
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
        )

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
        """Queue a message in the outbox (an unconsumed copy of it is refreshed)."""
        self._outbox.append(
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
            }
        )
        self.messages.append(
            OutboxMessage(
                0,
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
        self._consumed.append(
            {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread_id,
                "p_seq": seq,
                "p_kind": kind,
            }
        )

    def flush(self) -> None:
        """Send the buffered checkpoint writes (before the commit)."""
        buffered = (self._outbox, self._consumed, self._thread_writes, self._history)
        if not any(buffered) and self._header_applied_at is None:
            return  # a read-only session: no round trip
        with pipelined(self.db):
            # Messages before consumptions: a message scheduled and cancelled in the same
            # session must end consumed.
            if self._outbox:
                self.db.execute(_ADD_MESSAGE[self.db.dialect.name], self._outbox)
            if self._consumed:
                self.db.execute(_CONSUME, self._consumed)
            if self._header_applied_at is not None and self._header is not None:
                self._write_header(self._header, self._header_applied_at)
            self._write_threads(tuple(self._thread_writes.values()))
            if self._history:
                self.db.execute(insert(HISTORY), self._history)
        self._consumed, self._thread_writes, self._history, self._outbox = [], {}, [], []
        self._header_applied_at = None

    def _write_header(self, header: Execution, now: datetime) -> None:
        stored_apart = "input" not in self._row["header"]
        parameters: dict[str, Any] = {
            "p_execution_id": self.execution_id,
            "p_status": header.status.value,
            "p_header": header_without_input(header) if stored_apart else execution_to_json(header),
        }
        if header.status.value == "RUNNING":
            self.db.execute(_SAVE_HEADER, parameters)
        else:  # it ended in this session
            self.db.execute(_SAVE_ENDED_HEADER, {**parameters, "p_stop_date": now})

    def _write_threads(self, threads: tuple[Thread, ...]) -> None:
        full: list[dict[str, Any]] = []
        light: list[dict[str, Any]] = []
        new: list[dict[str, Any]] = []
        for thread in threads:
            snapshot, bulk = thread_parts(thread)
            stored = self._stored.get(thread.id)
            if stored is None:
                new.append(
                    {
                        "execution_id": self.execution_id,
                        "thread_id": thread.id,
                        "parent_id": thread.parent_id,
                        "status": thread.status.value,
                        "seq": thread.seq,
                        "snapshot": snapshot,
                        "bulk": bulk,
                    }
                )
                continue
            values = {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread.id,
                "p_status": thread.status.value,
                "p_seq": thread.seq,
                "p_snapshot": snapshot,
            }
            if thread.id not in self._unsplit and same_bulk(thread, stored):
                light.append(values)
            else:
                full.append({**values, "p_bulk": bulk})
        if full:
            self.db.execute(_SAVE_THREAD, full)
        if light:
            self.db.execute(_SAVE_THREAD_LIGHT, light)
        if new:
            self.db.execute(insert(THREADS), new)
        for thread in threads:
            self._stored[thread.id] = thread
            self._unsplit.discard(thread.id)

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
        hold_claim(self.db, self.execution_id, thread_id, seq, until, status="STARTED")

    def set_task_status(self, thread_id: str, seq: int, status: str) -> None:
        """Move a task to STARTED or DONE."""
        key = task_key(self.execution_id, thread_id, seq)
        self.db.execute(update(TASKS).where(key).values(status=status))

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
