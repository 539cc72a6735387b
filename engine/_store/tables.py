"""SQLModel tables of the durable store.

Layout: machines and versions (what users create), definitions (deduplicated by hash),
executions (one row per run, holding the checkpoint header), threads (one row per
root/branch/iteration, holding its snapshot), history events, timers, tasks (pending
handler invocations) and the outbox (messages committed with the step that decided
them, published after commit, republished by the relay when their lease expires).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

Json = Any
# 64-bit ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _utc() -> Any:
    return Column(DateTime(timezone=True), nullable=True)


class DefinitionRow(SQLModel, table=True):
    """A definition text, stored once per distinct content."""

    __tablename__ = "definitions"

    hash: str = Field(primary_key=True, max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))


class MachineRow(SQLModel, table=True):
    """A state machine (its latest revision)."""

    __tablename__ = "state_machines"

    arn: str = Field(primary_key=True, max_length=256)
    name: str = Field(index=True, max_length=80)
    type: str = Field(max_length=16)
    definition_hash: str = Field(max_length=64)
    role_arn: str = Field(max_length=256)
    status: str = Field(default="ACTIVE", max_length=16)
    creation_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    update_date: datetime | None = Field(default=None, sa_column=_utc())
    revision_id: str = Field(default="", max_length=64)
    description: str | None = Field(default=None, sa_column=Column(Text))
    logging_configuration: Json = Field(default=None, sa_column=Column(JSON))
    tracing_configuration: Json = Field(default=None, sa_column=Column(JSON))
    # The highest version number ever published: a deleted version's number is never reused.
    last_version_number: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class VersionRow(SQLModel, table=True):
    """A published, immutable version of a state machine."""

    __tablename__ = "state_machine_versions"
    __table_args__ = (UniqueConstraint("machine_arn", "number"),)

    arn: str = Field(primary_key=True, max_length=256)
    machine_arn: str = Field(index=True, max_length=256)
    number: int
    definition_hash: str = Field(max_length=64)
    role_arn: str = Field(max_length=256)
    creation_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    revision_id: str | None = Field(default=None, max_length=64)


class AliasRow(SQLModel, table=True):
    """A state machine alias: a name routing executions to one or two versions by weight."""

    __tablename__ = "state_machine_aliases"

    arn: str = Field(primary_key=True, max_length=512)
    machine_arn: str = Field(index=True, max_length=256)
    name: str = Field(max_length=80)
    description: str | None = Field(default=None, sa_column=Column(Text))
    routing: Json = Field(sa_column=Column(JSON, nullable=False))
    creation_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    update_date: datetime | None = Field(default=None, sa_column=_utc())


class TagsRow(SQLModel, table=True):
    """The tags of one resource (a state machine or an activity), as a key → value object."""

    __tablename__ = "resource_tags"

    arn: str = Field(primary_key=True, max_length=512)
    tags: Json = Field(sa_column=Column(JSON, nullable=False))


class ExecutionRow(SQLModel, table=True):
    """One execution; ``header`` is the checkpoint's execution-wide part."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_machine_start", "machine_arn", "start_date"),
        # The console lists every machine's executions, newest first, by status (0011).
        Index("ix_executions_start", "start_date", "id"),
        Index("ix_executions_status_start", "status", "start_date", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True)
    )
    arn: str = Field(unique=True, max_length=512)
    machine_arn: str = Field(max_length=256)
    version_arn: str | None = Field(default=None, max_length=256)
    alias_arn: str | None = Field(default=None, max_length=512)
    name: str = Field(max_length=80)
    type: str = Field(max_length=16)
    status: str = Field(index=True, max_length=16)
    start_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stop_date: datetime | None = Field(default=None, sa_column=_utc())
    definition_hash: str = Field(max_length=64)
    header: Json = Field(sa_column=Column(JSON, nullable=False))
    # Written once at start; kept out of ``header`` so a step does not rewrite it (ADR 0012).
    input: Json = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The mock config test case it runs (StartExecution with ``ARN#CASE``); its worker
    # answers the Tasks the case lists from their mocked responses (ADR 0029).
    test_case: str | None = Field(default=None, max_length=256)
    # RedriveExecution: ListExecutions filters on the count, so it is a column of its own.
    redrive_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    redrive_date: datetime | None = Field(default=None, sa_column=_utc())
    redrive_token: str | None = Field(default=None, max_length=64)


class MapRunRow(SQLModel, table=True):
    """A Distributed Map's Map Run: where it is, as the interpreter last recorded it."""

    __tablename__ = "map_runs"
    __table_args__ = (Index("ix_map_runs_execution", "execution_id", "start_date"),)

    arn: str = Field(primary_key=True, max_length=700)
    execution_id: int = Field(sa_column=Column(BigId, nullable=False))
    thread_id: str = Field(max_length=512)
    status: str = Field(max_length=16)
    start_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stop_date: datetime | None = Field(default=None, sa_column=_utc())
    max_concurrency: int = Field(default=0)
    tolerated_failure_count: int = Field(default=0)
    tolerated_failure_percentage: float = Field(default=0.0)
    execution_counts: Json = Field(sa_column=Column(JSON, nullable=False))
    item_counts: Json = Field(sa_column=Column(JSON, nullable=False))


class MapRunExecutionRow(SQLModel, table=True):
    """A Distributed Map's child execution, as the interpreter last recorded it (ADR 0034)."""

    __tablename__ = "map_run_executions"
    __table_args__ = (Index("ix_map_run_executions_run", "map_run_arn", "child_index"),)

    arn: str = Field(primary_key=True, max_length=800)
    map_run_arn: str = Field(max_length=700)
    execution_id: int = Field(sa_column=Column(BigId, nullable=False))
    child_index: int
    status: str = Field(max_length=16)
    start_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    stop_date: datetime | None = Field(default=None, sa_column=_utc())
    item_count: int = Field(default=1)
    input: Json = Field(default=None, sa_column=Column(JSON, nullable=True))
    output: Json = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cause: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    redrive_count: int = Field(default=0)
    redrive_date: datetime | None = Field(default=None, sa_column=_utc())


class ThreadRow(SQLModel, table=True):
    """One thread's snapshot (root, Parallel branch or Map iteration)."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_parent", "execution_id", "parent_id", "status"),)

    execution_id: int = Field(sa_column=Column(BigId, primary_key=True))
    thread_id: str = Field(primary_key=True, max_length=512)
    parent_id: str | None = Field(default=None, max_length=512)
    status: str = Field(max_length=16)
    seq: int
    snapshot: Json = Field(sa_column=Column(JSON, nullable=False))
    # The thread's large values (input, effective input, variables, output), rewritten only
    # when one of them changes: a Map parent counts its children without rewriting its
    # items (ADR 0012). NULL: the row predates the split and ``snapshot`` holds everything.
    bulk: Json = Field(default=None, sa_column=Column(JSON, nullable=True))


class HistoryRow(SQLModel, table=True):
    """One history event."""

    __tablename__ = "history_events"

    execution_id: int = Field(sa_column=Column(BigId, primary_key=True))
    event_id: int = Field(primary_key=True)
    previous_event_id: int
    type: str = Field(max_length=64)
    timestamp: str = Field(max_length=32)
    thread_id: str = Field(default="", max_length=512)
    details: Json = Field(sa_column=Column(JSON, nullable=False))


class TimerRow(SQLModel, table=True):
    """A durable timer: a Wait, a retry backoff, a task deadline, the execution timeout."""

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("execution_id", "thread_id", "seq", "kind"),
        Index("ix_timers_due", "fired", "due_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True)
    )
    execution_id: int = Field(sa_column=Column(BigId, nullable=False))
    thread_id: str = Field(max_length=512)
    seq: int
    kind: str = Field(max_length=32)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    fired: bool = Field(default=False)


class TaskRow(SQLModel, table=True):
    """A Task invocation the interpreter decided: what to run, and how far it got."""

    __tablename__ = "tasks"
    # GetActivityTask polls for an activity's waiting tasks several times a second.
    __table_args__ = (Index("ix_tasks_resource_status", "resource", "status"),)

    execution_id: int = Field(sa_column=Column(BigId, primary_key=True))
    thread_id: str = Field(primary_key=True, max_length=512)
    seq: int = Field(primary_key=True)
    resource: str = Field(max_length=512)
    parameters: Json = Field(sa_column=Column(JSON))
    state_name: str = Field(max_length=80)
    attempt: int = 0
    task_token: str | None = Field(default=None, unique=True, max_length=128)
    status: str = Field(default="SCHEDULED", max_length=16)  # SCHEDULED|STARTED|DONE
    claimed_until: datetime | None = Field(default=None, sa_column=_utc())


class OutboxRow(SQLModel, table=True):
    """A message committed with the step that decided it.

    Published after commit; consumed (``done``) in the consumer's own transaction; the
    relay republishes rows whose lease expired without being consumed.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("execution_id", "thread_id", "seq", "kind"),
        Index("ix_outbox_pending", "done", "lease_until"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True)
    )
    execution_id: int = Field(sa_column=Column(BigId, nullable=False))
    thread_id: str = Field(max_length=512)
    seq: int
    kind: str = Field(max_length=16)  # step | task | timer
    queue: str | None = Field(default=None, max_length=200)
    shadow: str | None = Field(default=None, max_length=300)
    timer_id: int | None = Field(default=None, sa_column=Column(BigId))
    available_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lease_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sends: int = 0
    done: bool = Field(default=False)


class WorkerRow(SQLModel, table=True):
    """A worker's announcement: the queues it consumes and the resources it can run.

    Written when a worker starts and refreshed while it lives, so the runtime can tell a
    handler no worker serves (fail at once, as AWS) from one whose workers are down (wait).
    """

    __tablename__ = "workers"

    name: str = Field(primary_key=True, max_length=200)
    queues: Json = Field(sa_column=Column(JSON, nullable=False))
    handlers: Json = Field(sa_column=Column(JSON, nullable=False))
    integrations: Json = Field(sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The messages it held at its last heartbeat: resent at once should it fall silent.
    inflight: Json = Field(default=None, sa_column=Column(JSON))


class DutyRow(SQLModel, table=True):
    """Who runs a fleet-wide duty (the relay and due timers) until when (ADR 0035).

    Any worker may take an expired duty, so recovery never waits on one beat process.
    """

    __tablename__ = "duties"

    name: str = Field(primary_key=True, max_length=80)
    holder: str = Field(max_length=200)
    until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class QueueRow(SQLModel, table=True):
    """A named message queue (``sqs:sendMessage``'s QueueUrl), self-hosted on the store."""

    __tablename__ = "queues"

    name: str = Field(primary_key=True, max_length=80)
    url: str = Field(max_length=512)
    attributes: Json = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class QueueMessageRow(SQLModel, table=True):
    """A message on a queue, kept until a consumer deletes it (nothing lost while none runs)."""

    __tablename__ = "queue_messages"
    __table_args__ = (Index("ix_queue_messages_visible", "queue", "deleted", "visible_at"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True)
    )
    message_id: str = Field(unique=True, max_length=64)
    queue: str = Field(max_length=80)
    body: str = Field(sa_column=Column(Text, nullable=False))
    attributes: Json = Field(default=None, sa_column=Column(JSON))
    task_token: str | None = Field(default=None, max_length=128)
    sent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    visible_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    receive_count: int = 0
    receipt: str | None = Field(default=None, max_length=64)
    deleted: bool = Field(default=False)


class TopicRow(SQLModel, table=True):
    """A topic (``sns:publish``'s TopicArn): a message fans out to every subscribed queue."""

    __tablename__ = "topics"

    name: str = Field(primary_key=True, max_length=256)
    arn: str = Field(unique=True, max_length=512)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SubscriptionRow(SQLModel, table=True):
    """A topic's subscription: deliver each published message to a queue."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("topic", "endpoint"),)

    arn: str = Field(primary_key=True, max_length=512)
    topic: str = Field(max_length=256)
    protocol: str = Field(max_length=16)
    endpoint: str = Field(max_length=512)
    attributes: Json = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EventRuleRow(SQLModel, table=True):
    """An event bus rule: an EventBridge pattern and the targets of the events it matches."""

    __tablename__ = "event_rules"

    bus: str = Field(primary_key=True, max_length=256)
    name: str = Field(primary_key=True, max_length=64)
    arn: str = Field(unique=True, max_length=512)
    pattern: Json = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(default="ENABLED", max_length=16)
    targets: Json = Field(sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EventBusRow(SQLModel, table=True):
    """A custom event bus (the ``default`` bus always exists and has no row)."""

    __tablename__ = "event_buses"

    name: str = Field(primary_key=True, max_length=256)
    arn: str = Field(unique=True, max_length=512)
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ActivityRow(SQLModel, table=True):
    """An activity: Task states with its ARN wait for a worker polling GetActivityTask."""

    __tablename__ = "activities"

    arn: str = Field(primary_key=True, max_length=256)
    name: str = Field(unique=True, max_length=80)
    creation_date: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ChildExecutionRow(SQLModel, table=True):
    """A child execution started by a parent's ``states:startExecution`` Task.

    The parent's task address, so the child's end completes a ``.sync``/``.sync:2`` task and
    stopping the parent stops the child.
    """

    __tablename__ = "child_executions"
    __table_args__ = (Index("ix_child_executions_parent", "parent_execution_id"),)

    child_arn: str = Field(primary_key=True, max_length=512)
    parent_execution_id: int = Field(sa_column=Column(BigId, nullable=False))
    parent_thread_id: str = Field(max_length=512)
    parent_seq: int
    pattern: str = Field(max_length=32)


class ContinuationRow(SQLModel, table=True):
    """What a Celery canvas does once an execution ends (``stepline.run_execution``).

    The rest of the chain (and any linked callbacks) as Celery signature dicts, sent with
    the execution's output by the ``stepline.housekeeping.send_continuations`` job (ADR 0020).
    """

    __tablename__ = "continuations"

    execution_arn: str = Field(primary_key=True, max_length=512)
    signatures: Json = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
