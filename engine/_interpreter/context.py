"""The context object (``$$``) a state sees."""

from __future__ import annotations

from typing import Any

from engine._interpreter.snapshot import Execution, Thread

Json = Any


def context_object(
    execution: Execution,
    thread: Thread,
    *,
    with_retry_count: bool = False,
    task_token: str | None = None,
    map_item: Json = None,
) -> dict[str, Json]:
    """Build ``$$`` for ``thread``'s current state.

    Args:
        execution: the execution header.
        thread: the thread whose state evaluates a field.
        with_retry_count: include ``State.RetryCount`` (AWS shows it for Task states).
        task_token: the callback token of a ``.waitForTaskToken`` task.
        map_item: ``{"Index": i, "Value": v}`` while a Map evaluates its ItemSelector.
    """
    state: dict[str, Json] = {"Name": thread.state, "EnteredTime": thread.entered_time}
    if with_retry_count:
        state["RetryCount"] = thread.attempts
    context: dict[str, Json] = {
        "Execution": {
            "Id": execution.arn,
            "Input": execution.input,
            "StartTime": execution.start_time,
            "Name": execution.name,
            "RoleArn": execution.role_arn,
            "RedriveCount": execution.redrive_count,
        },
        "StateMachine": {
            "Id": execution.state_machine_arn,
            "Name": execution.state_machine_name,
        },
        "State": state,
    }
    if task_token is not None:
        context["Task"] = {"Token": task_token}
    if map_item is not None:
        context["Map"] = {"Item": map_item}
    return context
