"""Metrics and execution logs come from committed steps, on SQLite and PostgreSQL.

Executions run through the real runtime and store (an in-memory dispatcher stands in for
Celery); the counters are read from prometheus_client's registry, the logs from the
JSON-lines file the settings name.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from config.settings import Settings
from engine import connect
from engine._api import Client
from engine._clock import FakeClock
from engine._interpreter.history import HistoryEvent
from engine._interpreter.turn import StepResult, iso_timestamp
from engine._observe.committed import CommittedStep
from engine._observe.execution_logs import ERROR_EVENTS
from engine._observe.metrics import StoreGauges, exposition, metrics_registry
from engine._resources import HandlerRegistry
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

Json = Any
ROLE = "arn:aws:iam::111111111111:role/observed"
FN = "arn:aws:lambda:us-east-1:111111111111:function:"
HANDLER_SECONDS = 5
MACHINE = {
    "StartAt": "Check",
    "States": {
        "Check": {"Type": "Pass", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": f"{FN}charge", "End": True},
    },
}


class Fixture:
    """A durable client on the store, a fake clock, and a dispatcher delivered by hand."""

    def __init__(self, store: Store, log_file: Path) -> None:
        self.clock = FakeClock()
        self.dispatcher = InMemoryDispatcher()
        self.handlers = HandlerRegistry()
        self.handlers.register("charge", self._charge)
        self.client: Client = connect(
            Settings(execution_log_file=str(log_file)),
            store=store,
            dispatcher=self.dispatcher,
            clock=self.clock,
            handlers=self.handlers,
        )
        self.runtime = self.client.backend.runtime  # type: ignore[attr-defined]
        self.log_file = log_file

    def _charge(self, event: Json, _: Any) -> Json:
        self.clock.advance(HANDLER_SECONDS)  # the handler takes 5 s of the fake clock
        if event["amount"] < 0:
            raise ValueError("a negative amount")
        return {"charged": event["amount"]}

    def machine(self, logging: Json = None) -> tuple[str, str]:
        name = f"observed-{uuid.uuid4().hex[:8]}"
        options = {"loggingConfiguration": logging} if logging else {}
        arn = self.client.create_state_machine(
            name=name, definition=json.dumps(MACHINE), roleArn=ROLE, **options
        )["stateMachineArn"]
        return name, str(arn)

    def start(self, machine_arn: str, amount: int) -> str:
        return str(
            self.client.start_execution(
                stateMachineArn=machine_arn, input=json.dumps({"amount": amount})
            )["executionArn"]
        )

    def drain(self) -> None:
        self.dispatcher.join(self.runtime, self.handlers, self.clock)

    def history(self, arn: str) -> list[dict[str, Json]]:
        return list(self.client.get_execution_history(executionArn=arn)["events"])

    def log_records(self) -> list[dict[str, Json]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]


@pytest.fixture
def observed(store: Store, tmp_path: Path) -> Fixture:
    return Fixture(store, tmp_path / "executions.jsonl")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_counters_match_the_executions_that_ran(observed: Fixture) -> None:
    # Given a machine: Pass, then a Task whose handler takes 5 s and fails on a negative amount
    name, machine_arn = observed.machine()

    # When two executions succeed, one fails and one is stopped before it runs
    runs = [observed.start(machine_arn, amount) for amount in (1, 2, -1)]
    stopped = observed.start(machine_arn, 3)
    observed.client.stop_execution(executionArn=stopped, error="Halt", cause="by hand")
    observed.drain()

    # Then each fact is counted once, by machine and status
    statuses = [observed.client.describe_execution(executionArn=a)["status"] for a in runs]
    assert statuses == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert sample("stepline_executions_started_total", state_machine=name) == 4
    ended = "stepline_executions_ended_total"
    assert sample(ended, state_machine=name, status="SUCCEEDED") == 2
    assert sample(ended, state_machine=name, status="FAILED") == 1
    assert sample(ended, state_machine=name, status="ABORTED") == 1
    assert sample(ended, state_machine=name, status="TIMED_OUT") == 0
    # And transitions are the states entered, as the histories show them
    entered = sum(
        1
        for arn in [*runs, stopped]
        for event in observed.history(arn)
        if event["type"].endswith("StateEntered")
    )
    assert sample("stepline_state_transitions_total", state_machine=name) == entered == 6
    # And the handler's failure is an integration error named by its exception
    errors = "stepline_integration_errors_total"
    failed = {"state_machine": name, "event": "LambdaFunctionFailed", "error": "ValueError"}
    assert sample(errors, **failed) == 1
    # And the Task state is timed from its entry to its exit, as the histories date them
    # (the handlers ran one after another on the fake clock: 5 s, then 10 s)
    duration = "stepline_state_duration_seconds"
    assert sample(f"{duration}_count", state_machine=name, state="Charge") == 2
    timed = sum(_seconds_in(observed.history(arn), "Charge") for arn in runs)
    assert sample(f"{duration}_sum", state_machine=name, state="Charge") == timed == 15
    execution = "stepline_execution_duration_seconds_count"
    assert sample(execution, state_machine=name, status="SUCCEEDED") == 2
    assert sample("stepline_handler_duration_seconds_count", handler="charge", outcome="failed")


def _seconds_in(history: list[dict[str, Json]], state: str) -> float:
    """Seconds from the state's entry to its exit (0 if it never exited)."""
    moments = {
        e["type"]: e["timestamp"]
        for e in history
        if e["type"] in ("TaskStateEntered", "TaskStateExited")
        and e.get("stateEnteredEventDetails", e.get("stateExitedEventDetails", {}))["name"] == state
    }
    if "TaskStateExited" not in moments:
        return 0.0
    return (moments["TaskStateExited"] - moments["TaskStateEntered"]).total_seconds()


def test_a_rolled_back_step_is_neither_counted_nor_logged(observed: Fixture, store: Store) -> None:
    # Given a running execution and a listener that records what it hears
    _, machine_arn = observed.machine({"level": "ALL", "includeExecutionData": True})
    arn = observed.start(machine_arn, 1)
    heard: list[CommittedStep] = []
    store.listen("test", heard.append)
    execution_id = store.execution_id(arn)
    assert execution_id is not None
    logged_before = len(observed.log_records())

    # When a step records an event and its transaction rolls back
    def failing_step() -> None:
        with store.session(execution_id) as session:
            session.load("root")
            session.apply(_one_event(session.header, observed.clock), observed.clock.now())
            raise RuntimeError("the step failed before its commit")

    with pytest.raises(RuntimeError):
        failing_step()

    # Then nobody heard of it
    assert heard == []
    assert len(observed.log_records()) == logged_before

    # When the same step commits
    with store.session(execution_id) as session:
        session.load("root")
        session.apply(_one_event(session.header, observed.clock), observed.clock.now())

    # Then it is heard once, with its event
    assert [[e.type for e in step.events] for step in heard] == [["PassStateEntered"]]
    assert observed.log_records()[-1]["type"] == "PassStateEntered"


def _one_event(header: Any, clock: FakeClock) -> StepResult:
    event = HistoryEvent(
        header.next_event_id, 0, "PassStateEntered", iso_timestamp(clock.now()), {"name": "X"}
    )
    return StepResult(replace(header, next_event_id=header.next_event_id + 1), history=(event,))


@pytest.mark.parametrize(
    ("level", "include_data"),
    [("ALL", True), ("ALL", False), ("ERROR", False), ("FATAL", True), ("OFF", True)],
)
def test_execution_logs_hold_the_events_the_level_selects(
    observed: Fixture, level: str, include_data: bool
) -> None:
    # Given a machine logging at ``level`` to a log group
    group = f"/aws/vendedlogs/states/{level.lower()}"
    logging = {
        "level": level,
        "includeExecutionData": include_data,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": f"arn:aws:logs:us-east-1:111111111111:log-group:{group}:*"
                }
            }
        ],
    }
    _, machine_arn = observed.machine(logging)

    # When one execution fails
    arn = observed.start(machine_arn, -1)
    observed.drain()

    # Then one record per selected history event, in order, shaped as AWS logs them
    history = observed.history(arn)
    selected = {
        "ALL": history,
        "ERROR": [e for e in history if e["type"] in ERROR_EVENTS],
        "FATAL": [e for e in history if e["type"] == "ExecutionFailed"],
        "OFF": [],
    }[level]
    records = [r for r in observed.log_records() if r["execution_arn"] == arn]
    assert [(r["id"], r["type"]) for r in records] == [(str(e["id"]), e["type"]) for e in selected]
    for record, event in zip(records, selected, strict=True):
        assert set(record) == {
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count",
        }
        assert record["previous_event_id"] == str(event["previousEventId"])
        assert record["event_timestamp"] == str(round(event["timestamp"].timestamp() * 1000))
        assert record["redrive_count"] == "0"
    started = next((r for r in records if r["type"] == "ExecutionStarted"), None)
    if started is not None:
        # And the payload is there only with includeExecutionData
        assert ("input" in started["details"]) is include_data
        assert started["details"]["roleArn"] == ROLE
    if level == "ERROR":
        assert [r["type"] for r in records] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_the_store_gauges_show_late_work_when_scraped(observed: Fixture, store: Store) -> None:
    # Given an execution waiting 60 s, whose published messages nobody consumed
    name = f"waiting-{uuid.uuid4().hex[:8]}"
    definition = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}}
    arn = observed.client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    observed.client.start_execution(stateMachineArn=arn)
    observed.dispatcher.run_all(observed.runtime, observed.handlers)  # enter the Wait only

    # When the clock passes the Wait's end by 30 s, and the store is scraped
    observed.clock.advance(90)
    backlog = store.backlog(observed.clock.now())
    gauges = StoreGauges(store.backlog, observed.clock.now)
    body, content_type = exposition(metrics_registry(gauges=gauges))

    # Then the timer is overdue by 30 s and the execution counts as running
    assert backlog.overdue_timers >= 1
    assert backlog.oldest_overdue_timer_seconds >= 30
    assert backlog.running_executions[arn] == 1
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert f'stepline_executions_running{{state_machine="{name}"}} 1.0' in text
    assert "stepline_store_up 1.0" in text
    assert "stepline_timers_overdue " in text


def test_an_unreachable_store_is_reported_not_raised() -> None:
    # Given gauges whose store is away
    def away(_: Any) -> Any:
        raise ConnectionError("the store is away")

    gauges = StoreGauges(away, FakeClock().now)

    # When scraped
    body, _ = exposition(metrics_registry(gauges=gauges))

    # Then the scrape answers, saying the store is down
    assert "stepline_store_up 0.0" in body.decode()


def test_the_relay_counts_what_it_republishes(observed: Fixture) -> None:
    # Given an execution whose first message was committed but never delivered
    _, machine_arn = observed.machine()
    observed.start(machine_arn, 1)
    before = sample("stepline_relay_republished_messages_total")

    # When its lease expires and the relay runs
    observed.clock.advance(timedelta(hours=1).total_seconds())
    relayed = observed.runtime.relay()

    # Then each republished message is counted
    assert relayed >= 1
    assert sample("stepline_relay_republished_messages_total") - before == relayed
