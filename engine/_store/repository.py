"""The one writer of the durable store.

Only `Store` opens write transactions; `engine._store.session.StepSession` works inside
one of them and `engine._store.rows` maps rows to records for both.

Every write goes through `Store`: the API's machine and execution records, and the
runtime's `StepSession`, in which one step's checkpoint (execution header and threads),
its history events, its timers, task rows and outbox messages are buffered and commit in
ONE transaction; a start is that session's ``INSERT … ON CONFLICT`` of the execution row
(ADR 0014). Readers (the API) use the plain query methods; listings come a page at a time,
keyset-paged in SQL behind opaque tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, RowMapping, Select, and_, delete, func, or_, select, update
from sqlmodel import SQLModel

from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import Thread, ThreadStatus
from engine._observe.committed import CommitListener, CommittedStep
from engine._records import (
    AliasRecord,
    ChildExecutionRecord,
    ExecutionQuery,
    ExecutionRecord,
    ExecutionSummary,
    MachineRecord,
    MapRunRecord,
    Page,
    VersionRecord,
    page_size,
)
from engine._store import map_runs
from engine._store.checkpoint import header_with_input, thread_from_parts
from engine._store.db import is_sqlite, reading_one, writing
from engine._store.kinds import MessageKind
from engine._store.prepared import Prepared
from engine._store.rows import (
    ALIASES,
    DEFINITIONS,
    EXECUTIONS,
    HISTORY,
    MACHINE_BY_ARN,
    MACHINES,
    MACHINES_LISTED,
    OUTBOX,
    TAGS,
    TASKS,
    THREADS,
    TIMERS,
    VERSION_BY_ARN,
    VERSIONS,
    VERSIONS_LISTED,
    CreatedExecution,
    OutboxMessage,
    TaskInvocation,
    TimerKey,
    TimerRecord,
    alias_record,
    alias_values,
    count,
    definition_hash,
    delete_machine_txn,
    every,
    execution_record,
    history_event,
    hold_claim,
    invocation,
    machine_record,
    machine_values,
    message,
    paged,
    parse_moment,
    position,
    purge_if_deleting_txn,
    put_definition,
    task_key,
    timer_address,
    timer_record,
    upsert,
    utc,
    utc_required,
    version_record,
    version_values,
)
from engine._store.session import StepSession

Json = Any
log = logging.getLogger("stepline.store")
# Read by every StartExecution.
_MACHINE_BY_ARN = Prepared(MACHINE_BY_ARN)
_VERSION_BY_ARN = Prepared(VERSION_BY_ARN)


@dataclass(frozen=True)
class Backlog:
    """Work the store holds that is late, read at scrape time (metrics gauges).

    Attributes:
        unconsumed_messages: outbox messages not consumed yet (published or not).
        overdue_messages: of those, the ones whose lease ran out: the relay's work.
        overdue_timers: unfired timers that are due.
        oldest_overdue_timer_seconds: how late the latest of them is (0: none).
        running_executions: RUNNING executions per state machine ARN.
    """

    unconsumed_messages: int
    overdue_messages: int
    overdue_timers: int
    oldest_overdue_timer_seconds: float
    running_executions: dict[str, int]


class Store:
    """The only module that writes to the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Hashes of definitions known to be stored. Definitions are never deleted, so a
        # start whose definition is here skips inserting it (ADR 0014).
        self._definitions: set[str] = set()
        self._listeners: dict[str, CommitListener] = {}

    def listen(self, name: str, listener: CommitListener) -> None:
        """Tell ``listener`` of every committed step that recorded history (ADR 0044).

        ``name`` keys it: listening again under the same name replaces the listener, so a
        process that wires its store twice does not count every step twice.
        """
        self._listeners[name] = listener

    def create_schema(self) -> None:
        """Create every table (tests and the embedded default; production runs migrations)."""
        SQLModel.metadata.create_all(self.engine)

    # --- state machines ---------------------------------------------------------------

    def save_machine(self, record: MachineRecord) -> None:
        """Insert or replace a machine, the versions it carries and their definitions.

        Versions already stored are left as they are (a version is immutable).
        """
        with writing(self.engine) as db:
            digest = put_definition(db, record.definition)
            values = machine_values(record, digest)
            changed = {k: v for k, v in values.items() if k not in ("arn", "creation_date")}
            db.execute(upsert(db, MACHINES, ["arn"], values, changed))
            for version in record.versions:
                db.execute(upsert(db, VERSIONS, ["arn"], version_values(db, record, version)))
        self._definitions.update(definition_hash(v.definition) for v in record.versions)
        self._definitions.add(digest)

    def machine(self, arn: str) -> MachineRecord | None:
        """The machine with ``arn`` (without its versions: see :meth:`version`), or None."""
        with reading_one(self.engine) as db:
            row = _MACHINE_BY_ARN.first(db, {"arn": arn})
        if row is None:
            return None
        self._definitions.add(row["definition_hash"])
        return machine_record(row)

    def version(self, arn: str) -> VersionRecord | None:
        """The published version with ``arn``, or None."""
        with reading_one(self.engine) as db:
            row = _VERSION_BY_ARN.first(db, {"arn": arn})
        if row is None:
            return None
        self._definitions.add(row["definition_hash"])
        return version_record(row)

    def machines(self) -> list[MachineRecord]:
        """Every machine, oldest first (without versions)."""
        return every(lambda token: self.machines_page(1000, token))

    def machines_page(self, limit: int, token: str | None) -> Page[MachineRecord]:
        """A page of machines, oldest first; ``limit`` 0 means 1000."""
        size, after = page_size(limit), position(token, 2)
        query = MACHINES_LISTED
        if after is not None:
            created = parse_moment(after[0])
            query = query.where(
                or_(
                    MACHINES.c.creation_date > created,
                    and_(MACHINES.c.creation_date == created, MACHINES.c.arn > str(after[1])),
                )
            )
        with self.engine.connect() as db:
            rows = db.execute(query.limit(size + 1)).mappings().all()
        records = [machine_record(row) for row in rows]
        return paged(records, size, lambda m: [m.creation_date.isoformat(), m.arn])

    def versions_page(self, machine_arn: str, limit: int, token: str | None) -> Page[VersionRecord]:
        """A page of a machine's versions, newest first."""
        size, after = page_size(limit), position(token, 1)
        query = VERSIONS_LISTED.where(VERSIONS.c.machine_arn == machine_arn)
        if after is not None:
            query = query.where(VERSIONS.c.number < int(after[0]))
        with self.engine.connect() as db:
            rows = db.execute(query.limit(size + 1)).mappings().all()
        return paged([version_record(row) for row in rows], size, lambda v: [v.number])

    def delete_machine(self, arn: str) -> None:
        """Delete a machine, its versions, aliases and tags (executions stay readable)."""
        with writing(self.engine) as db:
            delete_machine_txn(db, arn)

    def purge_if_deleting(self, arn: str) -> None:
        """Delete the DELETING machine ``arn`` if none of its executions runs any more."""
        with writing(self.engine) as db:
            purge_if_deleting_txn(db, arn)

    def delete_version(self, arn: str) -> None:
        """Delete a published version (its number is never reused: the machine keeps it)."""
        with writing(self.engine) as db:
            db.execute(delete(VERSIONS).where(VERSIONS.c.arn == arn))

    # --- aliases and tags -----------------------------------------------------------------

    def save_alias(self, record: AliasRecord) -> None:
        """Insert or replace an alias."""
        values = alias_values(record)
        changed = {k: v for k, v in values.items() if k not in ("arn", "creation_date")}
        with writing(self.engine) as db:
            db.execute(upsert(db, ALIASES, ["arn"], values, changed))

    def alias(self, arn: str) -> AliasRecord | None:
        """The alias with ``arn``, or None."""
        with self.engine.connect() as db:
            row = db.execute(select(ALIASES).where(ALIASES.c.arn == arn)).mappings().first()
        return alias_record(row) if row is not None else None

    def aliases_page(self, machine_arn: str, limit: int, token: str | None) -> Page[AliasRecord]:
        """A page of a machine's aliases, by name."""
        size, after = page_size(limit), position(token, 1)
        query = select(ALIASES).where(ALIASES.c.machine_arn == machine_arn)
        if after is not None:
            query = query.where(ALIASES.c.name > str(after[0]))
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(ALIASES.c.name).limit(size + 1)).mappings().all()
        return paged([alias_record(row) for row in rows], size, lambda a: [a.name])

    def delete_alias(self, arn: str) -> None:
        """Delete an alias and its tags."""
        with writing(self.engine) as db:
            db.execute(delete(TAGS).where(TAGS.c.arn == arn))
            db.execute(delete(ALIASES).where(ALIASES.c.arn == arn))

    def tags(self, arn: str) -> dict[str, str]:
        """The tags of resource ``arn`` (empty when it has none)."""
        with self.engine.connect() as db:
            tags = db.scalar(select(TAGS.c.tags).where(TAGS.c.arn == arn))
        return dict(tags or {})

    def save_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace the tags of resource ``arn`` (no tags: its row goes)."""
        with writing(self.engine) as db:
            db.execute(delete(TAGS).where(TAGS.c.arn == arn))
            if tags:
                db.execute(TAGS.insert().values(arn=arn, tags=tags))

    def definition(self, digest: str) -> str:
        """The definition text stored under ``digest``."""
        with self.engine.connect() as db:
            text = db.scalar(select(DEFINITIONS.c.text).where(DEFINITIONS.c.hash == digest))
        if text is None:
            raise LookupError(f"definition {digest} is not stored")
        return str(text)

    # --- executions: reads ---------------------------------------------------------------

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with ``arn`` (no history), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(EXECUTIONS).where(EXECUTIONS.c.arn == arn)).mappings().first()
        return execution_record(row) if row is not None else None

    def execution_definition(self, arn: str) -> tuple[str, str] | None:
        """The definition text and role the execution ``arn`` runs with, or None."""
        query = (
            select(EXECUTIONS.c.header, EXECUTIONS.c.input, DEFINITIONS.c.text)
            .join(DEFINITIONS, DEFINITIONS.c.hash == EXECUTIONS.c.definition_hash)
            .where(EXECUTIONS.c.arn == arn)
        )
        with self.engine.connect() as db:
            row = db.execute(query).mappings().first()
        if row is None:
            return None
        return str(row["text"]), header_with_input(row["header"], row["input"]).role_arn

    def map_run(self, arn: str) -> MapRunRecord | None:
        """The Map Run ``arn``, or None."""
        with self.engine.connect() as db:
            return map_runs.map_run(db, arn)

    def map_runs(self, execution_arn: str) -> list[MapRunRecord]:
        """The Map Runs of an execution, newest first."""
        with self.engine.connect() as db:
            return map_runs.map_runs(db, execution_arn)

    def child_execution(self, arn: str) -> ChildExecutionRecord | None:
        """The Distributed Map child execution ``arn``, or None."""
        with self.engine.connect() as db:
            return map_runs.child_execution(db, arn)

    def child_executions(self, map_run_arn: str) -> list[ChildExecutionRecord]:
        """Every child execution of a Map Run, in index order."""
        with self.engine.connect() as db:
            return map_runs.child_executions(db, map_run_arn)

    def execution_id(self, arn: str) -> int | None:
        """The row id of the execution with ``arn``."""
        with self.engine.connect() as db:
            return db.scalar(select(EXECUTIONS.c.id).where(EXECUTIONS.c.arn == arn))

    def execution_by_id(self, execution_id: int) -> ExecutionRecord | None:
        """The execution with row id ``execution_id``."""
        with self.engine.connect() as db:
            row = (
                db.execute(select(EXECUTIONS).where(EXECUTIONS.c.id == execution_id))
                .mappings()
                .first()
            )
        return execution_record(row) if row is not None else None

    def executions(self, machine_arn: str) -> list[ExecutionRecord]:
        """A machine's executions, newest first (every one: tests and diagnostics)."""
        return every(lambda token: self.executions_page(machine_arn, limit=1000, token=token))

    def executions_page(
        self,
        machine_arn: str,
        *,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        status: str | None = None,
        redriven: bool | None = None,
        limit: int = 0,
        token: str | None = None,
    ) -> Page[ExecutionRecord]:
        """A page of a machine's executions, newest first, filtered in SQL.

        ``redriven``: only executions redriven at least once (True) or never (False).

        Keyset paging on ``(start_date, id)``: a page costs the same however many
        executions are stored (index ``ix_executions_machine_start``).
        """
        size, after = page_size(limit), position(token, 2)
        query = select(EXECUTIONS).where(EXECUTIONS.c.machine_arn == machine_arn)
        if version_arn is not None:
            query = query.where(EXECUTIONS.c.version_arn == version_arn)
        if alias_arn is not None:
            query = query.where(EXECUTIONS.c.alias_arn == alias_arn)
        if status is not None:
            query = query.where(EXECUTIONS.c.status == status)
        if redriven is not None:
            count = EXECUTIONS.c.redrive_count
            query = query.where(count > 0 if redriven else count == 0)
        rows = self._newest_executions(query, after, size)
        keys = {row["arn"]: row["id"] for row in rows}
        records = [execution_record(row) for row in rows]
        return paged(records, size, lambda r: [r.start_date.isoformat(), keys[r.arn]])

    def search_executions(
        self, query: ExecutionQuery, *, limit: int = 50, token: str | None = None
    ) -> Page[ExecutionSummary]:
        """A page of executions of any machine, newest first, for the console.

        Keyset paging on ``(start_date, id)`` over the indexes of migration 0011
        (``ix_executions_start``, ``ix_executions_status_start``): a page costs about the
        same with 100,000 executions stored. A name search reads the newest rows until the
        page is full, so a rare name costs a scan of the index, never a sort.
        """
        size, after = page_size(limit), position(token, 2)
        columns = [EXECUTIONS.c[name] for name in _SUMMARY_COLUMNS]
        statement = select(*columns, EXECUTIONS.c.id)
        if query.machine_arn is not None:
            statement = statement.where(EXECUTIONS.c.machine_arn == query.machine_arn)
        if query.status is not None:
            statement = statement.where(EXECUTIONS.c.status == query.status)
        if query.name:
            name = func.lower(EXECUTIONS.c.name)
            statement = statement.where(name.contains(query.name.lower(), autoescape=True))
        rows = self._newest_executions(statement, after, size)
        keys = {row["arn"]: row["id"] for row in rows}
        items = [_summary(row) for row in rows]
        return paged(items, size, lambda r: [r.start_date.isoformat(), keys[r.arn]])

    def _newest_executions(
        self, statement: Select[Any], after: list[Json] | None, size: int
    ) -> Sequence[RowMapping]:
        """Up to ``size + 1`` rows of ``statement``, newest first, after the keyset ``after``.

        ``after``: the ``[start_date, id]`` of the previous page's last row.
        """
        if after is not None:
            started, row_id = parse_moment(after[0]), int(after[1])
            statement = statement.where(
                or_(
                    EXECUTIONS.c.start_date < started,
                    and_(EXECUTIONS.c.start_date == started, EXECUTIONS.c.id < row_id),
                )
            )
        statement = statement.order_by(EXECUTIONS.c.start_date.desc(), EXECUTIONS.c.id.desc())
        with self.engine.connect() as db:
            return db.execute(statement.limit(size + 1)).mappings().all()

    def history(self, arn: str) -> list[HistoryEvent]:
        """An execution's whole history, oldest first."""
        return every(lambda token: self.history_page(arn, limit=1000, token=token))

    def history_page(
        self, arn: str, *, limit: int = 0, reverse: bool = False, token: str | None = None
    ) -> Page[HistoryEvent]:
        """A page of an execution's history (oldest first, or newest first if ``reverse``)."""
        size, after = page_size(limit), position(token, 1)
        query = select(HISTORY).join(EXECUTIONS, EXECUTIONS.c.id == HISTORY.c.execution_id)
        query = query.where(EXECUTIONS.c.arn == arn)
        if after is not None:
            seen = int(after[0])
            query = query.where(HISTORY.c.event_id < seen if reverse else HISTORY.c.event_id > seen)
        order = HISTORY.c.event_id.desc() if reverse else HISTORY.c.event_id
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(order).limit(size + 1)).mappings().all()
        return paged([history_event(row) for row in rows], size, lambda e: [e.id])

    def threads(self, execution_id: int) -> list[Thread]:
        """Every thread of an execution (diagnostics and tests)."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(THREADS.c.snapshot, THREADS.c.bulk).where(
                    THREADS.c.execution_id == execution_id
                )
            ).all()
        return [thread_from_parts(snapshot, bulk) for snapshot, bulk in rows]

    def count_running(self, execution_id: int, parent_id: str) -> int:
        """How many children of ``parent_id`` run right now (MaxConcurrency checks)."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(THREADS.c.thread_id).where(
                    and_(
                        THREADS.c.execution_id == execution_id,
                        THREADS.c.parent_id == parent_id,
                        THREADS.c.status == ThreadStatus.RUNNING.value,
                    )
                )
            ).all()
        return len(rows)

    # --- runtime ------------------------------------------------------------------------

    @contextmanager
    def session(self, execution_id: int | None = None) -> Iterator[StepSession]:
        """One transaction; the execution's row is locked for its duration.

        The session's buffered writes are flushed when the block ends normally, then
        everything commits; an exception rolls everything back.
        """
        lock = not is_sqlite(self.engine)
        with writing(self.engine) as db:
            session = StepSession(db, execution_id, lock=lock, known_definitions=self._definitions)
            yield session
            session.flush()
        self._definitions.update(session.stored_definitions)  # committed
        if self._listeners:
            self._tell_listeners(session.committed_step())

    def _tell_listeners(self, step: CommittedStep | None) -> None:
        """After the commit: what is reported is true, and a failing listener undoes nothing."""
        if step is None:
            return
        for name, listener in list(self._listeners.items()):
            try:
                listener(step)
            except Exception:  # metrics and logs must never fail a committed step
                log.warning("commit listener %s failed", name, exc_info=True)

    def task(self, execution_id: int, thread_id: str, seq: int) -> TaskInvocation | None:
        """A task row (tests and diagnostics; a worker gets it from its claim)."""
        with self.engine.connect() as db:
            query = select(TASKS).where(task_key(execution_id, thread_id, seq))
            row = db.execute(query).mappings().first()
        return invocation(row) if row is not None else None

    def task_by_token(self, token: str) -> TaskInvocation | None:
        """The task waiting for the callback ``token``."""
        with self.engine.connect() as db:
            row = db.execute(select(TASKS).where(TASKS.c.task_token == token)).mappings().first()
        return invocation(row) if row is not None else None

    def due_outbox(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Unconsumed messages whose lease expired (or that were never published)."""
        with self.engine.connect() as db:
            rows = (
                db.execute(
                    # The ARN only labels the Celery message for operators (Flower).
                    select(OUTBOX, EXECUTIONS.c.arn.label("execution_arn"))
                    .select_from(
                        OUTBOX.outerjoin(EXECUTIONS, EXECUTIONS.c.id == OUTBOX.c.execution_id)
                    )
                    .where(and_(OUTBOX.c.done.is_(False), OUTBOX.c.lease_until <= now))
                    .order_by(OUTBOX.c.lease_until)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [message(row) for row in rows]

    def prune_outbox(self, consumed_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` consumed messages whose last lease ended before then.

        A consumed row only keeps a late duplicate of its message from being queued
        again; once old, a duplicate is ignored by its consumer anyway (its seq advanced).
        """
        old = (
            select(OUTBOX.c.id)
            .where(and_(OUTBOX.c.done.is_(True), OUTBOX.c.lease_until < consumed_before))
            .limit(limit)
        )
        with writing(self.engine) as db:
            result = db.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(old.scalar_subquery())))
        return int(result.rowcount or 0)

    def lease(self, ids: list[int], until: datetime, *, sent: bool = True) -> None:
        """Extend the lease of outbox rows (after publishing, or while a handler runs)."""
        if not ids:
            return
        with writing(self.engine) as db:
            values: dict[str, Any] = {"lease_until": until}
            if sent:
                values["sends"] = OUTBOX.c.sends + 1
            db.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(values))

    def due_now(self, messages: list[OutboxMessage], now: datetime) -> None:
        """Make unconsumed ``messages`` due at ``now`` (their publish failed)."""
        with writing(self.engine) as db:
            for message in messages:
                db.execute(
                    update(OUTBOX)
                    .where(
                        and_(
                            OUTBOX.c.execution_id == message.execution_id,
                            OUTBOX.c.thread_id == message.thread_id,
                            OUTBOX.c.seq == message.seq,
                            OUTBOX.c.kind == MessageKind(message.kind).value,
                            OUTBOX.c.done.is_(False),
                        )
                    )
                    .values(lease_until=now)
                )

    def due_execution(self, execution_id: int, now: datetime) -> int:
        """Make every unconsumed message of one execution due at ``now``; returns how many.

        ``stepline resume``: the run that published them is gone, and what its worker held
        must not wait for a lease. A message still queued is sent twice, and its duplicate
        finds its seq advanced.
        """
        pending = and_(
            OUTBOX.c.execution_id == execution_id,
            OUTBOX.c.done.is_(False),
            OUTBOX.c.lease_until > now,
        )
        with writing(self.engine) as db:
            result = db.execute(update(OUTBOX).where(pending).values(lease_until=now))
        return int(result.rowcount or 0)

    def lease_task(self, execution_id: int, thread_id: str, seq: int, until: datetime) -> None:
        """Renew a running handler's claim on its task and the lease of its message."""
        with writing(self.engine) as db:
            hold_claim(db, execution_id, thread_id, seq, until)

    def due_timers(self, now: datetime, limit: int) -> list[TimerKey]:
        """Keys of timers that are due and not fired, earliest first."""
        query = (
            select(TIMERS)
            .where(and_(TIMERS.c.fired.is_(False), TIMERS.c.due_at <= now))
            .order_by(TIMERS.c.due_at)
            .limit(limit)
        )
        with self.engine.connect() as db:
            return [timer_record(row).key for row in db.execute(query).mappings()]

    def next_timer_due(self) -> datetime | None:
        """When the earliest unfired timer is due (test drivers jump a fake clock there)."""
        with self.engine.connect() as db:
            due = db.scalar(
                select(TIMERS.c.due_at)
                .where(TIMERS.c.fired.is_(False))
                .order_by(TIMERS.c.due_at)
                .limit(1)
            )
        return utc(due)

    def timer_execution(self, timer: TimerKey | int) -> int | None:
        """The execution a timer belongs to (a key names it; an id is looked up)."""
        if isinstance(timer, TimerKey):
            return timer.execution_id
        with self.engine.connect() as db:
            return db.scalar(select(TIMERS.c.execution_id).where(TIMERS.c.id == timer))

    def logging_configuration(self, machine_arn: str) -> Json:
        """The state machine's loggingConfiguration as stored (None: none, or no machine)."""
        query = select(MACHINES.c.logging_configuration).where(MACHINES.c.arn == machine_arn)
        with self.engine.connect() as db:
            return db.scalar(query)

    def backlog(self, now: datetime) -> Backlog:
        """How much late work the store holds right now (each count is one indexed query)."""
        unconsumed = OUTBOX.c.done.is_(False)
        due = and_(TIMERS.c.fired.is_(False), TIMERS.c.due_at <= now)
        running = (
            select(EXECUTIONS.c.machine_arn, count())
            .where(EXECUTIONS.c.status == "RUNNING")
            .group_by(EXECUTIONS.c.machine_arn)
        )
        with self.engine.connect() as db:
            messages = db.scalar(select(count()).select_from(OUTBOX).where(unconsumed))
            overdue = db.scalar(
                select(count()).select_from(OUTBOX).where(unconsumed, OUTBOX.c.lease_until <= now)
            )
            timers = db.scalar(select(count()).select_from(TIMERS).where(due))
            first_due = select(TIMERS.c.due_at).where(due).order_by(TIMERS.c.due_at).limit(1)
            oldest = utc(db.scalar(first_due))
            per_machine = {str(arn): int(n) for arn, n in db.execute(running)}
        return Backlog(
            unconsumed_messages=int(messages or 0),
            overdue_messages=int(overdue or 0),
            overdue_timers=int(timers or 0),
            oldest_overdue_timer_seconds=(now - oldest).total_seconds() if oldest else 0.0,
            running_executions=per_machine,
        )

    def counts(self) -> dict[str, int]:
        """Row counts per table (benchmarks and diagnostics)."""
        with self.engine.connect() as db:
            return {
                table.name: int(db.scalar(select(count()).select_from(table)) or 0)
                for table in (EXECUTIONS, THREADS, HISTORY, TIMERS, TASKS, OUTBOX)
            }


__all__ = [
    "Backlog",
    "CreatedExecution",
    "OutboxMessage",
    "StepSession",
    "Store",
    "TaskInvocation",
    "TimerKey",
    "TimerRecord",
    "definition_hash",
    "timer_address",
    "utc",
    "utc_required",
]


_SUMMARY_COLUMNS = (
    "arn",
    "machine_arn",
    "name",
    "status",
    "start_date",
    "stop_date",
    "redrive_count",
)


def _summary(row: Any) -> ExecutionSummary:
    return ExecutionSummary(
        arn=row["arn"],
        machine_arn=row["machine_arn"],
        name=row["name"],
        status=row["status"],
        start_date=utc_required(row["start_date"]),
        stop_date=utc(row["stop_date"]),
        redrive_count=row["redrive_count"] or 0,
    )
