"""sqs:sendMessage and sns:publish Tasks on the durable backend, in-process (fake clock).

The consumer answers through the consumer API, the way a service would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import engine
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/queues"
SEND = "arn:aws:states:::sqs:sendMessage"


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Client, Callable[[], None]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    store = Store(make_engine(url))
    clock, dispatcher, handlers = FakeClock(T0), InMemoryDispatcher(), HandlerRegistry()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, handlers), clock=clock)
    return client, lambda: dispatcher.join(runtime, handlers, clock)


def _run(client: Client, settle: Callable[[], None], state: dict[str, Json]) -> str:
    definition = {"StartAt": "S", "States": {"S": {**state, "End": True}}}
    machine = client.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = client.start_execution(stateMachineArn=machine, input='{"order": 7}')["executionArn"]
    settle()
    return str(arn)


def _token_task(queue: str = "payments") -> dict[str, Json]:
    body = {"order.$": "$.order", "taskToken.$": "$$.Task.Token"}
    parameters = {"QueueUrl": queue, "MessageBody": body}
    return {"Type": "Task", "Resource": f"{SEND}.waitForTaskToken", "Parameters": parameters}


def test_a_token_task_waits_until_the_consumer_answers(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given a queue and an execution whose Task sent it a message with its token
    client, settle = fleet
    engine.messaging(client).create_queue(QueueName="payments")
    arn = _run(client, settle, _token_task())
    assert client.describe_execution(executionArn=arn)["status"] == "RUNNING"
    # When the service receives it and succeeds
    [message] = engine.QueueConsumer(client, "payments").receive()
    assert message.json()["order"] == 7
    assert message.json()["taskToken"] == message.task_token
    message.succeed({"charged": True})
    settle()
    # Then the execution succeeds with the service's output, and the message is gone
    described = client.describe_execution(executionArn=arn)
    assert (described["status"], json.loads(described["output"])) == (
        "SUCCEEDED",
        {"charged": True},
    )
    client.clock.advance(3600)  # type: ignore[attr-defined]
    assert engine.QueueConsumer(client, "payments").receive() == []


def test_a_consumer_function_that_raises_fails_the_task(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given a token task's message, and a consumer function that declines
    client, settle = fleet
    engine.messaging(client).create_queue(QueueName="payments")
    arn = _run(client, settle, _token_task())

    def decline(body: Json, message: engine.Message) -> Json:
        raise PermissionError(f"order {body['order']} declined")

    # When the consumer handles it
    consumer = engine.QueueConsumer(client, "payments")
    consumer.handle(decline, consumer.receive()[0])
    settle()
    # Then the execution fails with the exception's name and text
    described = client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "PermissionError")
    assert described["cause"] == "order 7 declined"


def test_send_message_returns_the_aws_response(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given a queue and a request-response sendMessage with a JSON body
    client, settle = fleet
    engine.messaging(client).create_queue(QueueName="audit")
    parameters = {"QueueUrl": "audit", "MessageBody": {"order.$": "$.order"}}
    arn = _run(client, settle, {"Type": "Task", "Resource": SEND, "Parameters": parameters})
    # Then the result is SendMessage's response and the body is the compact JSON
    output = json.loads(client.describe_execution(executionArn=arn)["output"])
    [message] = engine.messaging(client).receive_message(QueueUrl="audit")["Messages"]
    assert message["Body"] == '{"order":7}'
    assert output["MessageId"] == message["MessageId"]
    assert output["MD5OfMessageBody"] == message["MD5OfBody"]
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    sent_ms = int(T0.timestamp() * 1000)
    assert message["Attributes"] == {"ApproximateReceiveCount": "1", "SentTimestamp": str(sent_ms)}


def test_a_missing_queue_fails_the_task_with_sqs_error_naming_it(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given no queue "nowhere"
    client, settle = fleet
    # When a Task sends to it
    arn = _run(client, settle, _token_task("nowhere"))
    # Then the execution fails with SQS's error, naming the queue
    described = client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "SQS.AmazonSQSException")
    assert "'nowhere'" in described["cause"]
    assert "NonExistentQueue" in described["cause"]


def test_sns_publish_fans_out_to_every_subscribed_queue(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given a topic with two subscribed queues
    client, settle = fleet
    messaging = engine.messaging(client)
    topic = messaging.create_topic(Name="orders")["TopicArn"]
    for name in ("a", "b"):
        url = messaging.create_queue(QueueName=name)["QueueUrl"]
        messaging.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=url)
    # When a Task publishes to it
    parameters = {"TopicArn": topic, "Message": {"order.$": "$.order"}}
    state = {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": parameters}
    arn = _run(client, settle, state)
    # Then each queue got the notification, and the result is Publish's response
    message_id = json.loads(client.describe_execution(executionArn=arn)["output"])["MessageId"]
    for name in ("a", "b"):
        [message] = messaging.receive_message(QueueUrl=name)["Messages"]
        envelope = json.loads(message["Body"])
        assert (envelope["MessageId"], envelope["Message"]) == (message_id, '{"order":7}')


def test_a_missing_topic_fails_the_task_with_sns_not_found(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given no topic "ghost"
    client, settle = fleet
    parameters = {"TopicArn": "arn:aws:sns:us-east-1:111111111111:ghost", "Message": "x"}
    state = {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": parameters}
    # When a Task publishes to it
    arn = _run(client, settle, state)
    # Then it fails with SNS.NotFoundException naming the topic
    described = client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "SNS.NotFoundException")
    assert "ghost" in described["cause"]


def test_an_in_process_client_says_queues_need_the_store() -> None:
    # Given an in-process client
    client = engine.Client.local()
    # Then the messaging API refuses it, saying why
    with pytest.raises(ValueError, match="durable client"):
        engine.messaging(client)


def test_serve_survives_a_failing_receive_and_stops_when_told(
    fleet: tuple[Client, Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a consumer whose first receive fails (the store is briefly down)
    client, settle = fleet
    engine.messaging(client).create_queue(QueueName="payments")
    arn = _run(client, settle, _token_task())
    consumer = engine.QueueConsumer(client, "payments")
    real_receive, calls = consumer.receive, []
    stop = threading.Event()

    def flaky_receive(max_messages: int = 1, wait_seconds: float = 0) -> list[engine.Message]:
        calls.append(max_messages)
        if len(calls) == 1:
            raise ConnectionError("the store is down")
        return real_receive(max_messages, 0)

    def answer(body: Json, message: engine.Message) -> Json:
        stop.set()  # one message is all this test needs
        return {"ok": body["order"]}

    monkeypatch.setattr(consumer, "receive", flaky_receive)
    # When it serves
    consumer.serve(answer, stop=stop)
    settle()
    # Then it retried and answered the waiting task
    assert len(calls) >= 2
    assert json.loads(client.describe_execution(executionArn=arn)["output"]) == {"ok": 7}


def test_a_slow_consumer_keeps_its_message_hidden(
    fleet: tuple[Client, Callable[[], None]],
) -> None:
    # Given a token task's message and a consumer with a 1 s visibility timeout
    client, settle = fleet
    engine.messaging(client).create_queue(QueueName="payments")
    arn = _run(client, settle, _token_task())
    consumer = engine.QueueConsumer(client, "payments", visibility_timeout=1)
    clock: FakeClock = client.clock  # type: ignore[assignment]
    seen_by_others: list[int] = []

    def slow(body: Json, message: engine.Message) -> Json:
        for _ in range(2):  # the service works for longer than the visibility timeout
            time.sleep(0.6)
            clock.advance(0.9)
            seen_by_others.append(len(engine.QueueConsumer(client, "payments").receive()))
        return {"slow": True}

    # When it handles the message
    consumer.handle(slow, consumer.receive()[0])
    settle()
    # Then no other receiver got the message meanwhile, and the task got the answer
    assert seen_by_others == [0, 0]
    assert json.loads(client.describe_execution(executionArn=arn)["output"]) == {"slow": True}
