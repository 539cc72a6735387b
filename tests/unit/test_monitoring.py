"""What Flower and the logs see of stepline's tasks (ADR 0046), event by event."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime

import pytest
from celery import Celery
from celery.app.amqp import AMQP
from celery.events.state import State

from config.settings import Settings
from engine._interpreter.failures import StateFailure, recorded_failure
from engine._interpreter.history import HistoryEvent
from engine._store.kinds import MessageKind
from engine._store.rows import OutboxMessage
from tasks.dispatcher import CeleryDispatcher
from tasks.monitoring import (
    SHOW_HOUSEKEEPING,
    QuietHousekeeping,
    StateFailed,
    StateNamedAMQP,
    report,
)

ARN = "arn:aws:states:us-east-1:111111111111:execution:orders:order-17"


def sent_event(amqp: type[AMQP], name: str, shadow: str | None, *, shown: bool = False) -> dict:
    """The ``task-sent`` event Celery builds for a message of task ``name``."""
    app = Celery("monitoring-test", amqp=amqp, set_as_current=False)
    app.conf[SHOW_HOUSEKEEPING] = shown
    message = app.amqp.create_task_message(
        "id-1", name, (7, "root", 2), {}, shadow=shadow, create_sent_event=True
    )
    return message.sent_event


def flower_name(sent: dict) -> str:
    """The name Celery's event state (Flower's) keeps when ``sent`` arrives after the worker's."""
    state = State()
    worker = {"hostname": "worker@host", "uuid": "id-1", "local_received": 3.0}
    received = {"name": "orders.Charge", "args": "(7, 'root', 2)"}
    state.event({"type": "task-received", "timestamp": 1.0, "clock": 1, **worker, **received})
    state.event({"type": "task-succeeded", "timestamp": 2.0, "clock": 2, **worker})
    state.event(
        {
            "type": "task-sent",
            "timestamp": 0.5,
            "clock": 3,
            "hostname": "client",
            "local_received": 3.0,
            **sent,
        }
    )
    return str(state.tasks["id-1"].name)


def test_a_late_sent_event_no_longer_renames_a_state_task() -> None:
    # Given a step sent with its state's shadow name, whose sent event reaches Flower last
    ours = sent_event(StateNamedAMQP, "stepline.step", "orders.Charge")
    celerys = sent_event(AMQP, "stepline.step", "orders.Charge")
    # Then Flower keeps the state's name (Celery's own event would rename it)
    assert flower_name(ours) == "orders.Charge"
    assert flower_name(celerys) == "stepline.step"


def test_other_tasks_keep_their_sent_event_and_name() -> None:
    # Given a user's task (no shadow)
    event = sent_event(StateNamedAMQP, "billing.invoice", None)
    # Then its sent event is Celery's
    assert event["name"] == "billing.invoice"


def test_housekeeping_tasks_send_no_sent_event_unless_shown() -> None:
    # Given beat's relay job, with the housekeeping hidden (the default) and shown
    hidden = sent_event(StateNamedAMQP, "stepline.housekeeping.relay", None)
    shown = sent_event(StateNamedAMQP, "stepline.housekeeping.relay", None, shown=True)
    # Then Flower hears of it only when asked to show housekeeping
    assert hidden is None
    assert shown["name"] == "stepline.housekeeping.relay"


def test_the_execution_arn_labels_a_message_and_its_arguments_stay_ids() -> None:
    # Given an outbox message of an execution
    message = OutboxMessage(1, 7, "root", 2, MessageKind.STEP, shadow="orders.Charge")
    labelled = OutboxMessage(
        1, 7, "root", 2, MessageKind.STEP, shadow="orders.Charge", execution_arn=ARN
    )
    # When the dispatcher builds its Celery signature
    signature = CeleryDispatcher(Celery(set_as_current=False), Settings()).signature(labelled)
    # Then Flower's kwargs column shows the ARN, the arguments are ids, the identity is kept
    assert signature.options["kwargsrepr"] == repr({"execution": ARN})
    assert (tuple(signature.args), signature.kwargs) == ((7, "root", 2), {})
    assert labelled == message


def event(type_: str, **details: object) -> HistoryEvent:
    """A history event of ``type_`` with ``details``."""
    return HistoryEvent(1, 0, type_, datetime(2026, 1, 1, tzinfo=UTC).isoformat(), dict(details))


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([event("PassStateEntered", name="A"), event("PassStateExited", name="A")], None),
        (
            [
                event("LambdaFunctionFailed", error="KeyError", cause="{...}"),
                event("TaskStateExited"),
            ],
            StateFailure("LambdaFunctionFailed", "KeyError"),
        ),
        (
            [event("FailStateEntered", name="F"), event("ExecutionFailed", error="Order.Rejected")],
            StateFailure("ExecutionFailed", "Order.Rejected"),
        ),
        (
            [event("MapIterationFailed", index=0), event("ExecutionFailed", error="Boom")],
            StateFailure("MapIterationFailed", "Boom"),
        ),
        ([event("ExecutionFailed")], StateFailure("ExecutionFailed", None)),
        (
            [event("TaskTimedOut", error="States.Timeout")],
            StateFailure("TaskTimedOut", "States.Timeout"),
        ),
    ],
)
def test_the_failure_a_step_recorded(
    events: list[HistoryEvent], expected: StateFailure | None
) -> None:
    # Given the events one step recorded
    # When they are read for a failure
    # Then the first failure event names it, with the first error found among them
    assert recorded_failure(events) == expected


def test_a_failed_state_raises_its_error_name_but_never_its_cause() -> None:
    # Given a step that recorded a handler's failure
    failure = StateFailure("LambdaFunctionFailed", "KeyError")
    # When its Celery task reports it
    with pytest.raises(StateFailed) as raised:
        report(failure)
    # Then the exception names the error and where to read the cause, also once a prefork
    # child has pickled it to its parent
    expected = "KeyError (LambdaFunctionFailed); its cause is in the execution's history"
    assert str(raised.value) == expected
    assert str(pickle.loads(pickle.dumps(raised.value))) == expected
    report(None)  # nothing failed: nothing raised


def record(name: str, message: str, args: object, level: int = logging.INFO) -> logging.LogRecord:
    """A log record as Celery's loggers make it (a mapping is passed alone)."""
    given = (args,) if isinstance(args, dict) else args
    return logging.LogRecord(name, level, __file__, 1, message, given, None)  # type: ignore[arg-type]


def test_routine_lines_of_housekeeping_tasks_are_left_out_of_info_logs() -> None:
    # Given beat's and the worker's INFO lines about the relay job and about a state
    quiet = QuietHousekeeping()
    sending = record(
        "celery.beat",
        "Scheduler: Sending due task %s (%s)",
        ("stepline-relay", "stepline.housekeeping.relay"),
    )
    received = record(
        "celery.worker.strategy",
        "Task %(name)s[%(id)s] received",
        {"name": "stepline.housekeeping.relay", "id": "1"},
    )
    state = record(
        "celery.worker.strategy", "Task %(name)s[%(id)s] received", {"name": "orders.A", "id": "2"}
    )
    failed = record(
        "celery.app.trace", "Task %(name)s raised", {"name": "stepline.housekeeping.relay"}, 40
    )
    # Then the housekeeping lines are dropped, the state's line and any error kept
    assert [quiet.filter(r) for r in (sending, received, state, failed)] == [
        False,
        False,
        True,
        True,
    ]


def test_housekeeping_lines_stay_when_debugging() -> None:
    # Given beat logging at DEBUG
    logger = logging.getLogger("celery.beat")
    before = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        sending = record(
            "celery.beat", "Sending due task %s (%s)", ("r", "stepline.housekeeping.relay")
        )
        # Then its housekeeping lines are kept
        assert QuietHousekeeping().filter(sending)
    finally:
        logger.setLevel(before)
