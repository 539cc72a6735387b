"""Retry and Catch: which retrier or catcher handles an error, and the backoff delay."""

from __future__ import annotations

from engine._asl.model import Catcher, JitterStrategy, Retrier
from engine._dataflow.scope import Rng
from engine._errors import ErrorName

# AWS never lets Retry/Catch handle a runtime failure of the interpreter itself.
_UNHANDLED = frozenset({ErrorName.RUNTIME})


def error_matches(error_equals: tuple[str, ...], error: str) -> bool:
    """Whether an ``ErrorEquals`` list matches ``error`` with AWS's wildcard rules.

    ``States.ALL`` matches every error but ``States.Runtime``; ``States.TaskFailed``
    matches every error but ``States.Timeout``; ``States.Timeout`` also matches a
    heartbeat timeout.
    """
    if error in _UNHANDLED:
        return False
    for name in error_equals:
        if name in (error, ErrorName.ALL):
            return True
        if name == ErrorName.TASK_FAILED and error != ErrorName.TIMEOUT:
            return True
        if name == ErrorName.TIMEOUT and error == ErrorName.HEARTBEAT_TIMEOUT:
            return True
    return False


def find_retrier(retriers: tuple[Retrier, ...], error: str) -> int | None:
    """Index of the first retrier matching ``error``, or None."""
    return next(
        (i for i, retrier in enumerate(retriers) if error_matches(retrier.error_equals, error)),
        None,
    )


def find_catcher(catchers: tuple[Catcher, ...], error: str) -> Catcher | None:
    """The first catcher matching ``error``, or None."""
    return next((c for c in catchers if error_matches(c.error_equals, error)), None)


def backoff_seconds(retrier: Retrier, attempt: int, rng: Rng) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0).

    ``IntervalSeconds * BackoffRate ** attempt``, capped by ``MaxDelaySeconds``; with
    ``JitterStrategy: FULL`` a uniform draw between 0 and that delay.
    """
    delay = float(retrier.interval_seconds) * float(retrier.backoff_rate) ** attempt
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy is JitterStrategy.FULL:
        delay = rng.random() * delay
    return delay
