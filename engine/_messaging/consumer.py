"""The service side of a queue: receive messages and answer their task tokens.

A service is its own process consuming its own queue from the store (ADR 0021)::

    @engine.consumer("payments")
    def charge(body, message):          # body: the message's JSON (or its text)
        return {"charged": body["order"]["total"]}

    # `stepline consume payments --handlers myservice` runs it; or, in code:
    engine.serve("payments", charge, client=engine.connect())

What a consumer function returns completes the ``.waitForTaskToken`` task that sent the
message (SendTaskSuccess); an exception fails it (SendTaskFailure: Error = the exception
class name, Cause = its text). Either way the message is then deleted. A message without a
token is deleted once the function returns; if it raises, the message stays and comes back
after its visibility timeout (at-least-once). A consumer that is down loses nothing: the
messages wait in the store.

Nothing here imports the SQL toolkit until a message is received (``import engine`` stays
light).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine._errors import TaskDoesNotExist, TaskTimedOut

if TYPE_CHECKING:
    from engine._api import Client

Json = Any
ConsumerFunction = Callable[[Json, "Message"], Json]
log = logging.getLogger("stepline.consumer")
DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS's, for a queue created without the attribute

CONSUMERS: dict[str, ConsumerFunction] = {}
"""The consumer function of each queue name, registered with `consumer`."""


def consumer(queue: str) -> Callable[[ConsumerFunction], ConsumerFunction]:
    """Decorator: ``@engine.consumer("payments")`` makes the function queue payments' consumer.

    Raises:
        ValueError: when ``queue`` is not a queue name, URL or ARN.
    """
    from engine._messaging.names import queue_name

    name = queue_name(queue)

    def register(function: ConsumerFunction) -> ConsumerFunction:
        CONSUMERS[name] = function
        return function

    return register


@dataclass
class Message:
    """A received message, with the answers a service gives.

    Attributes:
        queue: the queue's name.
        message_id: SQS's MessageId.
        body: the message's text.
        attributes: its MessageAttributes, or None.
        task_token: the token of the ``.waitForTaskToken`` task that sent it, or None.
        receipt: this receive's receipt handle.
        receive_count: how many times it was received, this time included.
    """

    queue: str
    message_id: str
    body: str
    attributes: Json
    task_token: str | None
    receipt: str
    receive_count: int
    consumer: QueueConsumer = field(repr=False)

    def json(self) -> Json:
        """The body parsed as JSON, or the text itself when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return self.body

    def succeed(self, output: Json) -> None:
        """Complete the message's task with ``output`` (SendTaskSuccess), then delete it."""
        token = self._token("succeed")
        self._answer(lambda: self.consumer.client.send_task_success(
            taskToken=token, output=json.dumps(output)
        ))  # fmt: skip

    def fail(self, error: str, cause: str = "") -> None:
        """Fail the message's task with ``error``/``cause`` (SendTaskFailure), then delete it."""
        token = self._token("fail")
        self._answer(lambda: self.consumer.client.send_task_failure(
            taskToken=token, error=error, cause=cause
        ))  # fmt: skip

    def heartbeat(self) -> None:
        """Tell the message's task its consumer is alive (SendTaskHeartbeat)."""
        self.consumer.client.send_task_heartbeat(taskToken=self._token("heartbeat"))

    def delete(self) -> bool:
        """Delete the message; False when its receipt went stale (someone else has it)."""
        from engine._messaging.queues import delete_message

        return delete_message(self.consumer.engine, self.queue, self.receipt)

    def release(self) -> bool:
        """Make the message visible again at once (another receive gets it)."""
        from engine._messaging.queues import change_visibility

        now = self.consumer.client.clock.now()
        return change_visibility(self.consumer.engine, self.queue, self.receipt, 0, now=now)

    def _token(self, action: str) -> str:
        if self.task_token is None:
            raise ValueError(
                f"Message {self.message_id} on queue {self.queue!r}: {action} expected a "
                "message sent by a .waitForTaskToken task, got one without a task token"
            )
        return self.task_token

    def _answer(self, send: Callable[[], object]) -> None:
        try:
            send()
        except (TaskDoesNotExist, TaskTimedOut) as error:
            # The task ended already (timed out, stopped, answered): nothing to answer.
            log.warning("message %s: its task is gone (%s); deleting it", self.message_id, error)
        self.delete()


class QueueConsumer:
    """Receives the messages of one queue through a durable client.

    Args:
        client: a durable client (`engine.connect()`): its store holds the queue.
        queue: the queue's name, URL or ARN.
        visibility_timeout: how long a received message stays hidden (default: the
            queue's ``VisibilityTimeout``, else 30 s).
    """

    def __init__(self, client: Client, queue: str, *, visibility_timeout: int | None = None):
        from engine._messaging.names import queue_name

        self.client = client
        self.queue = queue_name(queue)
        self.visibility_timeout = visibility_timeout
        self.engine = store_engine(client)

    def receive(self, max_messages: int = 1, wait_seconds: float = 0) -> list[Message]:
        """Up to ``max_messages`` messages, waiting up to ``wait_seconds`` (≤ 20) for one."""
        from engine._messaging.queues import receive_messages

        received = receive_messages(
            self.engine,
            self.queue,
            max_messages,
            self.visibility_timeout,
            wait_seconds,
            clock=self.client.clock,
        )
        return [
            Message(self.queue, m.message_id, m.body, m.attributes, m.task_token, m.receipt,
                    m.receive_count, self)
            for m in received
        ]  # fmt: skip

    def handle(self, function: ConsumerFunction, message: Message) -> None:
        """Run ``function`` on ``message`` and answer as the module docstring says.

        While the function runs, the message is kept hidden (its visibility timeout is
        renewed every third of it), so a slow service is not handed its message twice.
        """
        try:
            with self._kept_hidden(message):
                output = function(message.json(), message)
        except Exception as error:
            if message.task_token is None:
                log.warning("message %s failed; it will come back", message.message_id)
                return
            message.fail(type(error).__name__, str(error))
            return
        if message.task_token is None:
            message.delete()
        else:
            message.succeed(output)

    @contextmanager
    def _kept_hidden(self, message: Message) -> Iterator[None]:
        from engine._messaging.queues import change_visibility, queue_attributes

        hide = self.visibility_timeout
        if hide is None:
            attributes = queue_attributes(self.engine, self.queue)
            hide = int(attributes.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT))
        done = threading.Event()

        def renew() -> None:
            # Real time on purpose: the function runs for real, whatever clock the API uses.
            while not done.wait(max(hide / 3, 0.5)):
                try:
                    now = self.client.clock.now()
                    change_visibility(self.engine, self.queue, message.receipt, hide, now=now)
                except Exception:  # the store is briefly down: the next renewal may work
                    log.warning("could not keep message %s hidden", message.message_id)

        renewer = threading.Thread(target=renew, daemon=True, name="stepline-visibility")
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    def serve(
        self,
        function: ConsumerFunction,
        *,
        stop: threading.Event | None = None,
        max_messages: int = 10,
        wait_seconds: float = 1,
    ) -> None:
        """Receive and handle messages with ``function`` until ``stop`` is set.

        A store that is briefly unreachable does not end the loop: it is logged and tried
        again a second later (a message whose answer was lost comes back after its
        visibility timeout). A queue that does not exist ends it (`QueueDoesNotExist`).
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                for message in self.receive(max_messages, wait_seconds):
                    self.handle(function, message)
            except ValueError:
                raise  # a missing queue or a bad argument: retrying cannot help
            except Exception:
                log.warning("consuming %r failed; retrying in 1 s", self.queue, exc_info=True)
                stop.wait(1)


def serve(
    queue: str,
    function: ConsumerFunction | None = None,
    *,
    client: Client | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Consume ``queue`` with ``function`` (default: its `consumer`) until ``stop`` is set.

    ``client``: the durable client (default: `engine.connect()`).
    """
    from engine._composition import connect
    from engine._messaging.names import queue_name

    function = function or CONSUMERS.get(queue_name(queue))
    if function is None:
        raise ValueError(
            f"serve {queue!r}: expected a function or one registered with "
            f"@engine.consumer({queue!r}); registered: {sorted(CONSUMERS) or 'none'}"
        )
    QueueConsumer(client or connect(), queue).serve(function, stop=stop)


def store_engine(client: Client) -> Any:
    """The SQL engine of a durable ``client``'s store.

    Raises:
        ValueError: for an in-process client (it has no store, so no queues).
    """
    store = getattr(client.backend, "store", None)
    if store is None:
        raise ValueError(
            "queues and topics: expected a durable client (engine.connect()), got an "
            f"in-process one ({type(client.backend).__name__}): they live in the store"
        )
    return store.engine


def messaging(client: Client) -> Any:
    """The boto3-shaped SQS and SNS methods on ``client``'s store (`Messaging`)."""
    from engine._messaging.api import Messaging

    return Messaging(client)
