"""An EventBridge-shaped event bus on the store: rules, targets and PutEvents (ADR 0022).

Rules live in ``event_rules`` (migration 0004; `engine._messaging.rules` puts them): a rule
has an event pattern (matched with `engine._eventbus.patterns`), a state (ENABLED /
DISABLED) and its targets. Besides
``default`` (AWS's default bus of the account, always there), buses are made with
CreateEventBus (`engine._messaging.buses`); a bus is named by its name or its ARN.

`put_events` builds EventBridge's envelope (``version``, ``id``, ``detail-type``,
``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``) for each entry and
hands it to every ENABLED matching rule's targets through a `TargetSender`
(`engine._messaging.targets`). An event matching no rule is accepted and goes nowhere, as
on AWS. Delivery is at-least-once per target: a state machine target is started under a
name derived from the event id, rule and target, so delivering the same event again
starts nothing new.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from engine._errors import ClientError, ServiceUnavailable
from engine._eventbus.patterns import matches
from engine._messaging.event_errors import (
    EventsValidationException,
    ResourceNotFoundException,
)
from engine._resources import DEFAULT_ACCOUNT, DEFAULT_REGION
from engine._store.tables import EventBusRow, EventRuleRow

Json = Any
log = logging.getLogger("stepline.events")
RULES = EventRuleRow.__table__  # type: ignore[attr-defined]
BUSES = EventBusRow.__table__  # type: ignore[attr-defined]
DEFAULT_BUS = "default"
MAX_ENTRIES = 10  # AWS: a PutEvents request holds 1 to 10 entries
_RULES_TTL_SECONDS = 5.0
_any_rules: dict[int, tuple[float, bool]] = {}

TargetSender = Callable[[dict[str, Json], dict[str, Json], dict[str, Json]], None]
"""Delivers one event to one target: ``send(rule, target, event)``; may raise."""


def bus_arn(name: str = DEFAULT_BUS) -> str:
    """The ARN of event bus ``name``."""
    return f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:event-bus/{name}"


def bus_name(reference: str | None) -> str:
    """The name of the bus a request names (by name or ARN; None is the default bus)."""
    return (reference or DEFAULT_BUS).rsplit(":event-bus/", 1)[-1]


def existing_bus(engine: Engine, reference: str | None) -> str:
    """The name of the bus a request names, which must exist.

    Raises:
        ResourceNotFoundException: no such bus (``default`` always exists).
    """
    name = bus_name(reference)
    if name == DEFAULT_BUS:
        return name
    with engine.connect() as db:
        found = db.execute(select(BUSES.c.name).where(BUSES.c.name == name)).first()
    if found is None:
        raise ResourceNotFoundException(
            f"Event bus {reference} does not exist: expected '{DEFAULT_BUS}' or a bus made "
            "with CreateEventBus"
        )
    return name


def rule_arn(bus: str, name: str) -> str:
    """The ARN of rule ``name`` (rules of the default bus omit the bus, as on AWS)."""
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:rule/{path}"


# --- events ----------------------------------------------------------------------------


def put_events(
    engine: Engine,
    entries: list[dict[str, Json]],
    send: TargetSender,
    *,
    now: datetime,
    event_ids: Iterable[str] | None = None,
) -> dict[str, Json]:
    """PutEvents: accept each entry, build its event and deliver it to the matching rules.

    Args:
        engine: the store.
        entries: PutEventsRequestEntry objects (``Detail`` as JSON text).
        send: delivers one event to one target.
        now: the default ``Time``.
        event_ids: the events' ids (default: fresh UUIDs); a redelivered caller passes the
            same ids, so its targets start nothing twice.

    Returns:
        ``{"FailedEntryCount", "Entries": [{"EventId"} | {"ErrorCode", "ErrorMessage"}]}``,
        one result per entry, in order.

    Raises:
        EventsValidationException: not 1 to 10 entries.
    """
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
        raise EventsValidationException(
            f"PutEvents Entries: expected 1 to {MAX_ENTRIES} entries, got {entries!r}"[:300]
        )
    ids = iter(event_ids) if event_ids is not None else None
    results = []
    for entry in entries:
        event_id = next(ids) if ids is not None else str(uuid.uuid4())
        results.append(_put_one(engine, entry, send, now, event_id))
    failed = sum(1 for result in results if "ErrorCode" in result)
    return {"FailedEntryCount": failed, "Entries": results}


def _put_one(
    engine: Engine, entry: Json, send: TargetSender, now: datetime, event_id: str
) -> dict[str, str]:
    try:
        event, bus = envelope(entry, event_id=event_id, now=now)
        bus = existing_bus(engine, bus)
    except EventsValidationException as error:
        return {"ErrorCode": "InvalidArgument", "ErrorMessage": error.message}
    except ResourceNotFoundException as error:
        return {"ErrorCode": error.code, "ErrorMessage": error.message}
    deliver(engine, bus, event, send)
    return {"EventId": event_id}


def envelope(entry: Json, *, event_id: str, now: datetime) -> tuple[dict[str, Json], str]:
    """The EventBridge event of a PutEvents entry, and the bus it goes to.

    Raises:
        EventsValidationException: a missing Source, DetailType or Detail, or a Detail
            that is not a JSON object.
    """
    if not isinstance(entry, dict):
        raise EventsValidationException(f"Entry: expected an object, got {entry!r}"[:300])
    for field in ("Source", "DetailType", "Detail"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise EventsValidationException(
                f"Parameter {field} is not valid: expected a non-empty string, "
                f"got {entry.get(field)!r}"[:300]
            )
    detail = _detail(entry["Detail"])
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": DEFAULT_ACCOUNT,
        "time": event_time(entry.get("Time"), now),
        "region": DEFAULT_REGION,
        "resources": list(entry.get("Resources") or []),
        "detail": detail,
    }
    return event, bus_name(entry.get("EventBusName"))


def _detail(text: str) -> Json:
    try:
        detail = json.loads(text)
    except json.JSONDecodeError as error:
        raise EventsValidationException(
            f"Detail is malformed: expected a JSON object, got {text[:80]!r} ({error})"
        ) from None
    if not isinstance(detail, dict):
        raise EventsValidationException(
            f"Detail is malformed: expected a JSON object, got {text[:80]!r}"
        )
    return detail


def event_time(given: Json, now: datetime) -> str:
    """An event's ``time``: ISO 8601 UTC to the second, as EventBridge writes it."""
    moment = given if isinstance(given, datetime) else now
    if isinstance(given, str) and given:
        moment = datetime.fromisoformat(given.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deliver(engine: Engine, bus: str, event: dict[str, Json], send: TargetSender) -> int:
    """Send ``event`` to the targets of every ENABLED rule of ``bus`` it matches.

    A target that fails is logged and the others still get the event (a failing target
    never blocks another). Returns how many targets could not be reached for a reason that
    may pass (the store or a service unavailable), so the caller can deliver again later:
    a target refused for good (a machine or a queue that does not exist) is only logged.
    """
    transient = 0
    for rule in matching_rules(engine, bus, event):
        for target in rule["targets"] or []:
            try:
                send(rule, target, event)
            except Exception as error:  # one target's failure must not stop the others
                transient += not _permanent(error)
                log.exception(
                    "event %s: target %s of rule %s failed",
                    event["id"],
                    target.get("Id"),
                    rule["name"],
                )
    return transient


def _permanent(error: Exception) -> bool:
    """Whether delivering again could not help: the API refused the request itself."""
    if isinstance(error, ServiceUnavailable):
        return False
    return isinstance(error, ClientError | ValueError)


def matching_rules(engine: Engine, bus: str, event: dict[str, Json]) -> list[dict[str, Json]]:
    """The ENABLED rules of ``bus`` whose pattern matches ``event``."""
    with engine.connect() as db:
        query = select(RULES).where((RULES.c.bus == bus) & (RULES.c.state == "ENABLED"))
        rules = [dict(row) for row in db.execute(query).mappings()]
    return [rule for rule in rules if matches(rule["pattern"], event)]


# --- the "any rules?" check on the hot path -------------------------------------------------


def any_rules(db: Connection) -> bool:
    """Whether the default bus has some rule, cached for a few seconds per store.

    The runtime asks on every start and end of an execution, on the step's own
    connection: without rules, no status event is written at all. A rule put by this
    process is seen at once; one put by another process within the cache's few seconds.
    """
    key = id(db.engine)
    cached = _any_rules.get(key)
    if cached is not None and time.monotonic() - cached[0] < _RULES_TTL_SECONDS:
        return cached[1]
    # Status change events go to the default bus: only its rules can want them.
    query = select(RULES.c.name).where(RULES.c.bus == DEFAULT_BUS).limit(1)
    found = db.execute(query).first() is not None
    _any_rules[key] = (time.monotonic(), found)
    return found


def rules_changed(engine: Engine) -> None:
    """Forget the cached "any rules?" answer for ``engine`` (a rule was put or deleted)."""
    _any_rules.pop(id(engine), None)
