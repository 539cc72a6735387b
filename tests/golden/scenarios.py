"""Golden checkpoints: executions paused mid-flight, stored as the rows a release wrote.

Each scenario is a machine, an input and the moment to pause it (a predicate over the
store). :func:`record` runs it on a fresh store until that moment, dumps every row of the
execution (``dump_rows``), then resumes a copy loaded from that dump (``resume``) and keeps
the history it ends with. The test resumes the same dump with this release's code and
must end with the same history: later releases keep reading what earlier ones wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, insert, select, text

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._errors import StatesError
from engine._resources import HandlerContext, HandlerRegistry
from engine._runtime import Runtime, RuntimeSettings
from engine._store.checkpoint import event_to_json
from engine._store.repository import Store
from engine._store.rows import (
    DEFINITIONS,
    EXECUTIONS,
    HISTORY,
    MACHINES,
    OUTBOX,
    TASKS,
    THREADS,
    TIMERS,
    utc,
)
from engine.testing import InMemoryDispatcher, deliver

Json = Any
GOLDEN = Path(__file__).with_name("checkpoints")
FN = "arn:aws:lambda:us-east-1:111111111111:function:"
ROLE = "arn:aws:iam::111111111111:role/golden"
START = datetime(2024, 1, 1, tzinfo=UTC)
SETTINGS = RuntimeSettings(lease_seconds=60.0)
# Parents before children: the order rows are loaded in.
TABLES = (DEFINITIONS, MACHINES, EXECUTIONS, THREADS, HISTORY, TIMERS, TASKS, OUTBOX)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def handlers() -> HandlerRegistry:
    """The handlers every scenario's Task states call (deterministic)."""
    registry = HandlerRegistry()
    registry.register("charge", lambda event, _: {"charged": sum(event["items"])})
    registry.register("ship", lambda event, _: {"shipped": event["order"]})
    registry.register("double", lambda event, _: event * 2)
    registry.register("flaky", _flaky)
    return registry


def _flaky(event: Json, context: HandlerContext) -> Json:
    # Fails its first attempt only; a StatesError keeps the cause free of request ids.
    if context.attempt == 0:
        raise StatesError("Custom.Flaky", "the first attempt always fails")
    return {"ok": event["order"]}


def _task(name: str, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": f"{FN}{name}", **fields}


@dataclass(frozen=True)
class Scenario:
    """A machine, its input, and when to pause it."""

    name: str
    definition: dict[str, Json]
    input: Json
    paused: Callable[[Engine], bool]


def _exists(query: Any) -> Callable[[Engine], bool]:
    def check(engine: Engine) -> bool:
        with engine.connect() as db:
            return db.execute(query.limit(1)).first() is not None

    return check


def _branches_half_done(engine: Engine) -> bool:
    """Some children of the root ended and some have not."""
    with engine.connect() as db:
        rows = db.execute(select(THREADS.c.status).where(THREADS.c.parent_id == "root")).all()
    statuses = {status for (status,) in rows}
    return "SUCCEEDED" in statuses and "RUNNING" in statuses


ITEMS = {"order": "o-1", "items": [1, 2, 3]}
SCENARIOS = (
    Scenario(
        "parallel",
        {
            "StartAt": "Fan",
            "States": {
                "Fan": {
                    "Type": "Parallel",
                    "End": True,
                    "Branches": [
                        {"StartAt": "Ship", "States": {"Ship": _task("ship", End=True)}},
                        {"StartAt": "Note", "States": {"Note": {"Type": "Pass", "End": True}}},
                    ],
                }
            },
        },
        ITEMS,
        _branches_half_done,
    ),
    Scenario(
        "map",
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 1,
                    "End": True,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Double",
                        "States": {"Double": _task("double", End=True)},
                    },
                }
            },
        },
        ITEMS,
        _branches_half_done,
    ),
    Scenario(
        "wait",
        {
            "StartAt": "Prepare",
            "States": {
                "Prepare": {"Type": "Pass", "Next": "Pause"},
                "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Charge"},
                "Charge": _task("charge", ResultPath="$.charge", End=True),
            },
        },
        ITEMS,
        _exists(select(TIMERS.c.id).where(TIMERS.c.kind == "wait", TIMERS.c.fired.is_(False))),
    ),
    Scenario(
        "retry",
        {
            "StartAt": "Try",
            "States": {
                "Try": _task(
                    "flaky",
                    Retry=[{"ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 5}],
                    End=True,
                )
            },
        },
        ITEMS,
        _exists(select(TIMERS.c.id).where(TIMERS.c.kind == "retry", TIMERS.c.fired.is_(False))),
    ),
    Scenario(
        "task",
        {
            "StartAt": "Prepare",
            "States": {
                "Prepare": {"Type": "Pass", "Next": "Charge"},
                "Charge": _task("charge", End=True),
            },
        },
        ITEMS,
        _exists(select(TASKS.c.seq).where(TASKS.c.status == "SCHEDULED")),
    ),
)


# --- rows <-> JSON ---------------------------------------------------------------------------


def dump_rows(engine: Engine) -> dict[str, list[dict[str, Json]]]:
    """Every row of the store's tables, datetimes as ISO text (UTC)."""
    dumped: dict[str, list[dict[str, Json]]] = {}
    with engine.connect() as db:
        for table in TABLES:
            rows = db.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            dumped[table.name] = [
                {k: (utc(v).isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}  # type: ignore[union-attr]
                for row in rows
            ]
    return dumped


def load_rows(store: Store, rows: dict[str, list[dict[str, Json]]]) -> None:
    """Insert dumped rows into an empty store (ids kept; PostgreSQL sequences moved past)."""
    with store.engine.begin() as db:
        for table in TABLES:
            values = [_typed(table, row) for row in rows.get(table.name, [])]
            if values:
                db.execute(insert(table), values)
        if db.dialect.name == "postgresql":
            for table in (EXECUTIONS, TIMERS, OUTBOX):
                db.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                    )
                )


def _typed(table: Any, row: dict[str, Json]) -> dict[str, Json]:
    return {
        name: (
            datetime.fromisoformat(value)
            if value is not None and isinstance(table.c[name].type, DateTime)
            else value
        )
        for name, value in row.items()
    }


# --- running ---------------------------------------------------------------------------------


def resume(store: Store, golden: dict[str, Json]) -> list[dict[str, Json]]:
    """Load a golden checkpoint into ``store``, run it to the end; returns its history."""
    load_rows(store, golden["rows"])
    clock = FakeClock(datetime.fromisoformat(golden["paused_at"]))
    dispatcher = InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock, settings=SETTINGS)
    # The messages in flight at the pause: every unconsumed outbox row, in the order written.
    pending = sorted(store.due_outbox(FAR_FUTURE, 10_000), key=lambda m: m.id)
    dispatcher.publish(pending)
    registry = handlers()
    dispatcher.join(runtime, registry, clock)
    return [event_to_json(e) for e in store.history(golden["execution_arn"])]


def run_until_paused(store: Store, scenario: Scenario) -> dict[str, Json]:
    """Start ``scenario`` on an empty store and stop once it is paused; returns the dump."""
    clock = FakeClock(START)
    dispatcher = InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock, settings=SETTINGS)
    registry = handlers()
    client = Client(DurableBackend(store, runtime, registry), clock=clock)
    definition = json.dumps(scenario.definition)
    created = client.create_state_machine(name=scenario.name, definition=definition, roleArn=ROLE)
    started = client.start_execution(
        stateMachineArn=created["stateMachineArn"], name="golden", input=json.dumps(scenario.input)
    )
    for _ in range(10_000):
        if scenario.paused(store.engine):
            break
        if dispatcher.queue:
            deliver(runtime, registry, dispatcher.queue.popleft())
            continue
        due = store.next_timer_due()
        if due is None:
            raise AssertionError(f"{scenario.name}: ended before its pause point")
        clock.sleep_until(due)
        runtime.fire_due_timers()
    else:
        raise AssertionError(f"{scenario.name}: never reached its pause point")
    return {
        "scenario": scenario.name,
        "execution_arn": started["executionArn"],
        "paused_at": clock.now().isoformat(),
        "rows": dump_rows(store.engine),
    }
