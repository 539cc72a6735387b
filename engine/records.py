"""What the API stores about state machines and executions, whatever the backend.

The local backend keeps these in memory; the durable backend maps them to SQL rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.asl.model import StateMachine
from engine.interpreter.history import HistoryEvent
from engine.interpreter.snapshot import Execution
from engine.interpreter.turn import iso_timestamp

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


def execution_header(record: ExecutionRecord, role_arn: str, seed: int) -> Execution:
    """The interpreter's execution header (``$$.Execution``, ``$$.StateMachine``) of ``record``.

    The one conversion both backends use, so the context object cannot differ between them.

    Args:
        record: the execution as the API created it.
        role_arn: the role it runs as -- as on AWS, a version execution's is the version's
            (published with it), not the role the machine was updated to since; the API
            resolves it into `Compiled.role_arn`.
        seed: the execution's random seed (kept in the checkpoint for replays).

    Returns:
        The header of a RUNNING execution that has not emitted any event yet.
    """
    return Execution(
        arn=record.arn,
        name=record.name,
        state_machine_arn=record.version_arn or record.machine_arn,
        # arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -- the name outlives a deleted machine
        state_machine_name=record.machine_arn.split(":")[6],
        role_arn=role_arn,
        start_time=iso_timestamp(record.start_date),
        input=record.input,
        seed=seed,
    )
