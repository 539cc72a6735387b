"""`CommittedStep`: what one committed store transaction made true of an execution."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine._interpreter.history import HistoryEvent


@dataclass(frozen=True)
class CommittedStep:
    """The history events one transaction committed, with what explains them.

    Attributes:
        execution_arn: the execution the events belong to.
        machine_arn: the state machine's ARN (never a version's or an alias's).
        machine_name: the state machine's name (the metrics' ``state_machine`` label).
        run_started: when the current run began: the start, or the latest redrive.
        redrive_count: how many times the execution was redriven before this step.
        events: the committed events, in id order.
        entered_before: for each thread the step moved, when its state at the start of
            the step was entered (ISO text): a state exited in this step but entered in an
            earlier one is timed from here.
    """

    execution_arn: str
    machine_arn: str
    machine_name: str
    run_started: datetime
    redrive_count: int
    events: tuple[HistoryEvent, ...]
    entered_before: Mapping[str, str] = field(default_factory=dict)


CommitListener = Callable[[CommittedStep], None]
"""Told of each committed step that recorded history, after its commit (never inside it)."""
