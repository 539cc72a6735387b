"""Event buses besides ``default``, on table ``event_buses`` (ADR 0022).

CreateEventBus, ListEventBuses, DescribeEventBus and DeleteEventBus.

As on AWS: ``default`` always exists and can be neither created nor deleted; a bus name is
1-256 letters, digits, ``.``, ``-``, ``_`` or ``/``; a bus with rules cannot be deleted
(delete its rules first). Execution status change events go to ``default`` only.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from engine._messaging.event_errors import EventsValidationException, ResourceNotFoundException
from engine._messaging.events import BUSES, DEFAULT_BUS, RULES, bus_arn, bus_name
from engine._store.db import writing

Json = Any
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")


class ResourceAlreadyExistsException(EventsValidationException):
    """A bus of that name exists already."""

    code = "ResourceAlreadyExistsException"


def create_event_bus(
    engine: Engine, name: str, description: str | None = None, *, now: datetime
) -> dict[str, Json]:
    """CreateEventBus; returns ``{"EventBusArn"}``.

    Raises:
        EventsValidationException: a malformed name, or ``default``.
        ResourceAlreadyExistsException: the bus exists.
    """
    if not isinstance(name, str) or not _BUS_NAME.match(name) or name == DEFAULT_BUS:
        raise EventsValidationException(
            f"CreateEventBus Name: expected 1-256 letters, digits, '.', '-', '_' or '/', "
            f"other than '{DEFAULT_BUS}', got {name!r}"
        )
    with writing(engine) as db:
        if db.execute(select(BUSES.c.name).where(BUSES.c.name == name)).first():
            raise ResourceAlreadyExistsException(f"Event bus {name} already exists.")
        row = {"name": name, "arn": bus_arn(name), "description": description, "created_at": now}
        db.execute(BUSES.insert().values(row))
    return {"EventBusArn": bus_arn(name)}


def list_event_buses(engine: Engine, prefix: str | None = None) -> dict[str, Json]:
    """ListEventBuses: ``{"EventBuses": [{"Name", "Arn", "Description"?}]}``, default first."""
    with engine.connect() as db:
        rows = db.execute(select(BUSES).order_by(BUSES.c.name)).mappings().all()
    buses = [{"Name": DEFAULT_BUS, "Arn": bus_arn()}] + [_bus(row) for row in rows]
    return {"EventBuses": [bus for bus in buses if bus["Name"].startswith(prefix or "")]}


def describe_event_bus(engine: Engine, reference: str | None = None) -> dict[str, Json]:
    """DescribeEventBus: ``{"Name", "Arn", "Description"?}`` (default when none is named).

    Raises:
        ResourceNotFoundException: no such bus.
    """
    name = bus_name(reference)
    if name == DEFAULT_BUS:
        return {"Name": DEFAULT_BUS, "Arn": bus_arn()}
    with engine.connect() as db:
        row = db.execute(select(BUSES).where(BUSES.c.name == name)).mappings().first()
    if row is None:
        raise ResourceNotFoundException(f"Event bus {reference} does not exist.")
    return _bus(row)


def delete_event_bus(engine: Engine, name: str) -> None:
    """DeleteEventBus (a bus that does not exist is no error, as on AWS).

    Raises:
        EventsValidationException: ``default``, or a bus that still has rules.
    """
    name = bus_name(name)
    if name == DEFAULT_BUS:
        raise EventsValidationException(
            f"DeleteEventBus: expected a bus made with CreateEventBus, got '{DEFAULT_BUS}' "
            "(the default bus cannot be deleted)"
        )
    with writing(engine) as db:
        if db.execute(select(RULES.c.name).where(RULES.c.bus == name).limit(1)).first():
            raise EventsValidationException(
                f"DeleteEventBus {name}: the bus still has rules; expected DeleteRule on each first"
            )
        db.execute(delete(BUSES).where(BUSES.c.name == name))


def _bus(row: Any) -> dict[str, Json]:
    bus = {"Name": row["name"], "Arn": row["arn"]}
    if row["description"]:
        bus["Description"] = row["description"]
    return bus
