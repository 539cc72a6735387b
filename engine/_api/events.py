"""``client.events``: the event bus, shaped like boto3's ``events`` (EventBridge) client.

Same method names, request fields (PascalCase keyword arguments, as boto3 takes them),
response dicts and error codes::

    client.events.put_rule(Name="orders", EventPattern='{"detail-type": ["OrderPlaced"]}')
    client.events.put_targets(Rule="orders", Targets=[{"Id": "1", "Arn": machine_arn}])
    client.events.put_events(Entries=[{"Source": "shop", "DetailType": "OrderPlaced",
                                       "Detail": '{"order": 7}'}])

The bus lives in the durable store (ADR 0022): an in-process ``Client.local()`` has none.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from engine._errors import ClientError
from engine._messaging.event_errors import (
    EventsValidationException,
    InvalidEventPatternException,
    ResourceNotFoundException,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine._api import Client

Json = Any


class EventsClient:
    """The boto3-shaped EventBridge client of a stepline `Client` (``client.events``)."""

    exceptions = SimpleNamespace(
        ResourceNotFoundException=ResourceNotFoundException,
        InvalidEventPatternException=InvalidEventPatternException,
        ValidationException=EventsValidationException,
        ClientError=ClientError,
    )

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def _engine(self) -> Engine:
        store = getattr(self._client.backend, "store", None)
        if store is None:
            raise EventsValidationException(
                "events: the event bus lives in the durable store; expected a client from "
                "engine.connect(), got an in-process one (Client.local())"
            )
        engine: Engine = store.engine
        return engine

    def put_rule(
        self,
        *,
        Name: str,
        EventPattern: str | None = None,
        EventBusName: str | None = None,
        State: str = "ENABLED",
        Description: str | None = None,
        **_: Any,
    ) -> dict[str, Json]:
        """PutRule: create or update a pattern rule; returns ``{"RuleArn"}``."""
        if EventPattern is None:
            raise EventsValidationException(
                f"PutRule {Name}: expected an EventPattern (schedule rules are not supported)"
            )
        from engine._messaging import rules

        return rules.put_rule(
            self._engine,
            name=Name,
            pattern=EventPattern,
            bus=EventBusName,
            state=State,
            description=Description,
            now=self._client.clock.now(),
        )

    def describe_rule(self, *, Name: str, EventBusName: str | None = None) -> dict[str, Json]:
        """DescribeRule."""
        from engine._messaging import rules

        return rules.describe_rule(self._engine, Name, EventBusName)

    def list_rules(
        self, *, NamePrefix: str | None = None, EventBusName: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """ListRules (one page holds every rule)."""
        from engine._messaging import rules

        return rules.list_rules(self._engine, EventBusName, NamePrefix)

    def delete_rule(self, *, Name: str, EventBusName: str | None = None, **_: Any) -> None:
        """DeleteRule (refused while the rule has targets, as on AWS)."""
        from engine._messaging import rules

        rules.delete_rule(self._engine, Name, EventBusName)

    def put_targets(
        self, *, Rule: str, Targets: list[dict[str, Json]], EventBusName: str | None = None
    ) -> dict[str, Json]:
        """PutTargets: add or replace targets by Id; ``{"FailedEntryCount", "FailedEntries"}``."""
        from engine._messaging import rules

        return rules.put_targets(self._engine, Rule, Targets, EventBusName)

    def remove_targets(
        self, *, Rule: str, Ids: list[str], EventBusName: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """RemoveTargets."""
        from engine._messaging import rules

        return rules.remove_targets(self._engine, Rule, Ids, EventBusName)

    def list_targets_by_rule(
        self, *, Rule: str, EventBusName: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """ListTargetsByRule."""
        from engine._messaging import rules

        return rules.list_targets_by_rule(self._engine, Rule, EventBusName)

    def create_event_bus(
        self, *, Name: str, Description: str | None = None, **_: Any
    ) -> dict[str, Json]:
        """CreateEventBus; ``{"EventBusArn"}``."""
        from engine._messaging import buses

        return buses.create_event_bus(self._engine, Name, Description, now=self._client.clock.now())

    def list_event_buses(self, *, NamePrefix: str | None = None, **_: Any) -> dict[str, Json]:
        """ListEventBuses (default first; one page holds every bus)."""
        from engine._messaging import buses

        return buses.list_event_buses(self._engine, NamePrefix)

    def describe_event_bus(self, *, Name: str | None = None, **_: Any) -> dict[str, Json]:
        """DescribeEventBus."""
        from engine._messaging import buses

        return buses.describe_event_bus(self._engine, Name)

    def delete_event_bus(self, *, Name: str) -> None:
        """DeleteEventBus (refused for default and for a bus with rules)."""
        from engine._messaging import buses

        buses.delete_event_bus(self._engine, Name)

    def put_events(self, *, Entries: list[dict[str, Json]], **_: Any) -> dict[str, Json]:
        """PutEvents: ``{"FailedEntryCount", "Entries": [{"EventId"} | {"ErrorCode", ...}]}``.

        Each accepted event is delivered to its matching rules' targets before this returns.
        """
        from engine._messaging.events import put_events
        from engine._messaging.targets import target_sender

        engine = self._engine
        send = target_sender(self._client, engine, self._client.clock.now)
        return put_events(engine, Entries, send, now=self._client.clock.now())


class EventOperations:
    """Mixin of `Client`: ``client.events``, the event bus on the same store."""

    @property
    def events(self) -> EventsClient:
        """The EventBridge-shaped client of this client's store."""
        return EventsClient(self)  # type: ignore[arg-type]
