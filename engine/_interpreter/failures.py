"""Which failure, if any, a step recorded: what a monitor (Flower) reports for its task."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine._interpreter.history import HistoryEvent


@dataclass(frozen=True)
class StateFailure:
    """A failure among the events one step recorded.

    Attributes:
        event_type: the first failure event's type (``LambdaFunctionFailed``,
            ``ExecutionFailed``, ``TaskTimedOut``, ...).
        error: the first error name those events carry (None: none names one, as a Fail
            state without ``Error``).
    """

    event_type: str
    error: str | None

    def __str__(self) -> str:
        return f"{self.error} ({self.event_type})" if self.error else self.event_type


def is_failure(event_type: str) -> bool:
    """Whether an event of ``event_type`` records something failing or timing out."""
    return event_type.endswith(("Failed", "TimedOut"))


def recorded_failure(events: Iterable[HistoryEvent]) -> StateFailure | None:
    """The failure among ``events`` (a step's new history), None when nothing failed.

    A failure caught by ``Catch`` or retried by ``Retry`` still counts: the attempt failed.
    """
    failures = [event for event in events if is_failure(event.type)]
    if not failures:
        return None
    errors = (event.details.get("error") for event in failures)
    error = next((name for name in errors if isinstance(name, str) and name), None)
    return StateFailure(failures[0].type, error)
