"""Queues on the store, with SQS's semantics (tables ``queues`` and ``queue_messages``).

A message stays until a consumer deletes it, so nothing is lost while no consumer runs.
Receiving hides a message for its visibility timeout and hands out a fresh receipt; a
message received but not deleted in time becomes visible again (at-least-once, as SQS).
A long poll waits up to ``wait_seconds`` for a message, reading the table every
`POLL_INTERVAL_SECONDS` on the caller's clock (a fake clock makes it instant).

Every function takes the store's SQLAlchemy engine and accepts a queue as a name, an
SQS-style URL or an SQS ARN (`engine._messaging.names`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine._clock import Clock
from engine._messaging.names import queue_name, queue_url
from engine._store.db import is_sqlite, writing
from engine._store.rows import utc_required
from engine._store.tables import QueueMessageRow, QueueRow

Json = Any
QUEUES = QueueRow.__table__  # type: ignore[attr-defined]
MESSAGES = QueueMessageRow.__table__  # type: ignore[attr-defined]

DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS's default, in seconds
MAX_VISIBILITY_TIMEOUT = 12 * 60 * 60  # SQS's limit: 12 hours
MAX_WAIT_SECONDS = 20  # SQS's longest long poll
MAX_DELAY_SECONDS = 15 * 60  # SQS's longest DelaySeconds
MAX_MESSAGES = 10  # SQS's MaxNumberOfMessages limit
DEFAULT_RETENTION = 4 * 24 * 60 * 60  # SQS's default MessageRetentionPeriod, in seconds
POLL_INTERVAL_SECONDS = 0.2  # how often a long poll reads the table again


class QueueDoesNotExist(ValueError):
    """The queue named does not exist (SQS's ``AWS.SimpleQueueService.NonExistentQueue``)."""


class QueueAlreadyExists(ValueError):
    """A queue of that name exists with other attributes (SQS's ``QueueNameExists``)."""


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as a receive hands it out.

    Attributes:
        message_id: the message's id (SQS's MessageId).
        body: the message's text.
        attributes: its MessageAttributes (``{name: {"DataType", "StringValue"}}``) or None.
        task_token: the callback token of the ``.waitForTaskToken`` task that sent it.
        receipt: this receive's receipt handle (delete or change visibility with it).
        receive_count: how many times it was received, this time included.
        sent_at: when it was sent.
    """

    message_id: str
    body: str
    attributes: Json
    task_token: str | None
    receipt: str
    receive_count: int
    sent_at: datetime

    @property
    def md5_of_body(self) -> str:
        """The MD5 hex digest of the body (SQS's MD5OfBody)."""
        return md5_hex(self.body)


def md5_hex(text: str) -> str:
    """The MD5 hex digest of ``text`` as UTF-8 (SQS's checksum, not a security measure)."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def create_queue(engine: Engine, name: str, attributes: Json = None, *, now: datetime) -> str:
    """Create queue ``name`` (no-op when it exists with the same attributes); its URL.

    Raises:
        QueueAlreadyExists: when it exists with other attributes (as SQS refuses).
    """
    name = queue_name(name)
    attributes = dict(attributes or {})
    insert_ = sqlite.insert if is_sqlite(engine) else postgresql.insert
    row = {"name": name, "url": queue_url(name), "attributes": attributes, "created_at": now}
    with writing(engine) as db:
        db.execute(insert_(QUEUES).values(row).on_conflict_do_nothing(index_elements=["name"]))
        existing = db.execute(select(QUEUES.c.attributes).where(QUEUES.c.name == name)).scalar()
    if (existing or {}) != attributes:
        raise QueueAlreadyExists(
            f"create_queue {name!r}: the queue exists with attributes {existing}, "
            f"not the {attributes} given"
        )
    return queue_url(name)


def get_queue_url(engine: Engine, queue: str) -> str:
    """The URL of ``queue``; raises `QueueDoesNotExist` naming it."""
    with engine.connect() as db:
        return str(_queue(db, queue)["url"])


def list_queues(engine: Engine, prefix: str = "") -> list[str]:
    """The URLs of every queue whose name starts with ``prefix``, by name."""
    statement = select(QUEUES.c.url).order_by(QUEUES.c.name)
    if prefix:
        statement = statement.where(QUEUES.c.name.startswith(prefix, autoescape=True))
    with engine.connect() as db:
        return [str(url) for url in db.execute(statement).scalars()]


def delete_queue(engine: Engine, queue: str) -> None:
    """Delete ``queue`` and its messages; raises `QueueDoesNotExist` naming it."""
    with writing(engine) as db:
        name = _queue(db, queue)["name"]
        db.execute(delete(MESSAGES).where(MESSAGES.c.queue == name))
        db.execute(delete(QUEUES).where(QUEUES.c.name == name))


def queue_attributes(engine: Engine, queue: str) -> dict[str, Json]:
    """The attributes ``queue`` was created with, plus its message counts (as SQS lists)."""
    with engine.connect() as db:
        row = _queue(db, queue)
        pending = db.execute(
            select(func.count())
            .select_from(MESSAGES)
            .where(MESSAGES.c.queue == row["name"], MESSAGES.c.deleted.is_(False))
        ).scalar_one()
    return {**(row["attributes"] or {}), "ApproximateNumberOfMessages": str(pending)}


def send_message(
    engine: Engine,
    queue: str,
    body: str,
    attributes: Json = None,
    task_token: str | None = None,
    *,
    now: datetime,
    delay_seconds: int | None = None,
    message_id: str | None = None,
) -> str:
    """Put a message on ``queue``; returns its MessageId.

    Args:
        engine: the store's engine.
        queue: the queue's name, URL or ARN.
        body: the message's text.
        attributes: SQS MessageAttributes, kept as given.
        task_token: the callback token of the task that sends it (``.waitForTaskToken``).
        now: the sending time.
        delay_seconds: how long the message stays invisible (default: the queue's
            ``DelaySeconds`` attribute, else 0).
        message_id: the id to use; a message with that id already sent is not sent
            again (a redelivered Task sends once). Default: a fresh id.

    Raises:
        QueueDoesNotExist: naming the queue.
    """
    with writing(engine) as db:
        return insert_message(
            db, queue, body, attributes, task_token, now, delay_seconds, message_id
        )


def insert_message(
    db: Connection,
    queue: str,
    body: str,
    attributes: Json,
    task_token: str | None,
    now: datetime,
    delay_seconds: int | None = None,
    message_id: str | None = None,
) -> str:
    """`send_message` inside the caller's write transaction (a topic's fan-out is one)."""
    row = _queue(db, queue)
    message_id = message_id or str(uuid.uuid4())
    if db.execute(select(MESSAGES.c.id).where(MESSAGES.c.message_id == message_id)).first():
        return message_id
    delay = _delay(row, delay_seconds)
    db.execute(
        insert(MESSAGES).values(
            message_id=message_id,
            queue=row["name"],
            body=body,
            attributes=attributes or None,
            task_token=task_token,
            sent_at=now,
            visible_at=now + timedelta(seconds=delay),
            receive_count=0,
            deleted=False,
        )
    )
    return message_id


def receive_messages(
    engine: Engine,
    queue: str,
    max_messages: int = 1,
    visibility_timeout: int | None = None,
    wait_seconds: float = 0,
    *,
    clock: Clock,
) -> list[ReceivedMessage]:
    """Up to ``max_messages`` visible messages, hidden for ``visibility_timeout`` seconds.

    With ``wait_seconds`` > 0 (at most 20, as SQS) this is a long poll: it returns as soon
    as a message is there, or empty when the wait is over, reading the table every
    `POLL_INTERVAL_SECONDS`.

    Raises:
        QueueDoesNotExist: naming the queue.
        ValueError: for a count, timeout or wait outside SQS's limits (naming it).
    """
    _check_range("max_messages", max_messages, 1, MAX_MESSAGES)
    _check_range("wait_seconds", wait_seconds, 0, MAX_WAIT_SECONDS)
    deadline = clock.now() + timedelta(seconds=wait_seconds)
    while True:
        received = _receive_once(engine, queue, max_messages, visibility_timeout, clock.now())
        now = clock.now()
        if received or now >= deadline:
            return received
        clock.sleep_until(min(now + timedelta(seconds=POLL_INTERVAL_SECONDS), deadline))


def delete_message(engine: Engine, queue: str, receipt: str) -> bool:
    """Delete the message ``receipt`` was handed out for; False when it is stale.

    A receipt is stale once its message was received again (its visibility timeout ran
    out) or deleted: the later receiver owns the message then.

    Raises:
        QueueDoesNotExist: naming the queue.
    """
    with writing(engine) as db:
        name = _queue(db, queue)["name"]
        done = db.execute(
            update(MESSAGES)
            .where(MESSAGES.c.queue == name, MESSAGES.c.receipt == receipt)
            .where(MESSAGES.c.deleted.is_(False))
            .values(deleted=True)
        )
    return bool(done.rowcount)


def change_visibility(
    engine: Engine, queue: str, receipt: str, visibility_timeout: int, *, now: datetime
) -> bool:
    """Make the message of ``receipt`` visible again in ``visibility_timeout`` seconds.

    ``0`` releases it at once. Returns False when the receipt is stale.

    Raises:
        QueueDoesNotExist: naming the queue.
    """
    _check_range("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_TIMEOUT)
    with writing(engine) as db:
        name = _queue(db, queue)["name"]
        done = db.execute(
            update(MESSAGES)
            .where(MESSAGES.c.queue == name, MESSAGES.c.receipt == receipt)
            .where(MESSAGES.c.deleted.is_(False))
            .values(visible_at=now + timedelta(seconds=visibility_timeout))
        )
    return bool(done.rowcount)


def prune_messages(engine: Engine, *, now: datetime, keep_deleted: timedelta) -> int:
    """Remove deleted messages older than ``keep_deleted`` and messages past retention.

    A deleted message's row is kept for ``keep_deleted`` so a Task redelivered meanwhile
    still finds its MessageId and sends nothing twice. A message never deleted is dropped
    once older than its queue's ``MessageRetentionPeriod`` (SQS's default: 4 days), as SQS
    drops it. Returns how many rows went.
    """
    removed = 0
    with writing(engine) as db:
        gone = MESSAGES.c.deleted.is_(True) & (MESSAGES.c.sent_at < now - keep_deleted)
        removed += db.execute(delete(MESSAGES).where(gone)).rowcount
        for name, attributes in db.execute(select(QUEUES.c.name, QUEUES.c.attributes)).all():
            period = int((attributes or {}).get("MessageRetentionPeriod", DEFAULT_RETENTION))
            expired = (MESSAGES.c.queue == name) & (
                MESSAGES.c.sent_at < now - timedelta(seconds=period)
            )
            removed += db.execute(delete(MESSAGES).where(expired)).rowcount
    return removed


def _receive_once(
    engine: Engine, queue: str, limit: int, visibility_timeout: int | None, now: datetime
) -> list[ReceivedMessage]:
    with writing(engine) as db:
        row = _queue(db, queue)
        hide = _visibility(row, visibility_timeout)
        statement = (
            select(MESSAGES)
            .where(MESSAGES.c.queue == row["name"], MESSAGES.c.deleted.is_(False))
            .where(MESSAGES.c.visible_at <= now)
            .order_by(MESSAGES.c.id)
            .limit(limit)
        )
        if not is_sqlite(engine):  # two consumers never take the same message
            statement = statement.with_for_update(skip_locked=True)
        return [_take(db, message, now, hide) for message in db.execute(statement).mappings()]


def _take(db: Connection, message: Any, now: datetime, hide: int) -> ReceivedMessage:
    receipt = uuid.uuid4().hex
    count = message["receive_count"] + 1
    db.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id == message["id"])
        .values(receipt=receipt, receive_count=count, visible_at=now + timedelta(seconds=hide))
    )
    return ReceivedMessage(
        message_id=message["message_id"],
        body=message["body"],
        attributes=message["attributes"],
        task_token=message["task_token"],
        receipt=receipt,
        receive_count=count,
        sent_at=utc_required(message["sent_at"]),
    )


def _queue(db: Connection, queue: str) -> Any:
    name = queue_name(queue)
    row = db.execute(select(QUEUES).where(QUEUES.c.name == name)).mappings().first()
    if row is None:
        raise QueueDoesNotExist(
            f"queue {queue!r}: expected an existing queue, but no queue is named {name!r} "
            "(create it with create_queue or `stepline queue create`)"
        )
    return row


def _visibility(row: Any, given: int | None) -> int:
    if given is not None:
        _check_range("visibility_timeout", given, 0, MAX_VISIBILITY_TIMEOUT)
        return given
    return int((row["attributes"] or {}).get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT))


def _delay(row: Any, given: int | None) -> int:
    if given is not None:
        _check_range("delay_seconds", given, 0, MAX_DELAY_SECONDS)
        return given
    return int((row["attributes"] or {}).get("DelaySeconds", 0))


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name}: expected a number from {low:g} to {high:g}, got {value!r}")
