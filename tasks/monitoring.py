"""What Flower and the logs show of stepline's Celery tasks (ADR 0046).

- Every state task is sent with the shadow name ``machine.state``. The worker's
  ``task-received`` event carries that name, but the client's ``task-sent`` event carries
  the registered task's (``stepline.step``); when it reaches Flower after the worker's
  event (the publisher and the worker race), Celery's event state takes every field of it
  and the state task shows as ``stepline.step``. `StateNamedAMQP` names the sent event by
  the shadow too, so the order no longer matters.
- Housekeeping tasks (relay, due timers, pruning) are named ``stepline.housekeeping.*``;
  unless ``STEPLINE_FLOWER_HOUSEKEEPING`` is on they send no task events at all, so
  Flower lists states only.
- A state task whose step recorded a failure (a handler's error, a Fail state, a timeout)
  raises `StateFailed` once the step has committed, so Flower shows FAILURE with the
  error's name. The store stays the source of truth: the failure is already recorded,
  retried or caught there; the message is acknowledged like any other and nothing runs
  again (the task retries on store outages only, and declares this exception expected).
- `QuietHousekeeping` keeps the routine INFO lines of housekeeping tasks (beat's
  "Sending due task", the worker's "received" and "succeeded") out of INFO logs: an idle
  fleet would log one of each every relay interval.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.app.amqp import AMQP

from engine._interpreter.failures import StateFailure

HOUSEKEEPING_PREFIX = "stepline.housekeeping."
"""The name prefix of every task the fleet runs for itself rather than for an execution."""

SHOW_HOUSEKEEPING = "stepline_flower_housekeeping"
"""The Celery setting (from ``STEPLINE_FLOWER_HOUSEKEEPING``) that lets them send events."""


def is_housekeeping(task_name: str) -> bool:
    """Whether ``task_name`` is one of the fleet's own upkeep tasks."""
    return task_name.startswith(HOUSEKEEPING_PREFIX)


class StateFailed(Exception):
    """A state's step recorded a failure: what Flower shows for its task (never a cause).

    The cause stays in the execution's history: it may quote the state's data (a
    handler's error message, an HTTP response), and Flower shows no payloads.
    """


def report(failure: StateFailure | None) -> None:
    """Raise `StateFailed` for ``failure`` (after the step committed it), if there is one."""
    if failure is not None:
        # Text only: a prefork child pickles the exception to its parent, which rebuilds
        # it from its arguments.
        raise StateFailed(f"{failure}; its cause is in the execution's history")


class StateNamedAMQP(AMQP):  # type: ignore[misc]
    """Celery's message builder, naming each ``task-sent`` event as Flower should list it."""

    def as_task_v2(self, *args: Any, **kwargs: Any) -> Any:
        """Celery's task message; its sent event named by the shadow, or dropped if hidden."""
        message = super().as_task_v2(*args, **kwargs)
        event = message.sent_event
        if event is None:
            return message
        if is_housekeeping(event["name"]) and not self.app.conf.get(SHOW_HOUSEKEEPING):
            return message._replace(sent_event=None)
        shadow = message.headers.get("shadow")
        if shadow:
            event["name"] = shadow
        return message


class QuietHousekeeping(logging.Filter):
    """Drops the routine INFO lines of housekeeping tasks unless the logger is at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a housekeeping task's "sending", "received" or "succeeded" line."""
        if record.levelno != logging.INFO or not _names_housekeeping(record.args):
            return True
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _names_housekeeping(args: Any) -> bool:
    # beat: ("stepline-relay", "stepline.housekeeping.relay"); the worker: {"name": ...}.
    if isinstance(args, dict):
        return is_housekeeping(str(args.get("name", "")))
    if isinstance(args, tuple):
        return any(isinstance(a, str) and is_housekeeping(a) for a in args)
    return False


QUIETED_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")
"""Where Celery logs a task being sent by beat, received, and finished."""


def quiet_housekeeping_logs() -> None:
    """Install `QuietHousekeeping` on the loggers of beat and the worker (once)."""
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietHousekeeping) for f in logger.filters):
            logger.addFilter(QuietHousekeeping())
