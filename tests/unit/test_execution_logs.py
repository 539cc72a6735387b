"""Execution log records: which events each level selects, and the shape AWS gives them."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine._interpreter.history import HistoryEvent
from engine._observe.committed import CommittedStep
from engine._observe.execution_logs import (
    ERROR_EVENTS,
    FATAL_EVENTS,
    ExecutionLogs,
    JsonLinesFile,
    LoggingConfiguration,
    LogLevel,
    log_record,
)
from engine._observe.metrics import handler_label

ARN = "arn:aws:states:us-east-1:111111111111:execution:orders:run-1"
MACHINE = "arn:aws:states:us-east-1:111111111111:stateMachine:orders"
GROUP_ARN = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/states/orders:*"
STARTED = HistoryEvent(
    1,
    0,
    "ExecutionStarted",
    "2024-06-10T06:13:20.123Z",
    {"input": '{"card": "4111"}', "inputDetails": {"truncated": False}, "roleArn": "r"},
)
TASK_FAILED = HistoryEvent(
    5, 4, "TaskFailed", "2024-06-10T06:13:21.000Z", {"error": "E", "cause": "c", "resource": "x"}
)
PASS_EXITED = HistoryEvent(
    3, 2, "PassStateExited", "2024-06-10T06:13:20.500Z", {"name": "P", "output": "{}"}
)
FAILED = HistoryEvent(6, 5, "ExecutionFailed", "2024-06-10T06:13:21.001Z", {"error": "E"})
EVENTS = (STARTED, PASS_EXITED, TASK_FAILED, FAILED)
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:"
STARTED_AT = datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("level", "selected"),
    [
        ("ALL", ["ExecutionStarted", "PassStateExited", "TaskFailed", "ExecutionFailed"]),
        ("ERROR", ["TaskFailed", "ExecutionFailed"]),
        ("FATAL", ["ExecutionFailed"]),
        ("OFF", []),
    ],
)
def test_each_level_selects_the_event_types_of_aws_table(level: str, selected: list[str]) -> None:
    # Given a configuration at ``level``
    config = LoggingConfiguration.of({"level": level, "includeExecutionData": False})
    # Then it selects exactly AWS's event types for that level
    assert [e.type for e in EVENTS if config.selects(e.type)] == selected


def test_fatal_is_the_three_ends_and_error_includes_them() -> None:
    # Given AWS's table
    # Then FATAL is the failed, aborted and timed-out ends, and ERROR logs them too
    assert {"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"} == FATAL_EVENTS
    assert FATAL_EVENTS < ERROR_EVENTS
    assert not {"ExecutionStarted", "ExecutionSucceeded", "TaskSucceeded"} & ERROR_EVENTS


@pytest.mark.parametrize("stored", [None, {}, {"level": "LOUD"}, "ALL", {"level": "OFF"}])
def test_a_missing_or_unknown_configuration_logs_nothing(stored: object) -> None:
    # Given nothing usable stored
    config = LoggingConfiguration.of(stored)
    # Then the level is OFF
    assert config.level is LogLevel.OFF
    assert not config.selects("ExecutionFailed")


def test_the_log_group_is_named_by_its_arn() -> None:
    # Given a destination's log group ARN
    stored = {
        "level": "ALL",
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}],
    }
    # Then the group's name is the ARN's, without the trailing :*
    assert LoggingConfiguration.of(stored).log_group == "/aws/vendedlogs/states/orders"
    assert LoggingConfiguration.of({"level": "ALL"}).log_group == "stepline"


def test_a_record_has_aws_shape_with_the_data_only_when_included() -> None:
    # When the start event is logged with and without execution data
    with_data = log_record(STARTED, ARN, 2, include_execution_data=True)
    without = log_record(STARTED, ARN, 2, include_execution_data=False)
    # Then numbers are text, the time is epoch milliseconds, the details are the event's
    assert with_data == {
        "id": "1",
        "type": "ExecutionStarted",
        "details": {
            "input": '{"card": "4111"}',
            "inputDetails": {"truncated": False},
            "roleArn": "r",
        },
        "previous_event_id": "0",
        "event_timestamp": "1718000000123",
        "execution_arn": ARN,
        "redrive_count": "2",
    }
    # And without data the payload is left out, the rest kept
    assert without["details"] == {"inputDetails": {"truncated": False}, "roleArn": "r"}
    assert "output" not in log_record(PASS_EXITED, ARN, 0, include_execution_data=False)["details"]


def test_records_go_to_the_log_groups_logger_and_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a machine logging ERROR to a group, and a JSON-lines file
    stored = {
        "level": "ERROR",
        "includeExecutionData": False,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": GROUP_ARN}}],
    }
    asked: list[str] = []

    def configuration_of(arn: str) -> object:
        asked.append(arn)
        return stored

    logs = ExecutionLogs(configuration_of, file=JsonLinesFile(str(tmp_path / "x.jsonl")))
    step = CommittedStep(ARN, MACHINE, "orders", STARTED_AT, 0, EVENTS)

    # When two committed steps are heard
    with caplog.at_level(logging.INFO, logger="stepline.executions"):
        logs(step)
        logs(step)

    # Then the error events are logged, ERROR and CRITICAL, under the group's logger
    expected = [("TaskFailed", logging.ERROR), ("ExecutionFailed", logging.CRITICAL)] * 2
    assert [(json.loads(r.message)["type"], r.levelno) for r in caplog.records] == expected
    assert {r.name for r in caplog.records} == {"stepline.executions./aws/vendedlogs/states/orders"}
    # And the file holds the same lines
    lines = (tmp_path / "x.jsonl").read_text().splitlines()
    assert lines == [r.message for r in caplog.records]
    # And the machine's configuration was read once (cached for a few seconds)
    assert asked == [MACHINE]


def test_the_file_is_reopened_after_a_fork(tmp_path: Path) -> None:
    # Given a file written by this process
    sink = JsonLinesFile(str(tmp_path / "x.jsonl"))
    sink.write('{"a":1}')
    # When a forked child writes to it too
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        sink.write('{"b":2}')
        os._exit(0)
    os.waitpid(child, 0)
    sink.write('{"c":3}')
    # Then every line is there, whole
    assert (tmp_path / "x.jsonl").read_text().splitlines() == ['{"a":1}', '{"b":2}', '{"c":3}']


@pytest.mark.parametrize(
    ("resource", "parameters", "label"),
    [
        ("arn:aws:lambda:us-east-1:111111111111:function:charge", None, "charge"),
        ("arn:aws:states:::lambda:invoke", {"FunctionName": f"{FUNCTION}ship:live"}, "ship"),
        ("arn:aws:states:::sqs:sendMessage", {}, "sqs:sendMessage"),
        ("arn:aws:states:us-east-1:111111111111:activity:review", None, "activity:review"),
    ],
)  # fmt: skip
def test_handler_durations_are_labelled_by_the_handler_a_resource_runs(
    resource: str, parameters: object, label: str
) -> None:
    assert handler_label(resource, parameters) == label
