"""Queues and topics on a real fleet: Tasks send and publish, services answer with tokens.

The worker and beat run as processes (Celery on Redis, store on PostgreSQL); the test
process (or a ``stepline consume`` process) plays the services consuming the queues.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import engine
from tests.integration.conftest import ROOT, Fleet, shape
from tests.integration.queue_consumers import charge

Json = Any
SEND = "arn:aws:states:::sqs:sendMessage"


def _machine(fleet: Fleet, name: str, state: dict[str, Json]) -> str:
    return fleet.create(name, {"StartAt": "S", "States": {"S": {**state, "End": True}}})


def _token_state(queue: str) -> dict[str, Json]:
    body = {"order.$": "$.order", "taskToken.$": "$$.Task.Token"}
    return {
        "Type": "Task",
        "Resource": f"{SEND}.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": body},
        "TimeoutSeconds": 300,
    }


def _await_messages(fleet: Fleet, queue: str, count: int) -> None:
    """Wait until ``queue`` holds ``count`` undeleted messages (the Tasks sent them)."""
    messaging = engine.messaging(fleet.client)

    def pending() -> bool:
        attributes = messaging.get_queue_attributes(QueueUrl=queue)["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) >= count

    fleet.await_condition(pending, 60, f"{count} message(s) on {queue}")


def _answer(fleet: Fleet, queue: str, count: int) -> None:
    """Consume ``count`` messages of ``queue`` with the payments consumer."""
    consumer = engine.QueueConsumer(fleet.client, queue)
    handled = 0
    while handled < count:
        for message in consumer.receive(10, wait_seconds=20):
            consumer.handle(charge, message)
            handled += 1


def test_send_message_request_response_returns_aws_shape(fleet: Fleet) -> None:
    # Given a queue and a machine sending a JSON body to it
    engine.messaging(fleet.client).create_queue(QueueName="audit")
    parameters = {"QueueUrl": "audit", "MessageBody": {"order.$": "$.order"}}
    machine = _machine(fleet, "audit", {"Type": "Task", "Resource": SEND, "Parameters": parameters})
    # When an execution runs
    run = fleet.start_execution(machine, {"order": {"id": 1}}, "audit-1")
    described = fleet.await_status(run)
    # Then it succeeds with SendMessage's response, and the queue holds the body as JSON text
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    [message] = engine.messaging(fleet.client).receive_message(QueueUrl="audit")["Messages"]
    assert (output["MessageId"], output["MD5OfMessageBody"]) == (
        message["MessageId"],
        message["MD5OfBody"],
    )
    assert json.loads(message["Body"]) == {"order": {"id": 1}}


def test_token_tasks_are_answered_by_a_consumer_success_and_failure(fleet: Fleet) -> None:
    # Given two executions waiting on the payments queue: one within the limit, one over
    engine.messaging(fleet.client).create_queue(QueueName="payments")
    machine = _machine(fleet, "pay", _token_state("payments"))
    paid = fleet.start_execution(machine, {"order": {"amount": 40}}, "paid")
    declined = fleet.start_execution(machine, {"order": {"amount": 400}}, "declined")
    # When the service consumes both messages
    _await_messages(fleet, "payments", 2)
    _answer(fleet, "payments", 2)
    # Then the first succeeds with the service's output, the second fails with its error
    succeeded = fleet.await_status(paid)
    assert (succeeded["status"], json.loads(succeeded["output"])) == ("SUCCEEDED", {"charged": 40})
    failed = fleet.await_status(declined)
    assert (failed["status"], failed["error"]) == ("FAILED", "PermissionError")
    assert "over the limit" in failed["cause"]


def test_sns_publish_fans_out_to_two_queues(fleet: Fleet) -> None:
    # Given a topic with two subscribed queues (one raw)
    messaging = engine.messaging(fleet.client)
    topic = messaging.create_topic(Name="orders")["TopicArn"]
    for name, raw in (("billing", "false"), ("shipping", "true")):
        url = messaging.create_queue(QueueName=name)["QueueUrl"]
        attributes = {"RawMessageDelivery": raw}
        messaging.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=url, Attributes=attributes)
    parameters = {"TopicArn": topic, "Message.$": "$.order", "Subject": "new order"}
    state = {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": parameters}
    machine = _machine(fleet, "notify", state)
    # When an execution publishes
    run = fleet.start_execution(machine, {"order": {"id": 9}}, "notify-1")
    described = fleet.await_status(run)
    # Then both queues got it: SNS's envelope on one, the message itself on the other
    assert described["status"] == "SUCCEEDED"
    message_id = json.loads(described["output"])["MessageId"]
    [billing] = messaging.receive_message(QueueUrl="billing")["Messages"]
    envelope = json.loads(billing["Body"])
    assert (envelope["MessageId"], envelope["TopicArn"]) == (message_id, topic)
    assert json.loads(envelope["Message"]) == {"id": 9}
    [shipping] = messaging.receive_message(QueueUrl="shipping")["Messages"]
    assert json.loads(shipping["Body"]) == {"id": 9}


def test_a_consumer_process_started_later_gets_the_waiting_message(fleet: Fleet) -> None:
    # Given an execution whose message waits on a queue no consumer runs for
    engine.messaging(fleet.client).create_queue(QueueName="payments")
    machine = _machine(fleet, "later", _token_state("payments"))
    run = fleet.start_execution(machine, {"order": {"amount": 5}}, "later-1")
    _await_messages(fleet, "payments", 1)
    assert fleet.client.describe_execution(executionArn=run)["status"] == "RUNNING"
    # When the service's own process starts (stepline consume)
    service = subprocess.Popen(
        [sys.executable, "-m", "engine._cli", "consume", "payments",
         "--handlers", "tests.integration.queue_consumers"],
        cwd=ROOT, env=fleet.env, start_new_session=True,
    )  # fmt: skip
    try:
        described = fleet.await_status(run)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
    # Then nothing was lost: the execution completes with the service's answer
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"charged": 5})


def test_a_missing_queue_fails_the_task_naming_it(fleet: Fleet) -> None:
    # Given no queue "nowhere"
    machine = _machine(fleet, "lost", _token_state("nowhere"))
    # When an execution sends to it
    described = fleet.await_status(fleet.start_execution(machine, {"order": {}}, "lost-1"))
    # Then it fails at once with SQS's error naming the queue
    assert (described["status"], described["error"]) == ("FAILED", "SQS.AmazonSQSException")
    assert "'nowhere'" in described["cause"]


def test_a_worker_killed_while_a_token_is_out_loses_nothing(fleet: Fleet) -> None:
    # Given an uninterrupted run for reference
    engine.messaging(fleet.client).create_queue(QueueName="payments")
    machine = _machine(fleet, "crash", _token_state("payments"))
    reference = fleet.start_execution(machine, {"order": {"amount": 1}}, "reference")
    _await_messages(fleet, "payments", 1)
    _answer(fleet, "payments", 1)
    assert fleet.await_status(reference)["status"] == "SUCCEEDED"
    # And a second run whose token is out on the queue
    run = fleet.start_execution(machine, {"order": {"amount": 1}}, "interrupted")
    _await_messages(fleet, "payments", 1)
    # When the worker is killed -9 and restarted, and then the consumer answers
    fleet.kill("worker")
    fleet.start("worker")
    _answer(fleet, "payments", 1)
    # Then the execution completes with the history of the uninterrupted run
    assert fleet.await_status(run)["status"] == "SUCCEEDED"
    assert shape(fleet.history(run)) == shape(fleet.history(reference))
