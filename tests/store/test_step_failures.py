"""Each consumed message tells the failure its step recorded: what its Celery task reports."""

from __future__ import annotations

import json

from engine import connect, registry
from engine._consumer import consume
from engine._interpreter.failures import StateFailure
from engine._store.kinds import MessageKind
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

ROLE = "arn:aws:iam::111111111111:role/failures"
MACHINE = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Pass", "Next": "Reject"},
        "Reject": {"Type": "Fail", "Error": "Order.Rejected", "Cause": "card declined"},
    },
}


def test_a_fail_states_step_returns_its_failure_and_other_steps_none(store: Store) -> None:
    # Given an execution of a Pass then a Fail state, its messages held by a fake broker
    dispatcher = InMemoryDispatcher()
    client = connect(store=store, dispatcher=dispatcher)
    runtime = client.backend.runtime  # type: ignore[attr-defined]
    machine = client.create_state_machine(
        name="orders", definition=json.dumps(MACHINE), roleArn=ROLE
    )["stateMachineArn"]
    arn = client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    # When each step message is consumed as a worker consumes it
    outcomes = []
    while dispatcher.queue:
        message = dispatcher.queue.popleft()
        address = (message.execution_id, message.thread_id, message.seq)
        assert message.execution_arn == arn  # the label Flower shows
        outcomes.append((message.shadow, consume(runtime, registry, MessageKind.STEP, address)))
    # Then the Pass state's step failed nothing, the Fail state's names its error
    assert outcomes == [
        ("orders.Check", None),
        ("orders.Reject", StateFailure("ExecutionFailed", "Order.Rejected")),
    ]
    assert client.describe_execution(executionArn=arn)["status"] == "FAILED"
    # and a duplicate of that message (a redelivery) changes and reports nothing
    assert consume(runtime, registry, MessageKind.STEP, address) is None
