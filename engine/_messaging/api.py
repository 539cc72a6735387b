"""boto3-shaped SQS and SNS methods on the store's queues and topics.

``sqs = engine.messaging(client)`` gives one object with both services' methods, named and
shaped as boto3's (``create_queue(QueueName=...)`` → ``{"QueueUrl": ...}``,
``publish(TopicArn=..., Message=...)`` → ``{"MessageId": ...}``)::

    m = engine.messaging(engine.connect())
    url = m.create_queue(QueueName="payments")["QueueUrl"]
    m.send_message(QueueUrl=url, MessageBody="hello")
    m.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine._messaging import queues, topics
from engine._messaging.consumer import store_engine
from engine._messaging.names import queue_arn, queue_name

if TYPE_CHECKING:
    from engine._api import Client

Json = Any


class Messaging:
    """SQS and SNS, boto3-shaped, on a durable client's store.

    Args:
        client: a durable client (`engine.connect()`).
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.engine = store_engine(client)

    # --- SQS ---------------------------------------------------------------------------

    def create_queue(self, *, QueueName: str, Attributes: Json = None) -> dict[str, Json]:  # noqa: N803
        """CreateQueue: ``{"QueueUrl": ...}`` (the same queue again is a no-op)."""
        url = queues.create_queue(self.engine, QueueName, Attributes, now=self._now())
        return {"QueueUrl": url}

    def get_queue_url(self, *, QueueName: str) -> dict[str, Json]:  # noqa: N803
        """GetQueueUrl: ``{"QueueUrl": ...}``."""
        return {"QueueUrl": queues.get_queue_url(self.engine, QueueName)}

    def list_queues(self, *, QueueNamePrefix: str = "") -> dict[str, Json]:  # noqa: N803
        """ListQueues: ``{"QueueUrls": [...]}``."""
        return {"QueueUrls": queues.list_queues(self.engine, QueueNamePrefix)}

    def delete_queue(self, *, QueueUrl: str) -> dict[str, Json]:  # noqa: N803
        """DeleteQueue (its messages too)."""
        queues.delete_queue(self.engine, QueueUrl)
        return {}

    def get_queue_attributes(self, *, QueueUrl: str, **_: Any) -> dict[str, Json]:  # noqa: N803
        """GetQueueAttributes: ``{"Attributes": {...}}`` with ApproximateNumberOfMessages."""
        attributes = queues.queue_attributes(self.engine, QueueUrl)
        return {"Attributes": {**attributes, "QueueArn": queue_arn(queue_name(QueueUrl))}}

    def send_message(
        self,
        *,
        QueueUrl: str,  # noqa: N803
        MessageBody: str,  # noqa: N803
        MessageAttributes: Json = None,  # noqa: N803
        DelaySeconds: int | None = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Json]:
        """SendMessage: ``{"MessageId", "MD5OfMessageBody"}``."""
        message_id = queues.send_message(
            self.engine,
            QueueUrl,
            MessageBody,
            MessageAttributes,
            now=self._now(),
            delay_seconds=DelaySeconds,
        )
        return {"MessageId": message_id, "MD5OfMessageBody": queues.md5_hex(MessageBody)}

    def receive_message(
        self,
        *,
        QueueUrl: str,  # noqa: N803
        MaxNumberOfMessages: int = 1,  # noqa: N803
        VisibilityTimeout: int | None = None,  # noqa: N803
        WaitTimeSeconds: float = 0,  # noqa: N803
        **_: Any,
    ) -> dict[str, Json]:
        """ReceiveMessage: ``{"Messages": [{"MessageId", "ReceiptHandle", "Body", ...}]}``.

        A message a ``.waitForTaskToken`` task sent also has ``TaskToken`` (a stepline
        field: on AWS the token is only in the body).
        """
        received = queues.receive_messages(
            self.engine,
            QueueUrl,
            MaxNumberOfMessages,
            VisibilityTimeout,
            WaitTimeSeconds,
            clock=self.client.clock,
        )
        return {"Messages": [_message(message) for message in received]}

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> dict[str, Json]:  # noqa: N803
        """DeleteMessage (a stale receipt deletes nothing, as SQS may)."""
        queues.delete_message(self.engine, QueueUrl, ReceiptHandle)
        return {}

    def change_message_visibility(
        self,
        *,
        QueueUrl: str,  # noqa: N803
        ReceiptHandle: str,  # noqa: N803
        VisibilityTimeout: int,  # noqa: N803
    ) -> dict[str, Json]:
        """ChangeMessageVisibility."""
        queues.change_visibility(
            self.engine, QueueUrl, ReceiptHandle, VisibilityTimeout, now=self._now()
        )
        return {}

    # --- SNS ---------------------------------------------------------------------------

    def create_topic(self, *, Name: str, **_: Any) -> dict[str, Json]:  # noqa: N803
        """CreateTopic: ``{"TopicArn": ...}`` (the same topic again is a no-op)."""
        return {"TopicArn": topics.create_topic(self.engine, Name, now=self._now())}

    def list_topics(self) -> dict[str, Json]:
        """ListTopics: ``{"Topics": [{"TopicArn": ...}]}``."""
        return {"Topics": [{"TopicArn": arn} for arn in topics.list_topics(self.engine)]}

    def delete_topic(self, *, TopicArn: str) -> dict[str, Json]:  # noqa: N803
        """DeleteTopic (and its subscriptions)."""
        topics.delete_topic(self.engine, TopicArn)
        return {}

    def subscribe(
        self,
        *,
        TopicArn: str,  # noqa: N803
        Protocol: str,  # noqa: N803
        Endpoint: str,  # noqa: N803
        Attributes: Json = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Json]:
        """Subscribe a queue (Protocol ``sqs``): ``{"SubscriptionArn": ...}``."""
        arn = topics.subscribe(
            self.engine, TopicArn, Protocol, Endpoint, Attributes, now=self._now()
        )
        return {"SubscriptionArn": arn}

    def list_subscriptions_by_topic(self, *, TopicArn: str) -> dict[str, Json]:  # noqa: N803
        """ListSubscriptionsByTopic: ``{"Subscriptions": [...]}``."""
        return {"Subscriptions": topics.list_subscriptions(self.engine, TopicArn)}

    def publish(
        self,
        *,
        TopicArn: str,  # noqa: N803
        Message: str,  # noqa: N803
        Subject: str | None = None,  # noqa: N803
        MessageAttributes: Json = None,  # noqa: N803
        **_: Any,
    ) -> dict[str, Json]:
        """Publish to every subscribed queue: ``{"MessageId": ...}``."""
        message_id = topics.publish(
            self.engine, TopicArn, Message, Subject, MessageAttributes, now=self._now()
        )
        return {"MessageId": message_id}

    def _now(self) -> Any:
        return self.client.clock.now()


def _message(message: queues.ReceivedMessage) -> dict[str, Json]:
    shaped: dict[str, Json] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
        "Attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(int(message.sent_at.timestamp() * 1000)),  # epoch ms, as SQS
        },
    }
    if message.attributes:
        shaped["MessageAttributes"] = message.attributes
    if message.task_token:
        shaped["TaskToken"] = message.task_token
    return shaped
