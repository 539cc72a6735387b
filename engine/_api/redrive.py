"""Whether an execution may be redriven, as DescribeExecution and RedriveExecution say it.

AWS redrives a STANDARD execution that ended FAILED, TIMED_OUT or ABORTED, within 14 days
of its end, before it has been open for a year, and while its history leaves room for
``ExecutionRedriven`` and at least one more event. ``redriveStatusReason`` and the
``ExecutionNotRedrivable`` message use AWS's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine._interpreter.snapshot import ExecutionStatus
from engine._records import ExecutionRecord

REDRIVABLE_PERIOD = timedelta(days=14)
"""How long after its end an execution may be redriven."""
MAX_OPEN_TIME = timedelta(days=365)
"""A Standard execution's maximum duration, counted from its start."""
TOKEN_LIFETIME = timedelta(minutes=15)
"""How long a redrive's clientToken makes a repeated call idempotent."""
_ENDED = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT, ExecutionStatus.ABORTED)


@dataclass(frozen=True)
class Redrivability:
    """``redriveStatus`` and, when NOT_REDRIVABLE, ``redriveStatusReason``."""

    status: str
    reason: str | None = None

    @property
    def redrivable(self) -> bool:
        """Whether RedriveExecution would restart the execution now."""
        return self.status == "REDRIVABLE"


def redrivability(
    record: ExecutionRecord, now: datetime, *, machine_exists: bool, history_limit: int
) -> Redrivability:
    """Whether ``record`` may be redriven at ``now``, and AWS's reason when it may not."""
    reason = _refusal(record, now, machine_exists=machine_exists, history_limit=history_limit)
    return (
        Redrivability("REDRIVABLE") if reason is None else Redrivability("NOT_REDRIVABLE", reason)
    )


def _refusal(
    record: ExecutionRecord, now: datetime, *, machine_exists: bool, history_limit: int
) -> str | None:
    if record.type != "STANDARD":
        return f"Execution of type {record.type} cannot be redriven"
    if not machine_exists:
        return "State machine is in DELETING status"
    if record.status not in _ENDED:
        return f"Execution is {record.status} and cannot be redriven"
    if record.event_count >= history_limit - 1:
        return "Execution history event limit exceeded"
    if now - record.start_date >= MAX_OPEN_TIME:
        return "Execution has exceeded the max execution time"
    if record.stop_date is not None and now - record.stop_date > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded"
    return None


def repeated(record: ExecutionRecord, client_token: str | None, now: datetime) -> bool:
    """Whether this call repeats the redrive that ``client_token`` made (answer it again)."""
    return (
        client_token is not None
        and record.redrive_token == client_token
        and record.redrive_date is not None
        and now - record.redrive_date <= TOKEN_LIFETIME
    )
