"""``celery:sendTask``: parameter mapping, result shapes and callbacks, on a fake Celery app."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from engine._errors import StatesError, StatesRuntimeError
from engine._integrations.celery_tasks import (
    FAILED_TASK,
    SUCCEEDED_TASK,
    parse_request,
    send_task,
    task_id,
)
from engine._integrations.services import Services
from engine._resources import AWAITING, HandlerRegistry, TaskCall

Json = Any
RESOURCE = "arn:aws:states:::celery:sendTask"


@dataclass
class FakeCelery:
    """Records what `send_task` sends, like ``Celery.send_task`` would."""

    sent: list[dict[str, Json]] = field(default_factory=list)
    refuse: bool = False
    conf: Any = field(default_factory=lambda: SimpleNamespace(task_default_queue="default-q"))

    def send_task(self, name: str, args: Json = None, kwargs: Json = None, **options: Json) -> Any:
        if self.refuse:
            raise ConnectionError("broker unreachable")
        self.sent.append({"name": name, "args": args, "kwargs": kwargs, **options})
        return SimpleNamespace(id=options["task_id"])


def _services(celery: FakeCelery | None) -> Services:
    return Services(client=None, celery=celery)  # type: ignore[arg-type]


def _call(parameters: Json, suffix: str = "") -> TaskCall:
    return TaskCall(
        RESOURCE + suffix,
        parameters,
        execution_arn="arn:aws:states:us-east-1:111111111111:execution:m:e",
        state_name="Send",
        thread_id="root",
        seq=7,
        execution_id=42,
    )


def test_every_parameter_maps_to_its_send_task_option() -> None:
    # Given a request naming every supported field
    parameters = {
        "TaskName": "billing.charge",
        "Args": [1, "two"],
        "Kwargs": {"card": "4242"},
        "Queue": "billing",
        "Countdown": 5,
        "Priority": 3,
    }
    celery = FakeCelery()
    # When it is sent request-response
    result = send_task(_call(parameters), _services(celery))
    # Then Celery got each field under its own name, with an id derived from the invocation
    (sent,) = celery.sent
    assert sent == {
        "name": "billing.charge",
        "args": [1, "two"],
        "kwargs": {"card": "4242"},
        "queue": "billing",
        "countdown": 5.0,
        "priority": 3,
        "task_id": task_id(_call(parameters)),
    }
    # and the state's result says what was sent where
    assert result == {"TaskId": sent["task_id"], "TaskName": "billing.charge", "Queue": "billing"}


def test_optional_fields_default_to_no_arguments_and_the_apps_routing() -> None:
    # Given a request with the task name alone, on an app without a router
    celery = FakeCelery()
    # When it is sent
    result = send_task(_call({"TaskName": "ping"}), _services(celery))
    # Then no arguments are sent and the queue reported is the app's default
    assert celery.sent[0]["args"] == []
    assert celery.sent[0]["kwargs"] == {}
    assert "queue" not in celery.sent[0]
    assert result["Queue"] == "default-q"


def test_the_task_id_is_the_same_for_a_redelivered_invocation_and_new_per_attempt() -> None:
    # Given the same invocation twice, and its retry
    first, again = _call({"TaskName": "t"}), _call({"TaskName": "t"})
    retry = TaskCall(**{**first.__dict__, "attempt": 1})
    # Then the redelivery keeps the id and the retry gets its own
    assert task_id(first) == task_id(again) != task_id(retry)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({}, "'TaskName' must be a non-empty string, got null"),
        ({"TaskName": ""}, "'TaskName' must be a non-empty string"),
        ({"TaskName": "t", "Args": {"a": 1}}, "'Args' must be an array"),
        ({"TaskName": "t", "Kwargs": [1]}, "'Kwargs' must be an object"),
        ({"TaskName": "t", "Queue": 3}, "'Queue' must be a non-empty string"),
        ({"TaskName": "t", "Countdown": -1}, "'Countdown' must be a finite number >= 0"),
        ({"TaskName": "t", "Countdown": "5"}, "'Countdown' must be a number of seconds"),
        ({"TaskName": "t", "Priority": 256}, "'Priority' must be an integer from 0 to 255"),
        ({"TaskName": "t", "Retries": 3}, "unknown field(s) ['Retries']"),
        ("t", "Parameters must be an object"),
        ({"TaskName": "stepline.stop_child"}, "must name a task of your application"),
        ({"TaskName": "celery.backend_cleanup"}, "must name a task of your application"),
    ],
)
def test_invalid_parameters_fail_the_state_with_states_runtime(
    parameters: Json, expected: str
) -> None:
    # When invalid parameters are parsed
    with pytest.raises(StatesRuntimeError) as raised:
        parse_request(parameters)
    # Then the error is States.Runtime, naming the integration, the field and what it got
    assert raised.value.name == "States.Runtime"
    assert raised.value.cause is not None
    assert raised.value.cause.startswith("celery:sendTask: ")
    assert expected in raised.value.cause


def test_sync_sends_completion_callbacks_and_awaits() -> None:
    # Given a .sync call on a worker whose runtime is unknown (no announcements checked)
    celery = FakeCelery()
    # When it is sent
    outcome = send_task(_call({"TaskName": "t"}, ".sync"), _services(celery))
    # Then the state waits, and the callbacks carry the task's address as keyword arguments
    assert outcome is AWAITING
    link, link_error = celery.sent[0]["link"], celery.sent[0]["link_error"]
    address = {"execution_id": 42, "thread_id": "root", "seq": 7}
    assert (link["task"], link["kwargs"], link["args"]) == (SUCCEEDED_TASK, address, [])
    assert (link_error["task"], link_error["kwargs"]) == (FAILED_TASK, address)


def test_wait_for_task_token_sends_the_token_the_user_placed_and_awaits() -> None:
    # Given a .waitForTaskToken call whose Kwargs carry the resolved $$.Task.Token
    registry, celery = HandlerRegistry(), FakeCelery()
    call = _call({"TaskName": "t", "Kwargs": {"token": "tok-1"}}, ".waitForTaskToken")
    # When the registry invokes it
    outcome = registry.invoke(call, _services(celery))
    # Then the token travels as the user placed it, without completion callbacks
    assert outcome is AWAITING
    assert celery.sent[0]["kwargs"] == {"token": "tok-1"}
    assert "link" not in celery.sent[0]


def test_without_a_celery_app_the_state_fails_at_once_saying_what_it_needs() -> None:
    # When a call runs where no Celery app is bound (an in-process client)
    with pytest.raises(StatesError) as raised:
        send_task(_call({"TaskName": "t"}), _services(None))
    # Then it fails with States.TaskFailed, naming what was expected
    assert raised.value.name == "States.TaskFailed"
    assert "needs a Celery app" in str(raised.value.cause)


def test_a_refused_send_fails_with_celery_send_failed() -> None:
    # Given a broker that refuses the message
    celery = FakeCelery(refuse=True)
    # When the task is sent
    with pytest.raises(StatesError) as raised:
        send_task(_call({"TaskName": "t"}), _services(celery))
    # Then the state fails with an error a Retry can name
    assert raised.value.name == "Celery.SendFailed"
    assert "broker unreachable" in str(raised.value.cause)


def test_a_failure_reported_by_task_id_alone_is_celery_task_failed_naming_the_task() -> None:
    # Given a failure reported old-style (the failed task's id, no result backend to read)
    from tasks.celery_sync import failure_of

    # When it is turned into the state's error
    error = failure_of("3f1c", None)
    # Then the state fails with Celery.TaskFailed, naming the task and what was missing
    assert error.name == "Celery.TaskFailed"
    assert "Celery task 3f1c failed" in str(error.cause)


def test_a_failure_with_its_exception_is_its_class_name_and_message() -> None:
    from tasks.celery_sync import failure_of

    # When a failing worker reports the exception itself
    error = failure_of(SimpleNamespace(id="x"), TimeoutError("carrier slow"))
    # Then Error = the class name, Cause = its message
    assert (error.name, error.cause) == ("TimeoutError", "carrier slow")


def test_canvas_signatures_take_the_previous_result_unless_given_an_input() -> None:
    from tasks.canvas import run_execution_signature, start_execution_signature

    # When signatures are made with and without an input
    chained = start_execution_signature("arn:m")
    fixed = run_execution_signature("arn:m", {"a": 1}, name="n-1")
    # Then the chained one is mutable (Celery prepends the previous result) and names the machine
    assert (chained.task, chained.args, chained.immutable) == (
        "stepline.start_execution",
        (),
        False,
    )
    assert chained.kwargs == {"state_machine_arn": "arn:m", "name": None}
    # and the one with an input ignores the previous result
    assert (fixed.task, fixed.args, fixed.immutable) == (
        "stepline.run_execution",
        ({"a": 1},),
        True,
    )
    assert fixed.kwargs == {"state_machine_arn": "arn:m", "name": "n-1"}
