"""Execution logs as AWS's ``loggingConfiguration`` defines them (ADR 0045).

A state machine whose ``loggingConfiguration.level`` is ALL, ERROR or FATAL gets one JSON
record per committed history event that its level selects, shaped as Step Functions
writes them to CloudWatch Logs::

    {"id": "3", "type": "TaskStateEntered", "details": {...}, "previous_event_id": "2",
     "event_timestamp": "1718000000123", "execution_arn": "arn:...", "redrive_count": "0"}

``details`` is the event's details object; with ``includeExecutionData`` false its
payloads (``input``, ``output``, ``parameters``, ``assignedVariables``) are left out.
Records go to the Python logger ``stepline.executions.<log group name>`` and, when a file
is configured, to that JSON-lines file. They are written after the step's commit
(`ExecutionLogs` is a store commit listener), so a rolled-back step logs nothing.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from engine._interpreter.history import HistoryEvent
from engine._observe.committed import CommittedStep

Json = Any

LOGGER = "stepline.executions"
"""The parent of every log group's logger (``stepline.executions.<group>``)."""


class LogLevel(StrEnum):
    """AWS's log levels: which history events a state machine logs."""

    ALL = "ALL"
    ERROR = "ERROR"
    FATAL = "FATAL"
    OFF = "OFF"


FATAL_EVENTS = frozenset({"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
"""The events FATAL logs (AWS's log level table)."""

ERROR_EVENTS = FATAL_EVENTS | {
    "FailStateEntered",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStartFailed",
    "LambdaFunctionTimedOut",
    "MapIterationAborted",
    "MapIterationFailed",
    "MapRunAborted",
    "MapRunFailed",
    "MapStateAborted",
    "MapStateFailed",
    "ParallelStateAborted",
    "ParallelStateFailed",
    "TaskFailed",
    "TaskStartFailed",
    "TaskStateAborted",
    "TaskSubmitFailed",
    "TaskTimedOut",
    "WaitStateAborted",
    # Not in AWS's table, which predates them; errors of the same kind (ADR 0045).
    "ActivityFailed",
    "ActivityScheduleFailed",
    "ActivityTimedOut",
    "EvaluationFailed",
}
"""The events ERROR logs: AWS's log level table, plus the activity and JSONata failures."""

EXECUTION_DATA = ("input", "output", "parameters", "assignedVariables")
"""The details fields that carry execution data (left out unless includeExecutionData)."""

DEFAULT_GROUP = "stepline"
"""The log group name of a configuration without a destination."""


@dataclass(frozen=True)
class LoggingConfiguration:
    """A state machine's ``loggingConfiguration``, as the logs need it."""

    level: LogLevel = LogLevel.OFF
    include_execution_data: bool = False
    log_group: str = DEFAULT_GROUP

    @classmethod
    def of(cls, stored: Json) -> LoggingConfiguration:
        """Read the configuration as the API stored it (None or malformed parts: OFF)."""
        if not isinstance(stored, dict):
            return cls()
        try:
            level = LogLevel(str(stored.get("level", "OFF")))
        except ValueError:
            level = LogLevel.OFF
        include = stored.get("includeExecutionData") is True
        return cls(level, include, _log_group(stored.get("destinations")))

    def selects(self, event_type: str) -> bool:
        """Whether this level logs events of ``event_type``."""
        if self.level is LogLevel.ALL:
            return True
        if self.level is LogLevel.ERROR:
            return event_type in ERROR_EVENTS
        if self.level is LogLevel.FATAL:
            return event_type in FATAL_EVENTS
        return False


def _log_group(destinations: Json) -> str:
    """The name in ``arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`` of the first destination."""
    if not isinstance(destinations, list) or not destinations:
        return DEFAULT_GROUP
    first = destinations[0] if isinstance(destinations[0], dict) else {}
    group = first.get("cloudWatchLogsLogGroup") or {}
    arn = str(group.get("logGroupArn") or "") if isinstance(group, dict) else ""
    name = arn.partition(":log-group:")[2]
    return name.removesuffix(":*") or DEFAULT_GROUP


def log_record(
    event: HistoryEvent, execution_arn: str, redrive_count: int, *, include_execution_data: bool
) -> dict[str, Json]:
    """One history event as Step Functions logs it (numbers as text, time in epoch ms)."""
    details = dict(event.details)
    if not include_execution_data:
        for name in EXECUTION_DATA:
            details.pop(name, None)
    return {
        "id": str(event.id),
        "type": event.type,
        "details": details,
        "previous_event_id": str(event.previous_event_id),
        "event_timestamp": str(_epoch_millis(event.timestamp)),
        "execution_arn": execution_arn,
        "redrive_count": str(redrive_count),
    }


def _epoch_millis(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp).timestamp() * 1000)


def python_level(event_type: str) -> int:
    """The Python log level of an event's record: CRITICAL for FATAL's, ERROR for ERROR's."""
    if event_type in FATAL_EVENTS:
        return logging.CRITICAL
    return logging.ERROR if event_type in ERROR_EVENTS else logging.INFO


class JsonLinesFile:
    """Appends records to a file, one JSON object per line, safely from many processes.

    Each line is one ``write`` on a descriptor opened with ``O_APPEND``, so lines from
    prefork children sharing the file never interleave. The descriptor is reopened after
    a fork.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        """Append ``line`` and a newline."""
        data = (line + "\n").encode()
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                self._pid = os.getpid()
            os.write(self._fd, data)


class ExecutionLogs:
    """A store commit listener writing each selected event of a committed step.

    Args:
        configuration_of: a state machine ARN's stored loggingConfiguration.
        file: the JSON-lines file to append to as well (None: loggers only).
        ttl_seconds: how long a machine's configuration is reused before it is read
            again, so an UpdateStateMachine reaches running executions within it.
    """

    def __init__(
        self,
        configuration_of: Callable[[str], Json],
        *,
        file: JsonLinesFile | None = None,
        ttl_seconds: float = 5.0,
    ) -> None:
        self._configuration_of = configuration_of
        self._file = file
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, LoggingConfiguration]] = {}

    def __call__(self, step: CommittedStep) -> None:
        """Write the records of ``step``'s events that its machine's level selects."""
        config = self.configuration(step.machine_arn)
        if config.level is LogLevel.OFF:
            return
        logger = logging.getLogger(f"{LOGGER}.{config.log_group}")
        for event in step.events:
            if not config.selects(event.type):
                continue
            record = log_record(
                event,
                step.execution_arn,
                step.redrive_count,
                include_execution_data=config.include_execution_data,
            )
            line = json.dumps(record, separators=(",", ":"), default=str)
            logger.log(python_level(event.type), line)
            if self._file is not None:
                self._file.write(line)

    def configuration(self, machine_arn: str) -> LoggingConfiguration:
        """The machine's configuration, read at most once per ``ttl_seconds``."""
        now = time.monotonic()
        cached = self._cache.get(machine_arn)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        config = LoggingConfiguration.of(self._configuration_of(machine_arn))
        if len(self._cache) >= 1024:
            self._cache.clear()
        self._cache[machine_arn] = (now, config)
        return config
