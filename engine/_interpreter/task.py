"""The Task state: schedule the resource, then handle its result, failure or timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine._asl.model import AnyState, TaskState
from engine._dataflow import jsonata, paths
from engine._errors import ErrorName, StatesRuntimeError
from engine._interpreter import flow
from engine._interpreter.decisions import CancelTask, RunTask, StartTimer
from engine._interpreter.events import TimerKind
from engine._interpreter.integration import (
    Pattern,
    ResourceInfo,
    ResourceKind,
    describe_resource,
)
from engine._interpreter.lifecycle import (
    check_payload,
    emit,
    error_details,
    exit_state,
    guarded,
    handle_error,
    payload_cause,
)
from engine._interpreter.snapshot import Phase, Thread, evolve
from engine._interpreter.turn import Turn, iso_timestamp

Json = Any

_PREFIX = {
    ResourceKind.LAMBDA_FUNCTION: "LambdaFunction",
    ResourceKind.SERVICE: "Task",
    ResourceKind.ACTIVITY: "Activity",
}


def run_task(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Enter a Task: keep the effective input (retries reuse it) and schedule it."""
    assert isinstance(state, TaskState)
    effective = flow.effective_input(turn, thread, state)
    thread = turn.save(evolve(thread, effective=effective))
    attempt_task(turn, thread, state)


def attempt_task(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Schedule one attempt: resolve parameters and deadlines, emit ``*Scheduled``."""
    assert isinstance(state, TaskState)
    info = describe_resource(state.resource)
    # An activity's worker answers with a token too (GetActivityTask hands it out), but only
    # a .waitForTaskToken task shows it in the context object ($$.Task.Token), as on AWS.
    callback = info.pattern is Pattern.WAIT_FOR_TASK_TOKEN
    token = _task_token(turn) if callback or info.kind is ResourceKind.ACTIVITY else None
    parameters = check_payload(
        turn,
        state,
        flow.parameters(
            turn,
            thread,
            state,
            thread.effective,
            with_retry_count=True,
            task_token=token if callback else None,
        ),
    )
    timeout = _deadline_seconds(turn, thread, state, "TimeoutSeconds")
    heartbeat = _deadline_seconds(turn, thread, state, "HeartbeatSeconds")
    heartbeat_due = turn.now + timedelta(seconds=heartbeat) if heartbeat else None
    thread = thread.bump(
        phase=Phase.TASK,
        heartbeat_due=iso_timestamp(heartbeat_due) if heartbeat_due else None,
        task_started=False,
    )
    details = _scheduled_details(turn, info, parameters, timeout, heartbeat)
    thread = emit(turn, thread, f"{_PREFIX[info.kind]}Scheduled", details)
    turn.decide(
        RunTask(
            thread.id,
            thread.seq,
            state.resource,
            parameters,
            state.name,
            thread.attempts,
            task_token=token,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
        )
    )
    if timeout:
        due = turn.now + timedelta(seconds=timeout)
        turn.decide(StartTimer(thread.id, thread.seq, TimerKind.TASK_TIMEOUT, due))
    if heartbeat_due:
        turn.decide(StartTimer(thread.id, thread.seq, TimerKind.HEARTBEAT, heartbeat_due))


def task_started(turn: Turn, thread: Thread, worker_name: str | None = None) -> None:
    """A worker picked the task up: ``*Started`` (once per attempt, whatever the retries).

    ``worker_name``: the activity worker's name (``ActivityStarted`` records it).
    """
    if thread.task_started:
        return
    info = describe_resource(_task_state(turn, thread).resource)
    details = _service_fields(info) if info.kind is ResourceKind.SERVICE else None
    if info.kind is ResourceKind.ACTIVITY and worker_name:
        details = {"workerName": worker_name}
    thread = emit(turn, thread, f"{_PREFIX[info.kind]}Started", details)
    turn.save(evolve(thread, task_started=True))


def task_heartbeat(turn: Turn, thread: Thread) -> None:
    """The task is alive: push the heartbeat deadline out."""
    state = _task_state(turn, thread)
    heartbeat = _deadline_seconds(turn, thread, state, "HeartbeatSeconds")
    if not heartbeat:
        return
    due = turn.now + timedelta(seconds=heartbeat)
    turn.save(evolve(thread, heartbeat_due=iso_timestamp(due)))
    turn.decide(StartTimer(thread.id, thread.seq, TimerKind.HEARTBEAT, due))


def task_succeeded(turn: Turn, thread: Thread, output: Json) -> None:
    """The task returned: check its size, emit ``*Succeeded`` and process the result."""
    state = _task_state(turn, thread)
    info = describe_resource(state.resource)
    cause = payload_cause(turn, output, info.data_limit_label)
    if cause is not None:
        task_failed(turn, thread, ErrorName.DATA_LIMIT_EXCEEDED, cause)
        return
    fields = _service_fields(info) if info.kind is ResourceKind.SERVICE else {}
    thread = emit(
        turn,
        thread,
        f"{_PREFIX[info.kind]}Succeeded",
        {**fields, **turn.payload_details("output", output)},
    )
    thread = turn.save(thread.bump())  # late timeouts for this attempt are now stale

    def finish() -> None:
        outcome = flow.result_outcome(turn, thread, state, output, retry_count=True)
        exit_state(turn, thread, state, outcome, state.next)

    guarded(turn, thread, state, finish)


def task_failed(turn: Turn, thread: Thread, error: str, cause: str | None) -> None:
    """The task failed: emit ``*Failed`` and apply Retry/Catch."""
    state = _task_state(turn, thread)
    info = describe_resource(state.resource)
    fields = _service_fields(info) if info.kind is ResourceKind.SERVICE else {}
    thread = emit(
        turn, thread, f"{_PREFIX[info.kind]}Failed", {**fields, **error_details(error, cause)}
    )
    handle_error(turn, thread, state, error, cause)


def task_timed_out(turn: Turn, thread: Thread, error: str) -> None:
    """A task deadline passed: ``*TimedOut``, cancel the task, apply Retry/Catch."""
    state = _task_state(turn, thread)
    info = describe_resource(state.resource)
    fields = _service_fields(info) if info.kind is ResourceKind.SERVICE else {}
    thread = emit(turn, thread, f"{_PREFIX[info.kind]}TimedOut", {**fields, "error": error})
    turn.decide(CancelTask(thread.id, thread.seq))
    handle_error(turn, thread, state, error, None)


def heartbeat_overdue(turn: Turn, thread: Thread) -> bool:
    """Whether the thread's heartbeat deadline has passed (older timers are stale)."""
    if thread.heartbeat_due is None:
        return False
    return iso_timestamp(turn.now) >= thread.heartbeat_due


def _task_state(turn: Turn, thread: Thread) -> TaskState:
    state = turn.state(thread)
    assert isinstance(state, TaskState)
    return state


def _service_fields(info: ResourceInfo) -> dict[str, Json]:
    return {"resourceType": info.resource_type, "resource": info.resource}


def _scheduled_details(
    turn: Turn, info: ResourceInfo, parameters: Json, timeout: int | None, heartbeat: int | None
) -> dict[str, Json]:
    if info.kind is ResourceKind.SERVICE:
        details: dict[str, Json] = {
            **_service_fields(info),
            "region": _region(turn.execution.arn),
            "parameters": turn.payload_text(parameters),
        }
    else:
        details = {"resource": info.uri, **turn.payload_details("input", parameters)}
    if timeout:
        details["timeoutInSeconds"] = timeout
    if heartbeat and info.kind is not ResourceKind.LAMBDA_FUNCTION:
        details["heartbeatInSeconds"] = heartbeat
    return details


def _region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _task_token(turn: Turn) -> str:
    """An unguessable callback token drawn from the execution's seeded random source."""
    return f"{turn.rng.getrandbits(128):032x}{turn.rng.getrandbits(128):032x}"


def _deadline_seconds(turn: Turn, thread: Thread, state: TaskState, field: str) -> int | None:
    """``TimeoutSeconds`` / ``HeartbeatSeconds`` from a literal, a path or JSONata."""
    literal = state.timeout_seconds if field == "TimeoutSeconds" else state.heartbeat_seconds
    path = state.timeout_seconds_path if field == "TimeoutSeconds" else state.heartbeat_seconds_path
    if path is not None:
        value = paths.read_path(path, turn.scope(thread, thread.effective), field=f"{field}Path")
        return _positive_int(value, f"{field}Path", path, ErrorName.RUNTIME)
    if jsonata.is_expression(literal):
        value = flow.evaluate_jsonata(literal, flow.jsonata_scope(turn, thread), field)
        return _positive_int(value, field, None, ErrorName.QUERY_EVALUATION_ERROR)
    return int(literal) if literal is not None else None


def _positive_int(value: Json, field: str, path: str | None, error: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        where = f": {path}" if path else ""
        raise StatesRuntimeError(
            error,
            f"The {field} field must be a positive integer but was: "
            f"{flow.compact_json(value)}{where}",
            location=field if path is None else None,
        )
    return value
