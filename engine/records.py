"""What the API stores about state machines and executions, whatever the backend.

The local backend keeps these in memory; the durable backend maps them to SQL rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.asl.model import StateMachine
from engine.interpreter.history import HistoryEvent

Json = Any


@dataclass
class VersionRecord:
    """A published, immutable version of a state machine."""

    arn: str
    number: int
    definition: str
    role_arn: str
    creation_date: datetime
    description: str | None = None
    revision_id: str | None = None


@dataclass
class MachineRecord:
    """A state machine: its latest revision plus its published versions."""

    arn: str
    name: str
    definition: str
    role_arn: str
    type: str
    creation_date: datetime
    update_date: datetime | None = None
    revision_id: str = ""
    status: str = "ACTIVE"
    description: str | None = None
    logging_configuration: Json = None
    tracing_configuration: Json = None
    versions: list[VersionRecord] = field(default_factory=list)


@dataclass
class ExecutionRecord:
    """An execution as DescribeExecution reports it, with its history."""

    arn: str
    machine_arn: str
    name: str
    type: str
    status: str
    start_date: datetime
    input: Json
    stop_date: datetime | None = None
    output: Json = None
    error: str | None = None
    cause: str | None = None
    version_arn: str | None = None
    history: list[HistoryEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Compiled:
    """A definition ready to run: its text, its model and the role it runs as."""

    text: str
    machine: StateMachine
    role_arn: str = ""
