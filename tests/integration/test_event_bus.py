"""The event bus on a real fleet: rules start workflows from events and from executions'
status changes (Celery worker + beat on Redis + PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Fleet

Json = Any
FULFIL = {
    "StartAt": "Fulfil",
    "States": {
        "Fulfil": {"Type": "Pass", "Parameters": {"order.$": "$.detail.order"}, "End": True}
    },
}
NOTIFY = {"StartAt": "Notify", "States": {"Notify": {"Type": "Pass", "End": True}}}


def _runs(fleet: Fleet, machine_arn: str) -> list[Json]:
    listed = fleet.client.list_executions(stateMachineArn=machine_arn)["executions"]
    return [fleet.client.describe_execution(executionArn=e["executionArn"]) for e in listed]


def _succeeded_runs(fleet: Fleet, machine_arn: str, what: str) -> list[Json]:
    return fleet.await_condition(
        lambda: [r for r in _runs(fleet, machine_arn) if r["status"] == "SUCCEEDED"], 120, what
    )


def test_an_order_placed_event_starts_the_fulfilment_workflow(fleet: Fleet) -> None:
    # Given a rule sending OrderPlaced events from the shop to the fulfilment workflow
    fulfil = fleet.create("fulfil", FULFIL)
    pattern = {"source": ["shop"], "detail-type": ["OrderPlaced"]}
    fleet.client.events.put_rule(Name="order-placed", EventPattern=json.dumps(pattern))
    fleet.client.events.put_targets(Rule="order-placed", Targets=[{"Id": "f", "Arn": fulfil}])

    # When an OrderPlaced event is put on the bus
    entry = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 42}'}
    response = fleet.client.events.put_events(Entries=[entry])

    # Then the workflow ran on the fleet with the event as its input
    assert response["FailedEntryCount"] == 0
    (run,) = _succeeded_runs(fleet, fulfil, "the fulfilment run")
    assert json.loads(run["input"])["id"] == response["Entries"][0]["EventId"]
    assert json.loads(run["output"]) == {"order": 42}


def test_a_succeeded_status_change_starts_the_next_workflow(fleet: Fleet) -> None:
    # Given a rule on the SUCCEEDED status changes of "fulfil" targeting "notify"
    fulfil, notify = fleet.create("fulfil", FULFIL), fleet.create("notify", NOTIFY)
    pattern = {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [fulfil]},
    }
    fleet.client.events.put_rule(Name="after-fulfil", EventPattern=json.dumps(pattern))
    target = {"Id": "n", "Arn": notify, "InputPath": "$.detail"}
    fleet.client.events.put_targets(Rule="after-fulfil", Targets=[target])

    # When a fulfil execution succeeds on the fleet
    run = fleet.start_execution(fulfil, {"detail": {"order": 7}}, name="f1")
    assert fleet.await_status(run)["status"] == "SUCCEEDED"

    # Then notify ran once, with the status change's detail naming that execution
    (notified,) = _succeeded_runs(fleet, notify, "the notify run")
    detail = json.loads(notified["input"])
    assert (detail["executionArn"], detail["status"]) == (run, "SUCCEEDED")
    assert json.loads(detail["output"]) == {"order": 7}
