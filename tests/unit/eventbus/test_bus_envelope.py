"""The event bus's pure parts: the EventBridge envelope, target inputs, delivery names,
and the status change event's shape."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from engine._messaging.event_errors import EventsValidationException
from engine._messaging.events import bus_name, envelope, event_time
from engine._messaging.status import status_event
from engine._messaging.targets import delivery_key, execution_name, target_input
from engine._records import ExecutionRecord

NOW = datetime(2026, 12, 4, 18, 30, 5, 123000, tzinfo=UTC)
ENTRY = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 7}'}
# Step Functions' execution names: 1-80 characters, none of these.
EXECUTION_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")


def test_the_envelope_has_eventbridge_fields_in_order() -> None:
    # Given a PutEvents entry with resources
    entry = {**ENTRY, "Resources": ["arn:aws:s3:::bucket"]}
    # When its event is built
    event, bus = envelope(entry, event_id="e-1", now=NOW)
    # Then it is EventBridge's envelope, on the default bus, time to the second in UTC
    assert list(event) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"
    ]  # fmt: skip
    assert event["version"] == "0"
    assert event["id"] == "e-1"
    assert event["time"] == "2026-12-04T18:30:05Z"
    assert event["resources"] == ["arn:aws:s3:::bucket"]
    assert event["detail"] == {"order": 7}
    assert bus == "default"


def test_an_entry_time_is_kept_and_normalised_to_utc() -> None:
    # Given a Time in another zone; When the event's time is written; Then it is UTC
    assert event_time("2026-01-02T03:04:05+01:00", NOW) == "2026-01-02T02:04:05Z"
    assert event_time(None, NOW) == "2026-12-04T18:30:05Z"


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"DetailType": "x", "Detail": "{}"}, "Source"),
        ({"Source": "s", "Detail": "{}"}, "DetailType"),
        ({"Source": "s", "DetailType": "x", "Detail": "[1]"}, "Detail is malformed"),
        ({"Source": "s", "DetailType": "x", "Detail": "{oops"}, "Detail is malformed"),
    ],
)
def test_an_invalid_entry_is_refused_naming_the_field(entry: dict[str, str], named: str) -> None:
    # Given an entry missing a field or with a Detail that is no JSON object
    # When its event is built; Then the refusal names the field and what was expected
    with pytest.raises(EventsValidationException, match=named) as refused:
        envelope(entry, event_id="e", now=NOW)
    assert "expected" in refused.value.message


def test_a_bus_is_named_by_its_name_or_arn() -> None:
    # Given the default bus by name and ARN, and a custom bus's ARN
    arn = "arn:aws:events:us-east-1:111111111111:event-bus/default"
    custom = "arn:aws:events:us-east-1:111111111111:event-bus/orders"
    # When they are resolved; Then each is its name (no name is the default bus)
    assert bus_name(None) == bus_name("default") == bus_name(arn) == "default"
    assert bus_name(custom) == bus_name("orders") == "orders"


def test_a_target_gets_its_input_its_input_path_or_the_event() -> None:
    # Given an event and three targets
    event, _ = envelope(ENTRY, event_id="e-1", now=NOW)
    # When their inputs are computed; Then Input is as given, InputPath selects, else all
    assert target_input({"Id": "a", "Arn": "x", "Input": '{"k": 1}'}, event) == '{"k": 1}'
    assert json.loads(target_input({"Id": "b", "Arn": "x", "InputPath": "$.detail"}, event)) == {
        "order": 7
    }
    assert json.loads(target_input({"Id": "c", "Arn": "x"}, event)) == event
    with pytest.raises(ValueError, match=r"\$\.nope"):
        target_input({"Id": "d", "Arn": "x", "InputPath": "$.nope"}, event)


def test_a_delivery_name_is_stable_valid_and_distinct_per_target() -> None:
    # Given one event delivered to two targets of a long-named rule
    rule = "r" * 64
    first = delivery_key("e-1", "arn:rule", "t1")
    # When their execution names are derived
    name = execution_name(rule, first)
    # Then the name is a valid execution name, the same on a retry, another for t2
    assert EXECUTION_NAME.match(name)
    assert name == execution_name(rule, delivery_key("e-1", "arn:rule", "t1"))
    assert name != execution_name(rule, delivery_key("e-1", "arn:rule", "t2"))


def test_the_status_change_event_has_aws_detail_shape() -> None:
    # Given a succeeded execution
    record = ExecutionRecord(
        arn="arn:aws:states:us-east-1:111111111111:execution:orders:r1",
        machine_arn="arn:aws:states:us-east-1:111111111111:stateMachine:orders",
        name="r1",
        type="STANDARD",
        status="SUCCEEDED",
        start_date=NOW,
        input={"a": 1},
        stop_date=NOW.replace(second=9),
        output={"b": 2},
    )
    # When its SUCCEEDED and RUNNING events are built
    ended, running = status_event(record, "SUCCEEDED"), status_event(record, "RUNNING")
    # Then both are aws.states status change events with AWS's detail fields
    assert ended["source"] == "aws.states"
    assert ended["detail-type"] == "Step Functions Execution Status Change"
    assert ended["resources"] == [record.arn]
    detail = ended["detail"]
    assert detail["status"] == "SUCCEEDED"
    assert detail["startDate"] == int(NOW.timestamp() * 1000)
    assert detail["stopDate"] == int(NOW.replace(second=9).timestamp() * 1000)
    assert (detail["input"], detail["output"]) == ('{"a":1}', '{"b":2}')
    assert running["detail"]["stopDate"] is None
    assert running["detail"]["output"] is None
    # And each status has its own id, the same every time it is built (redelivery)
    assert ended["id"] != running["id"]
    assert ended["id"] == status_event(record, "SUCCEEDED")["id"]


def test_an_in_process_client_has_no_bus_and_says_so() -> None:
    # Given an in-process client (nothing stored)
    from engine._api import Client

    client = Client.local()
    # When a rule is put on its bus
    # Then that is refused, saying where the bus lives and what to use instead
    with pytest.raises(EventsValidationException, match=r"engine\.connect\(\)"):
        client.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
