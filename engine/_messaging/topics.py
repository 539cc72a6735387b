"""Topics on the store, with SNS's semantics (tables ``topics`` and ``subscriptions``).

A topic fans each published message out to every queue subscribed to it, in the
publishing transaction: a subscriber is never missed. As SNS delivers to SQS, a queue gets
the JSON notification envelope (``Type``, ``MessageId``, ``TopicArn``, ``Subject``,
``Message``, ``Timestamp``, ``MessageAttributes``) unless its subscription has
``RawMessageDelivery`` set to ``"true"``: then the message itself, with its attributes as
the queue message's attributes. Stepline does not sign notifications: the envelope has no
``Signature``/``SigningCertURL`` fields.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from engine._messaging.names import queue_arn, queue_name, topic_arn, topic_name
from engine._messaging.queues import QueueDoesNotExist, get_queue_url, insert_message
from engine._store.db import is_sqlite, writing
from engine._store.tables import SubscriptionRow, TopicRow

Json = Any
TOPICS = TopicRow.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS = SubscriptionRow.__table__  # type: ignore[attr-defined]
PROTOCOLS = ("sqs",)


class TopicDoesNotExist(ValueError):
    """The topic named does not exist (SNS's ``NotFound``)."""


def create_topic(engine: Engine, name: str, *, now: datetime) -> str:
    """Create topic ``name`` (no-op when it exists, as SNS); returns its ARN."""
    name = topic_name(name)
    insert_ = sqlite.insert if is_sqlite(engine) else postgresql.insert
    row = {"name": name, "arn": topic_arn(name), "created_at": now}
    with writing(engine) as db:
        db.execute(insert_(TOPICS).values(row).on_conflict_do_nothing(index_elements=["name"]))
    return topic_arn(name)


def list_topics(engine: Engine) -> list[str]:
    """The ARN of every topic, by name."""
    with engine.connect() as db:
        return [str(arn) for arn in db.execute(select(TOPICS.c.arn).order_by(TOPICS.c.name))]


def delete_topic(engine: Engine, topic: str) -> None:
    """Delete ``topic`` and its subscriptions (no-op when it does not exist, as SNS)."""
    name = topic_name(topic)
    with writing(engine) as db:
        db.execute(delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.topic == name))
        db.execute(delete(TOPICS).where(TOPICS.c.name == name))


def subscribe(
    engine: Engine,
    topic: str,
    protocol: str,
    endpoint: str,
    attributes: Json = None,
    *,
    now: datetime,
) -> str:
    """Subscribe queue ``endpoint`` (name, URL or ARN) to ``topic``; the subscription ARN.

    Subscribing the same queue again returns the existing subscription, as SNS does.

    Raises:
        TopicDoesNotExist: naming the topic.
        QueueDoesNotExist: naming the queue.
        ValueError: for a protocol other than ``sqs`` or an unknown attribute.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"subscribe: expected protocol 'sqs', got {protocol!r}")
    _check_attributes(attributes or {})
    name, queue = _topic(engine, topic), queue_name(endpoint)
    get_queue_url(engine, queue)  # raises QueueDoesNotExist naming it
    row = {
        "arn": f"{topic_arn(name)}:{uuid.uuid4()}",
        "topic": name,
        "protocol": protocol,
        "endpoint": queue_arn(queue),
        "attributes": dict(attributes or {}),
        "created_at": now,
    }
    insert_ = sqlite.insert if is_sqlite(engine) else postgresql.insert
    with writing(engine) as db:
        db.execute(insert_(SUBSCRIPTIONS).values(row).on_conflict_do_nothing())
        where = (SUBSCRIPTIONS.c.topic == name) & (SUBSCRIPTIONS.c.endpoint == row["endpoint"])
        return str(db.execute(select(SUBSCRIPTIONS.c.arn).where(where)).scalar_one())


def list_subscriptions(engine: Engine, topic: str) -> list[dict[str, Json]]:
    """The subscriptions of ``topic``, SNS-shaped (SubscriptionArn, Protocol, Endpoint...)."""
    name = _topic(engine, topic)
    with engine.connect() as db:
        rows = db.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.topic == name)).mappings()
        return [
            {
                "SubscriptionArn": row["arn"],
                "TopicArn": topic_arn(name),
                "Protocol": row["protocol"],
                "Endpoint": row["endpoint"],
                "Attributes": row["attributes"] or {},
            }
            for row in rows
        ]


def publish(
    engine: Engine,
    topic: str,
    message: str,
    subject: str | None = None,
    attributes: Json = None,
    *,
    now: datetime,
    message_id: str | None = None,
) -> str:
    """Publish ``message`` to every queue subscribed to ``topic``; returns its MessageId.

    ``message_id``: the id to use (a redelivered Task publishes once: each queue keeps one
    copy per id). A subscribed queue that was deleted since is skipped, as SNS drops
    deliveries to a queue that is gone.

    Raises:
        TopicDoesNotExist: naming the topic.
    """
    message_id = message_id or str(uuid.uuid4())
    with writing(engine) as db:
        name = _topic_in(db, topic)
        rows = db.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.topic == name)).mappings()
        notification = _Notification(topic_arn(name), message_id, message, subject, attributes)
        for row in list(rows):
            _deliver(db, row, notification, now)
    return message_id


class _Notification:
    def __init__(
        self, arn: str, message_id: str, message: str, subject: str | None, attributes: Json
    ) -> None:
        self.arn, self.message_id, self.message = arn, message_id, message
        self.subject, self.attributes = subject, attributes or {}

    def envelope(self, now: datetime) -> str:
        body: dict[str, Json] = {"Type": "Notification", "MessageId": self.message_id}
        body["TopicArn"] = self.arn
        if self.subject is not None:
            body["Subject"] = self.subject
        body["Message"] = self.message
        body["Timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        if self.attributes:
            body["MessageAttributes"] = {
                key: {"Type": value.get("DataType"), "Value": value.get("StringValue")}
                for key, value in self.attributes.items()
            }
        return json.dumps(body, ensure_ascii=False)


def _deliver(db: Connection, row: Any, notification: _Notification, now: datetime) -> None:
    raw = str((row["attributes"] or {}).get("RawMessageDelivery", "false")).lower() == "true"
    body = notification.message if raw else notification.envelope(now)
    # One id per (publish, queue): the same publish redelivered adds no second copy.
    copy_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{notification.message_id}/{row['endpoint']}"))
    attributes = notification.attributes if raw else None
    try:
        insert_message(db, row["endpoint"], body, attributes, None, now, message_id=copy_id)
    except QueueDoesNotExist:
        return  # the queue was deleted after subscribing: SNS drops that delivery too


def _check_attributes(attributes: dict[str, Json]) -> None:
    unknown = set(attributes) - {"RawMessageDelivery"}
    if unknown:
        raise ValueError(
            f"subscribe: expected attributes among RawMessageDelivery, got {sorted(unknown)}"
        )


def _topic(engine: Engine, topic: str) -> str:
    with engine.connect() as db:
        return _topic_in(db, topic)


def _topic_in(db: Connection, topic: str) -> str:
    name = topic_name(topic)
    if db.execute(select(TOPICS.c.name).where(TOPICS.c.name == name)).first() is None:
        raise TopicDoesNotExist(
            f"topic {topic!r}: expected an existing topic, but no topic is named {name!r} "
            "(create it with create_topic or `stepline topic create`)"
        )
    return name
