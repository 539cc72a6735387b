"""Execution status change events on the durable backend (InMemoryDispatcher + FakeClock).

A FAILED execution starts its compensation through a rule; a status event message is only
written when a rule exists; one the broker lost is relayed, one delivered twice starts its
target once, and one whose target is unavailable waits for the relay.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._store.kinds import MessageKind
from tests.store.test_event_bus import ECHO, FAIL, HANDLERS, Bus, bus

__all__ = ["bus"]  # the fixture, shared with test_event_bus
Json = Any


def test_a_failed_execution_starts_its_compensation_through_a_status_rule(bus: Bus) -> None:
    # Given a rule on FAILED status changes of the "charge" machine targeting "refund"
    charge, refund = bus.machine("charge", FAIL), bus.machine("refund", ECHO)
    pattern = {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED"], "stateMachineArn": [charge]},
    }
    bus.client.events.put_rule(Name="compensate", EventPattern=json.dumps(pattern))
    bus.client.events.put_targets(
        Rule="compensate", Targets=[{"Id": "refund", "Arn": refund, "InputPath": "$.detail"}]
    )

    # When a charge execution fails
    started = bus.client.start_execution(stateMachineArn=charge, name="c1", input='{"card": 4}')
    bus.settle()

    # Then refund ran once, with AWS's status change detail of the failed run
    (run,) = bus.runs(refund)
    detail = json.loads(run["input"])
    assert detail["executionArn"] == started["executionArn"]
    assert detail["status"] == "FAILED"
    assert detail["error"] == "Broke"
    assert detail["name"] == "c1"
    assert json.loads(detail["input"]) == {"card": 4}
    assert isinstance(detail["startDate"], int)
    assert isinstance(detail["stopDate"], int)


def test_status_events_are_outbox_messages_only_when_a_rule_exists(bus: Bus) -> None:
    # Given no rule at all
    machine = bus.machine("quiet", ECHO)

    # When an execution runs
    bus.client.start_execution(stateMachineArn=machine, name="q1")
    bus.settle()

    # Then no status event message was ever published (the hot path stays cheap)
    assert not [m for m in bus.dispatcher.published if m.kind == MessageKind.EVENT]


def _compensation(bus: Bus) -> tuple[str, str]:
    """A "charge" machine that fails and a rule starting "refund" on its FAILED events."""
    charge, refund = bus.machine("charge", FAIL), bus.machine("refund", ECHO)
    pattern = {"source": ["aws.states"], "detail": {"status": ["FAILED"]}}
    bus.client.events.put_rule(Name="compensate", EventPattern=json.dumps(pattern))
    bus.client.events.put_targets(Rule="compensate", Targets=[{"Id": "r", "Arn": refund}])
    return charge, refund


def test_a_status_event_lost_before_delivery_is_relayed_and_delivered(bus: Bus) -> None:
    # Given the compensation rule, and a broker that loses every status event message
    charge, refund = _compensation(bus)
    publish = bus.dispatcher.publish
    bus.dispatcher.publish = lambda messages: publish(  # type: ignore[method-assign]
        [m for m in messages if m.kind != MessageKind.EVENT]
    )
    bus.client.start_execution(stateMachineArn=charge, name="c1")
    bus.settle()
    assert bus.runs(refund) == []

    # When the broker is back and the relay runs after the messages' lease
    bus.dispatcher.publish = publish  # type: ignore[method-assign]
    bus.clock.advance(bus.runtime.settings.lease_seconds + 1)
    relayed = bus.runtime.relay()
    bus.settle()

    # Then the FAILED event (and RUNNING, matching nothing) was delivered: refund ran once
    assert relayed == 2
    assert [run["status"] for run in bus.runs(refund)] == ["SUCCEEDED"]


def test_a_status_event_delivered_twice_starts_its_target_once(bus: Bus) -> None:
    # Given the compensation rule
    charge, refund = _compensation(bus)

    # When a charge fails and every message is delivered twice (at-least-once delivery)
    bus.client.start_execution(stateMachineArn=charge, name="c1")
    bus.dispatcher.join(bus.runtime, HANDLERS, bus.clock, duplicate=True)

    # Then refund ran once
    assert len(bus.runs(refund)) == 1


def test_a_status_event_whose_target_is_unavailable_is_left_for_the_relay(
    bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the compensation rule, and a store that refuses the target's start (failing over)
    from engine._errors import ServiceUnavailable
    from engine._messaging import targets

    charge, refund = _compensation(bus)

    def unavailable(*_: Json) -> None:
        raise ServiceUnavailable("the store is failing over")

    with monkeypatch.context() as patched:
        patched.setattr(targets, "start_once", unavailable)
        bus.client.start_execution(stateMachineArn=charge, name="c1")
        bus.settle()
    assert bus.runs(refund) == []

    # When the store is back and the relay runs after the message's lease
    bus.clock.advance(bus.runtime.settings.lease_seconds + 1)
    bus.runtime.relay()
    bus.settle()

    # Then the FAILED event reached refund after all
    assert len(bus.runs(refund)) == 1
