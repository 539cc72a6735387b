"""`StepSession`: the unit of work of one step (one transaction, one commit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine._interpreter.decisions import RecordChildExecution, RecordMapRun
from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import Execution, Thread
from engine._interpreter.turn import StepResult
from engine._observe.committed import CommittedStep
from engine._records import (
    ChildExecutionRecord,
    ExecutionRecord,
    MapRunRecord,
    child_execution_record,
    map_run_record,
    restart,
)
from engine._store.checkpoint import (
    FORMAT_VERSION,
    execution_to_json,
    header_with_input,
    header_without_input,
    same_bulk,
    stored_version,
    thread_from_parts,
    thread_parts,
)
from engine._store.db import pipelined
from engine._store.kinds import MessageKind, TaskStatus
from engine._store.map_runs import SAVE_CHILD, SAVE_MAP_RUN, child_row, map_run_row
from engine._store.prepared import Prepared
from engine._store.rows import (
    DEFINITIONS,
    EXECUTIONS,
    HISTORY,
    OUTBOX,
    TASKS,
    THREADS,
    TIMERS,
    CreatedExecution,
    OutboxMessage,
    TaskInvocation,
    TimerKey,
    TimerRecord,
    claim_writes,
    definition_hash,
    execution_record,
    hold_task_message_write,
    invocation,
    purge_if_deleting_txn,
    text_of,
    timer_record,
    upsert,
    utc_required,
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
# What a step loads, by (thread given, lock taken).
_LOAD = {
    (False, False): Prepared(_EXECUTION),
    (False, True): Prepared(_EXECUTION_LOCKED),
    (True, False): Prepared(_EXECUTION_AND_THREAD),
    (True, True): Prepared(_EXECUTION_AND_THREAD_LOCKED),
}
_THREAD_SNAPSHOT = Prepared(select(THREADS.c.snapshot, THREADS.c.bulk).where(_THREAD_KEY))
_TASK = Prepared(
    select(TASKS).where(
        and_(
            TASKS.c.execution_id == _param("execution_id"),
            TASKS.c.thread_id == _param("thread_id"),
            TASKS.c.seq == _param("seq"),
        )
    )
)
_SAVE_THREAD = Prepared(
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
_SAVE_THREAD_LIGHT = Prepared(
    update(THREADS)
    .where(_THREAD_KEY)
    .values(status=_param("status"), seq=_param("seq"), snapshot=_param("snapshot"))
)
_SAVE_HEADER = (
    update(EXECUTIONS)
    .where(EXECUTIONS.c.id == _param("execution_id"))
    .values(header=_param("header"), status=_param("status"))
)
_SAVE_ENDED_HEADER = Prepared(_SAVE_HEADER.values(stop_date=_param("stop_date")))
_SAVE_RUNNING_HEADER = Prepared(_SAVE_HEADER)
_SAVE_REDRIVE = Prepared(
    update(EXECUTIONS)
    .where(EXECUTIONS.c.id == _param("execution_id"))
    .values(
        stop_date=None,
        redrive_count=EXECUTIONS.c.redrive_count + 1,
        redrive_date=_param("redrive_date"),
        redrive_token=_param("redrive_token"),
    )
)
_MESSAGE_KEY = and_(
    OUTBOX.c.execution_id == _param("execution_id"),
    OUTBOX.c.thread_id == _param("thread_id"),
    OUTBOX.c.seq == _param("seq"),
    OUTBOX.c.kind == _param("kind"),
)


def _insert_execution(insert_into: Any) -> Any:
    """INSERT an execution unless its ARN is taken; RETURNING the new id (none: taken).

    On PostgreSQL a concurrent insert of the same ARN waits for the other transaction,
    then finds the conflict: never a unique-violation error (ADR 0014).
    """
    statement = insert_into(EXECUTIONS).on_conflict_do_nothing(index_elements=["arn"])
    return statement.returning(EXECUTIONS.c.id)


_INSERT_EXECUTION = {
    "postgresql": Prepared(_insert_execution(postgresql.insert)),
    "sqlite": Prepared(_insert_execution(sqlite.insert)),
}
_EXECUTION_BY_ARN = select(EXECUTIONS).where(EXECUTIONS.c.arn == _param("arn"))


def _add_message(insert_into: Any) -> Any:
    """INSERT a message, or refresh the same one if it is still unconsumed.

    A message that already exists and was consumed stays as it is; the session publishes it
    anyway, and its consumer finds the seq advanced and does nothing (docs/design.md §2 rule 4). No
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
    "postgresql": Prepared(_add_message(postgresql.insert)),
    "sqlite": Prepared(_add_message(sqlite.insert)),
}
_CONSUME = Prepared(update(OUTBOX).where(_MESSAGE_KEY).values(done=True))
_ADD_HISTORY = Prepared(insert(HISTORY))
_ADD_THREADS = Prepared(insert(THREADS))
_TIMER_KEY = and_(
    TIMERS.c.execution_id == _param("execution_id"),
    TIMERS.c.thread_id == _param("thread_id"),
    TIMERS.c.seq == _param("seq"),
    TIMERS.c.kind == _param("kind"),
)
_TIMER = Prepared(select(TIMERS).where(_TIMER_KEY))
_TIMER_BY_ID = Prepared(select(TIMERS).where(TIMERS.c.id == _param("id")))
_FIRE_TIMER = Prepared(update(TIMERS).where(_TIMER_KEY).values(fired=True))
_FIRE_TIMER_BY_ID = Prepared(update(TIMERS).where(TIMERS.c.id == _param("id")).values(fired=True))
_CANCEL_TIMERS = Prepared(
    update(TIMERS)
    .where(and_(TIMERS.c.execution_id == _param("execution_id"), TIMERS.c.fired.is_(False)))
    .values(fired=True)
)

_DROP_CHILD_THREADS = Prepared(
    delete(THREADS).where(
        and_(THREADS.c.execution_id == _param("execution_id"), THREADS.c.parent_id.is_not(None))
    )
)
_DROP_CONSUMED = Prepared(
    delete(OUTBOX).where(
        and_(OUTBOX.c.execution_id == _param("execution_id"), OUTBOX.c.done.is_(True))
    )
)


def _put_timer(insert_into: Any) -> Any:
    """INSERT a timer, or move the one with the same key (and arm it again)."""
    statement = (
        insert_into(TIMERS)
        .inline()
        .values(
            execution_id=_param("execution_id"),
            thread_id=_param("thread_id"),
            seq=_param("seq"),
            kind=_param("kind"),
            due_at=bindparam("due_at"),
            fired=bindparam("fired"),
        )
    )
    return statement.on_conflict_do_update(
        index_elements=["execution_id", "thread_id", "seq", "kind"],
        set_={"due_at": statement.excluded.due_at, "fired": False},
    )


_PUT_TIMER = {
    "postgresql": Prepared(_put_timer(postgresql.insert)),
    "sqlite": Prepared(_put_timer(sqlite.insert)),
}
_PUT_TASK = Prepared(insert(TASKS))
_TASK_STATUS = Prepared(
    update(TASKS)
    .where(
        and_(
            TASKS.c.execution_id == _param("execution_id"),
            TASKS.c.thread_id == _param("thread_id"),
            TASKS.c.seq == _param("seq"),
        )
    )
    .values(status=_param("status"))
)


class StepSession:
    """The unit of work of one step: reads, then one flush and one commit of its writes.

    The checkpoint writes (header, threads, history, outbox) are buffered and sent together
    by :meth:`flush` (pipelined on PostgreSQL, one round trip): a header or thread written
    several times in one session is written once, with its last value.
    """

    def __init__(
        self,
        db: Connection,
        execution_id: int | None,
        *,
        lock: bool,
        known_definitions: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.db = db
        self.execution_id = execution_id
        self._lock = lock
        self._known_definitions = known_definitions
        self._definitions: dict[str, str] = {}  # hash -> text, stored by flush
        self._row: dict[str, Any] = {}
        self._header: Execution | None = None
        self._threads: dict[str, Thread] = {}
        self._stored: dict[str, Thread] = {}  # each thread as its row holds it
        # Rows to rewrite whole: written before the bulk column, or in an older format.
        self._unsplit: set[str] = set()
        self._absent: set[str] = set()
        self._header_applied_at: datetime | None = None  # set: the header needs writing
        self._thread_writes: dict[str, Thread] = {}
        self._history: list[dict[str, Any]] = []
        self._consumed: list[dict[str, Any]] = []
        self._outbox: list[dict[str, Any]] = []
        self._writes: list[tuple[Any, dict[str, Any]]] = []  # tasks and timers, in order
        self._map_runs: dict[str, MapRunRecord] = {}  # by ARN, written last by flush
        # Child executions by ARN, as this session moved them (redrive_count: its redrives).
        self._children: dict[str, ChildExecutionRecord] = {}
        # What the buffered task writes change, so reads see them (ADR 0011).
        self._new_tasks: dict[tuple[str, int], TaskInvocation] = {}
        self._task_changes: dict[tuple[str, int], dict[str, Any]] = {}
        self.stored_definitions: set[str] = set()  # by this session (known once committed)
        self.messages: list[OutboxMessage] = []
        # Every history event applied, kept past flush: the listeners hear of them once
        # the transaction has committed (Store.session).
        self._events: list[HistoryEvent] = []
        self._entered_before: dict[str, str] = {}
        self.folded = 0  # states entered without a message of their own (Runtime.fold_states)

    # reads

    def load(self, thread_id: str | None = None) -> bool:
        """Lock and read the execution row (and ``thread_id``'s); False when it does not exist."""
        parameters: dict[str, Any] = {"p_execution_id": self.execution_id}
        if thread_id is not None:
            parameters["p_thread_id"] = thread_id
        row = _LOAD[thread_id is not None, self._lock].first(self.db, parameters)
        if row is None:
            self._row = {}
            return False
        self._row = row
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
        if bulk is None or stored_version(snapshot) < FORMAT_VERSION:
            self._unsplit.add(thread_id)  # its next write rewrites it whole, in this format
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
    def test_case(self) -> str | None:
        """The mock config test case the execution runs, if any."""
        found = self._row.get("test_case")
        return str(found) if found is not None else None

    @property
    def definition_hash(self) -> str:
        """The definition this execution runs."""
        return str(self._row["definition_hash"])

    def definition_text(self) -> str:
        """The text of the definition this execution runs."""
        digest = self.definition_hash
        if digest in self._definitions:  # stored by this session's flush
            return self._definitions[digest]
        return text_of(self.db, digest)

    def thread(self, thread_id: str) -> Thread | None:
        """A thread of this execution (the session's latest version)."""
        if thread_id in self._threads:
            return self._threads[thread_id]
        if thread_id in self._absent:
            return None
        row = _THREAD_SNAPSHOT.first(
            self.db, {"p_execution_id": self.execution_id, "p_thread_id": thread_id}
        )
        if row is None:
            return self._remember(thread_id, None, None)
        return self._remember(thread_id, row["snapshot"], row["bulk"])

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

    def timer(self, timer: int | TimerKey) -> TimerRecord | None:
        """A timer row (locked with the execution), by key or by id."""
        if isinstance(timer, TimerKey):
            row = _TIMER.first(self.db, _timer_key(timer))
        else:  # a message sent before timers were addressed by key
            row = _TIMER_BY_ID.first(self.db, {"p_id": timer})
        return timer_record(row) if row is not None else None

    def task(self, thread_id: str, seq: int) -> TaskInvocation | None:
        """A task of this execution, with this session's unflushed changes to it."""
        key = (thread_id, seq)
        task = self._new_tasks.get(key)
        if task is None:
            key_values = {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread_id,
                "p_seq": seq,
            }
            row = _TASK.first(self.db, key_values)
            task = invocation(row) if row is not None else None
        changes = self._task_changes.get(key)
        return replace(task, **changes) if task is not None and changes else task

    # writes

    def create_execution(
        self, record: ExecutionRecord, definition_text: str, header: Execution
    ) -> CreatedExecution:
        """Insert the execution row once (``INSERT … ON CONFLICT`` on its ARN) and lock it.

        A start with the same name and input as a running execution finds that one
        (``created`` False: write nothing more); the definition text is stored with the
        step's other writes unless the store knows it is stored already.

        Raises:
            ExecutionAlreadyExists: the name is taken by an ended execution or by one that
                started with another input.
        """
        digest = definition_hash(definition_text)
        values = {
            "arn": record.arn,
            "machine_arn": record.machine_arn,
            "version_arn": record.version_arn,
            "alias_arn": record.alias_arn,
            "name": record.name,
            "type": record.type,
            "status": str(record.status),
            "start_date": record.start_date,
            "definition_hash": digest,
            "header": header_without_input(header),
            "input": header.input,
            "test_case": record.test_case,
        }
        inserted = _INSERT_EXECUTION[self.db.dialect.name].first(self.db, values)
        if inserted is None:
            return self._existing(record)
        self.execution_id = int(inserted["id"])
        if digest not in self._known_definitions:
            self._definitions[digest] = definition_text
        # Inserted by this transaction, so already locked: no need to read it back.
        self._row = {**values, "id": self.execution_id}
        self._header = header
        return CreatedExecution(self.execution_id, record, created=True)

    def _existing(self, record: ExecutionRecord) -> CreatedExecution:
        """The execution that holds ``record``'s ARN, if it answers the same start."""
        row = self.db.execute(_EXECUTION_BY_ARN, {"p_arn": record.arn}).mappings().one()
        stored = restart(execution_record(row), record)
        return CreatedExecution(int(row["id"]), stored, created=False)

    def apply(self, result: StepResult, now: datetime) -> None:
        """Record a step's new header, threads and history events (written by flush)."""
        header = result.execution
        self._header = header
        self._header_applied_at = now
        for thread in result.threads:
            before = self._threads.get(thread.id)
            if before is not None and before.entered_time:
                self._entered_before.setdefault(thread.id, before.entered_time)
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
        self._events.extend(result.history)

    def committed_step(self) -> CommittedStep | None:
        """What this session recorded, for the listeners (None: it recorded no history).

        Only meaningful once the transaction has committed (`Store.session` calls it then).
        """
        if not self._events or not self._row:
            return None
        redrive_count = int(self._row.get("redrive_count") or 0)
        started = self._row.get("redrive_date") or self._row["start_date"]
        redriven = [e for e in self._events if e.type == "ExecutionRedriven"]
        if redriven:  # this session redrove it: the run starts now
            redrive_count += 1
            started = datetime.fromisoformat(redriven[-1].timestamp)
        return CommittedStep(
            execution_arn=self.execution_arn,
            machine_arn=str(self._row["machine_arn"]),
            machine_name=self.header.state_machine_name,
            run_started=utc_required(started),
            redrive_count=redrive_count,
            events=tuple(self._events),
            entered_before=dict(self._entered_before),
        )

    def add_message(
        self,
        kind: MessageKind | str,
        thread_id: str,
        seq: int,
        *,
        available_at: datetime,
        lease_until: datetime,
        queue: str | None = None,
        shadow: str | None = None,
        timer_id: int | None = None,
        execution_id: int | None = None,
    ) -> None:
        """Queue a message in the outbox (an unconsumed copy of it is refreshed).

        ``execution_id``: the execution the message is for, when not this session's (a
        child's end completing its parent's task, a parent's end stopping its child).
        """
        kind = MessageKind(kind)
        target = execution_id if execution_id is not None else self.execution_id
        self._outbox.append(
            {
                "execution_id": target,
                "thread_id": thread_id,
                "seq": seq,
                "kind": kind.value,
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
                int(target or 0),
                thread_id,
                seq,
                kind,
                queue,
                shadow,
                timer_id,
                available_at,
                execution_arn=self._row.get("arn") if target == self.execution_id else None,
            )
        )

    def consume(self, kind: MessageKind | str, thread_id: str, seq: int) -> None:
        """Mark a message consumed (in the consumer's transaction)."""
        self._consumed.append(
            {
                "p_execution_id": self.execution_id,
                "p_thread_id": thread_id,
                "p_seq": seq,
                "p_kind": MessageKind(kind).value,
            }
        )

    def flush(self) -> None:
        """Send every buffered write (before the commit), in one round trip where it can."""
        buffered = (
            self._outbox,
            self._consumed,
            self._thread_writes,
            self._history,
            self._writes,
            self._definitions,
            self._map_runs,
            self._children,
        )
        if not any(buffered) and self._header_applied_at is None:
            return  # a read-only session: no round trip
        with pipelined(self.db):
            self._send()
        self.stored_definitions.update(self._definitions)
        self._consumed, self._thread_writes, self._history, self._outbox = [], {}, [], []
        self._writes, self._definitions, self._map_runs, self._children = [], {}, {}, {}
        self._header_applied_at = None

    def _send(self) -> None:
        for digest, text in self._definitions.items():
            self.db.execute(upsert(self.db, DEFINITIONS, ["hash"], {"hash": digest, "text": text}))
        # Messages before consumptions: a message scheduled and cancelled in the same
        # session must end consumed.
        if self._outbox:
            _ADD_MESSAGE[self.db.dialect.name].execute_many(self.db, self._outbox)
        if self._consumed:
            _CONSUME.execute_many(self.db, self._consumed)
        if self._header_applied_at is not None and self._header is not None:
            self._write_header(self._header, self._header_applied_at)
        self._write_threads(tuple(self._thread_writes.values()))
        if self._history:
            _ADD_HISTORY.execute_many(self.db, self._history)
        # Tasks and timers last, in the order decided: a timer put then cancelled stays
        # cancelled, a task inserted then claimed is claimed.
        for statement, parameters in _batches(self._writes):
            statement.execute_many(self.db, parameters)
        if self._map_runs:
            rows = [map_run_row(int(self.execution_id or 0), r) for r in self._map_runs.values()]
            self.db.execute(SAVE_MAP_RUN[self.db.dialect.name], rows)
        if self._children:
            execution_id = int(self.execution_id or 0)
            kids = [child_row(execution_id, c, c.redrive_count) for c in self._children.values()]
            self.db.execute(SAVE_CHILD[self.db.dialect.name], kids)

    def _write_header(self, header: Execution, now: datetime) -> None:
        stored_apart = "input" not in self._row["header"]
        parameters: dict[str, Any] = {
            "p_execution_id": self.execution_id,
            "p_status": header.status.value,
            "p_header": header_without_input(header) if stored_apart else execution_to_json(header),
        }
        if header.status.value == "RUNNING":
            _SAVE_RUNNING_HEADER.execute(self.db, parameters)
        else:  # it ended in this session
            _SAVE_ENDED_HEADER.execute(self.db, {**parameters, "p_stop_date": now})
            purge_if_deleting_txn(self.db, str(self._row["machine_arn"]))

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
        _SAVE_THREAD.execute_many(self.db, full)
        _SAVE_THREAD_LIGHT.execute_many(self.db, light)
        _ADD_THREADS.execute_many(self.db, new)
        for thread in threads:
            self._stored[thread.id] = thread
            self._unsplit.discard(thread.id)

    def put_timer(self, thread_id: str, seq: int, kind: str, due: datetime) -> TimerKey:
        """Create (or move) a timer; returns its key (written by flush, no id needed)."""
        key = TimerKey(int(self.execution_id or 0), thread_id, seq, str(kind))
        values = {**_timer_key(key), "due_at": due, "fired": False}
        self._write(_PUT_TIMER[self.db.dialect.name], values)
        return key

    def fire_timer(self, timer: int | TimerKey) -> None:
        """Mark a timer fired (with the step it caused)."""
        if isinstance(timer, TimerKey):
            self._write(_FIRE_TIMER, _timer_key(timer))
        else:  # a message sent before timers were addressed by key
            self._write(_FIRE_TIMER_BY_ID, {"p_id": timer})

    def put_task(self, thread_id: str, seq: int, values: dict[str, Any]) -> None:
        """Record a task the interpreter decided to run."""
        row = {"execution_id": self.execution_id, "thread_id": thread_id, "seq": seq}
        row = {**row, "status": TaskStatus.SCHEDULED.value, "claimed_until": None, **values}
        self._write(_PUT_TASK, row)
        self._new_tasks[(thread_id, seq)] = invocation(row)

    def claim_task(self, thread_id: str, seq: int, until: datetime) -> None:
        """This worker runs the task until ``until`` unless it renews the claim."""
        key = (self.execution_id, thread_id, seq)
        for statement, parameters in claim_writes(*key, until, TaskStatus.STARTED):
            self._write(statement, parameters)
        changes = {"status": TaskStatus.STARTED, "claimed_until": until}
        self._task_changes.setdefault((thread_id, seq), {}).update(changes)

    def hold_task_message(self, thread_id: str, seq: int, until: datetime) -> None:
        """Lease the task's message until ``until``: the relay resends it once that passes."""
        self._write(*hold_task_message_write(self.execution_id, thread_id, seq, until))

    def set_task_status(self, thread_id: str, seq: int, status: str) -> None:
        """Move a task to STARTED or DONE."""
        key = {"p_execution_id": self.execution_id, "p_thread_id": thread_id, "p_seq": seq}
        self._write(_TASK_STATUS, {**key, "p_status": TaskStatus(status).value})
        changes = {"status": TaskStatus(status)}
        self._task_changes.setdefault((thread_id, seq), {}).update(changes)

    def put_map_run(self, progress: RecordMapRun) -> None:
        """Record where a Map Run is (written by flush; the latest of a session wins)."""
        previous = self._map_runs.get(progress.map_run_arn)
        self._map_runs[progress.map_run_arn] = map_run_record(
            self.execution_arn, progress, previous
        )

    def put_child_execution(self, change: RecordChildExecution) -> None:
        """Record a Distributed Map child's start, end or redrive (written by flush)."""
        previous = self._children.get(change.arn)
        self._children[change.arn] = child_execution_record(self.execution_arn, change, previous)

    def record_redrive(self, now: datetime, client_token: str | None) -> None:
        """The execution runs again (RedriveExecution): count it, date it, clear its end."""
        values = {"p_redrive_date": now, "p_redrive_token": client_token}
        self._write(_SAVE_REDRIVE, {"p_execution_id": self.execution_id, **values})

    @property
    def redrive_token(self) -> str | None:
        """The clientToken of the execution's last redrive (None: never, or no token)."""
        token = self._row.get("redrive_token")
        return None if token is None else str(token)

    def cancel_timers(self) -> None:
        """Retire every unfired timer of an execution that ended (they could only be stale)."""
        self._write(_CANCEL_TIMERS, {"p_execution_id": self.execution_id})

    def drop_leftovers(self) -> None:
        """Delete every thread row but the root's, and the consumed messages, of this execution.

        For an execution that ended for good: its branches and iterations are of no
        further use (no redrive can resume them), and a Map may have left thousands. The
        consumed outbox rows would be pruned later anyway (`Store.prune_outbox`). Runs
        after this session's thread writes and consumptions.
        """
        self._write(_DROP_CHILD_THREADS, {"p_execution_id": self.execution_id})
        self._write(_DROP_CONSUMED, {"p_execution_id": self.execution_id})

    def _write(self, statement: Prepared, parameters: dict[str, Any]) -> None:
        """Buffer a task or timer write; flush sends them in order, after the checkpoint."""
        self._writes.append((statement, parameters))


def _timer_key(key: TimerKey) -> dict[str, Any]:
    return {
        "p_execution_id": key.execution_id,
        "p_thread_id": key.thread_id,
        "p_seq": key.seq,
        "p_kind": key.kind,
    }


def _batches(writes: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Runs of the same statement, in order: each run is one executemany."""
    batches: list[tuple[Any, list[dict[str, Any]]]] = []
    for statement, parameters in writes:
        if batches and batches[-1][0] is statement:
            batches[-1][1].append(parameters)
        else:
            batches.append((statement, [parameters]))
    return batches
