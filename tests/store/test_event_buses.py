"""Custom event buses on the durable backend: made, listed, used by rules and events, deleted."""

from __future__ import annotations

import json

import pytest

from engine._messaging.buses import ResourceAlreadyExistsException
from engine._messaging.event_errors import EventsValidationException, ResourceNotFoundException
from tests.store.test_event_bus import ECHO, ORDER, Bus, bus

__all__ = ["bus"]  # the fixture, shared with test_event_bus
BUS_ARN = "arn:aws:events:us-east-1:111111111111:event-bus/"


def test_a_custom_bus_is_created_listed_described_and_deleted(bus: Bus) -> None:
    # Given a bus "orders" made with CreateEventBus
    created = bus.client.events.create_event_bus(Name="orders", Description="shop")
    # When the buses are listed and "orders" described, then deleted
    listed = bus.client.events.list_event_buses()["EventBuses"]
    described = bus.client.events.describe_event_bus(Name="orders")
    bus.client.events.delete_event_bus(Name="orders")
    # Then its ARN is EventBridge's, it was listed after default, and is gone once deleted
    assert created == {"EventBusArn": f"{BUS_ARN}orders"}
    assert [b["Name"] for b in listed] == ["default", "orders"]
    assert described == {"Name": "orders", "Arn": f"{BUS_ARN}orders", "Description": "shop"}
    with pytest.raises(ResourceNotFoundException, match="orders"):
        bus.client.events.describe_event_bus(Name="orders")


def test_a_bus_twice_and_the_default_bus_are_refused(bus: Bus) -> None:
    # Given a bus "orders"
    bus.client.events.create_event_bus(Name="orders")
    # When it is created again, and default is created or deleted
    # Then each is refused with EventBridge's error
    with pytest.raises(ResourceAlreadyExistsException, match="orders"):
        bus.client.events.create_event_bus(Name="orders")
    with pytest.raises(EventsValidationException, match="default"):
        bus.client.events.create_event_bus(Name="default")
    with pytest.raises(EventsValidationException, match="default"):
        bus.client.events.delete_event_bus(Name="default")


def test_events_reach_the_rules_of_their_own_bus_only(bus: Bus) -> None:
    # Given the same OrderPlaced rule on bus "orders" (targeting "fulfil") and on default
    # (targeting "audit")
    fulfil, audit = bus.machine("fulfil", ECHO), bus.machine("audit", ECHO)
    bus.client.events.create_event_bus(Name="orders")
    pattern = json.dumps({"detail-type": ["OrderPlaced"]})
    for bus_name, target in (("orders", fulfil), ("default", audit)):
        bus.client.events.put_rule(Name="placed", EventPattern=pattern, EventBusName=bus_name)
        bus.client.events.put_targets(
            Rule="placed", EventBusName=bus_name, Targets=[{"Id": "t", "Arn": target}]
        )

    # When an OrderPlaced event is put on "orders" (by ARN)
    bus.client.events.put_events(Entries=[{**ORDER, "EventBusName": f"{BUS_ARN}orders"}])
    bus.settle()

    # Then only the "orders" rule's target ran; the rule's ARN names its bus
    assert len(bus.runs(fulfil)) == 1
    assert bus.runs(audit) == []
    described = bus.client.events.describe_rule(Name="placed", EventBusName="orders")
    assert described["Arn"].endswith(":rule/orders/placed")


def test_an_event_for_a_missing_bus_is_a_failed_entry_and_its_rules_are_refused(bus: Bus) -> None:
    # Given no bus "nowhere"
    # When an event is put on it, and a rule is put on it
    response = bus.client.events.put_events(Entries=[{**ORDER, "EventBusName": "nowhere"}])
    # Then the entry failed naming the bus, and the rule is refused
    assert response["FailedEntryCount"] == 1
    (entry,) = response["Entries"]
    assert entry["ErrorCode"] == "ResourceNotFoundException"
    assert "nowhere" in entry["ErrorMessage"]
    with pytest.raises(ResourceNotFoundException, match="nowhere"):
        bus.client.events.put_rule(Name="r", EventPattern=ORDER_PATTERN, EventBusName="nowhere")


def test_a_bus_with_rules_is_not_deleted(bus: Bus) -> None:
    # Given a bus with a rule
    bus.client.events.create_event_bus(Name="orders")
    bus.client.events.put_rule(Name="r", EventPattern=ORDER_PATTERN, EventBusName="orders")
    # When it is deleted; Then that is refused, naming what to do first
    with pytest.raises(EventsValidationException, match="DeleteRule"):
        bus.client.events.delete_event_bus(Name="orders")


ORDER_PATTERN = json.dumps({"detail-type": ["OrderPlaced"]})


def test_a_topic_target_fans_the_event_out_to_its_subscribed_queue(bus: Bus) -> None:
    # Given a topic "orders" with queue "audit" subscribed for raw delivery, and a rule
    # sending OrderPlaced events to the topic
    from engine._messaging import queues, topics

    engine, now = bus.runtime.store.engine, bus.clock.now()
    queues.create_queue(engine, "audit", now=now)
    topic = topics.create_topic(engine, "orders", now=now)
    topics.subscribe(engine, topic, "sqs", "audit", {"RawMessageDelivery": "true"}, now=now)
    bus.client.events.put_rule(Name="placed", EventPattern=ORDER_PATTERN)
    bus.client.events.put_targets(Rule="placed", Targets=[{"Id": "t", "Arn": topic}])

    # When an OrderPlaced event is put
    event_id = bus.client.events.put_events(Entries=[ORDER])["Entries"][0]["EventId"]

    # Then the queue holds the event
    (message,) = queues.receive_messages(engine, "audit", clock=bus.clock)
    assert json.loads(message.body)["id"] == event_id
