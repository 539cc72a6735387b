"""The life of a state inside a thread: enter, exit, transition, errors, thread end.

Every state handler is written in terms of these few moves, so history numbering,
size limits, Retry/Catch and thread completion behave the same for every state type.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine._asl.model import AnyState, MapState, ParallelState, Retrier, TaskState
from engine._dataflow.nesting import NestingTooDeep
from engine._dataflow.sizes import ValueTooLarge, json_size
from engine._errors import ErrorName, StatesError, StatesRuntimeError, StatesTerminalError
from engine._interpreter import flow
from engine._interpreter.decisions import (
    AbortChildren,
    Deliver,
    FinishExecution,
    ScheduleStep,
    StartTimer,
)
from engine._interpreter.events import BranchEnded, TimerKind
from engine._interpreter.history import assigned_details
from engine._interpreter.retry import backoff_seconds, find_catcher, find_retrier
from engine._interpreter.snapshot import ExecutionStatus, Phase, Thread, ThreadStatus, evolve
from engine._interpreter.turn import Limits, Turn

Json = Any
GiveUp = Callable[[Thread], Thread]
DATA_LIMIT = ErrorName.DATA_LIMIT_EXCEEDED


def latest(turn: Turn, thread: Thread) -> Thread:
    """The newest version of ``thread`` in this turn (handlers may have saved one)."""
    return turn.threads.get(thread.id, thread)


def emit(
    turn: Turn,
    thread: Thread,
    event_type: str,
    details: dict[str, Json] | None = None,
    *,
    previous: int | None = None,
    **changes: Any,
) -> Thread:
    """Emit a history event for ``thread`` and save the thread's new version.

    ``changes``: other fields of the thread to set in the same copy.
    """
    return turn.save(turn.emit(thread, event_type, details, previous=previous, **changes))


def payload_size(value: Json) -> int:
    """Bytes of ``value`` as UTF-8 JSON text (what AWS's payload limit measures).

    Raises:
        NestingTooDeep: ``value`` nests deeper than any payload may.
    """
    return json_size(value, sys.maxsize)


def size_cause(value: Json, limit: int, label: str) -> str | None:
    """The cause of a ``States.DataLimitExceeded`` for ``value``, or None when it fits.

    Measured without serialising ``value`` and stopping just past ``limit``; a value
    nested too deeply for the encoders of history and checkpoint is over a limit too.
    """
    try:
        if json_size(value, limit) <= limit:
            return None
    except NestingTooDeep as error:
        return nesting_cause(label, error)
    return data_limit_cause(label)


def payload_cause(turn: Turn, value: Json, label: str) -> str | None:
    """`size_cause` against the payload limit, each value measured once per step."""
    try:
        if turn.payload_size(value) <= turn.limits.payload_bytes:
            return None
    except NestingTooDeep as error:
        return nesting_cause(label, error)
    return data_limit_cause(label)


def nesting_cause(label: str, error: NestingTooDeep) -> str:
    """The cause of a ``States.DataLimitExceeded`` for a result nested too deeply."""
    return (
        f"The state/task '{label}' returned a result nested more than "
        f"{error.max_depth} levels deep."
    )


def check_payload(turn: Turn, state: AnyState, value: Json) -> Json:
    """``value`` if within the payload limit, else a terminal ``States.DataLimitExceeded``.

    AWS checks a state's effective input after Parameters/Arguments/ItemSelector too.
    """
    cause = payload_cause(turn, value, state.name)
    if cause is not None:
        raise StatesTerminalError(ErrorName.DATA_LIMIT_EXCEEDED, cause)
    return value


def data_limit_cause(label: str) -> str:
    """AWS's cause for a payload over the limit."""
    return (
        f"The state/task '{label}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )


def enter(turn: Turn, thread: Thread, body: Callable[[Turn, Thread, AnyState], None]) -> None:
    """Enter ``thread``'s state: emit ``*StateEntered`` and run the state's body."""
    state = turn.state(thread)
    thread = turn.emit(
        thread,
        f"{state.type_name}StateEntered",
        {"name": state.name, **turn.payload_details("input", thread.input)},
        entered_time=turn.timestamp,
        visit=thread.visit + 1,
    )
    thread = turn.save(evolve(thread, entered_event_id=thread.last_event_id))
    give_up = state_failed_event(turn, state) if is_fan_out(state) else None
    guarded(turn, thread, state, lambda: body(turn, thread, state), on_give_up=give_up)


def state_failed_event(turn: Turn, state: AnyState) -> GiveUp:
    """Emits ``MapStateFailed`` / ``ParallelStateFailed`` when a fan-out state gives up."""

    def give_up(thread: Thread) -> Thread:
        return emit(turn, thread, f"{state.type_name}StateFailed")

    return give_up


def guarded(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    action: Callable[[], None],
    *,
    on_give_up: GiveUp | None = None,
) -> None:
    """Run ``action``; turn a raised ASL error into Retry, Catch or a failed thread."""
    try:
        action()
    except StatesRuntimeError as error:
        current = latest(turn, thread)
        cause = error.prefixed_cause(state.name, current.entered_event_id)
        if error.name == ErrorName.QUERY_EVALUATION_ERROR:
            details: dict[str, Json] = {"cause": cause, "error": error.name}
            if error.location:
                details["location"] = error.location
            current = emit(turn, current, "EvaluationFailed", {**details, "state": state.name})
        if error.name == ErrorName.RUNTIME:
            fail_thread(turn, current, error.name, cause)
        else:
            handle_error(turn, current, state, error.name, cause, on_give_up=on_give_up)
    except ValueTooLarge:  # an expression would have built a value over the limit
        fail_thread(turn, latest(turn, thread), DATA_LIMIT, data_limit_cause(state.name))
    except StatesTerminalError as error:
        fail_thread(turn, latest(turn, thread), error.name, error.cause)
    except StatesError as error:
        current = latest(turn, thread)
        handle_error(turn, current, state, error.name, error.cause, on_give_up=on_give_up)


def exit_state(
    turn: Turn, thread: Thread, state: AnyState, outcome: flow.Outcome, next_name: str | None
) -> None:
    """Emit ``*StateExited`` with the output and assignments, then move on."""
    cause = payload_cause(turn, outcome.output, state.name)
    if cause is not None:
        fail_thread(turn, thread, ErrorName.DATA_LIMIT_EXCEEDED, cause)
        return
    details = {"name": state.name, **turn.payload_details("output", outcome.output)}
    if outcome.assigned:  # otherwise the variables, checked when assigned, are unchanged
        variables = {**thread.variables, **outcome.assigned}
        too_large = variables_over_limit(turn.limits, outcome.assigned, variables)
        if too_large is not None:
            fail_thread(turn, thread, ErrorName.DATA_LIMIT_EXCEEDED, too_large)
            return
        thread = evolve(thread, variables=variables)
        details.update(assigned_details(outcome.assigned))
    thread = emit(turn, thread, f"{state.type_name}StateExited", details)
    transition(turn, thread, next_name, outcome.output)


def variables_over_limit(
    limits: Limits, assigned: dict[str, Json], variables: dict[str, Json]
) -> str | None:
    """The cause of a ``States.DataLimitExceeded`` for variables, or None when within limits.

    AWS limits each variable and each ``Assign`` to 256 KiB, and all of an execution's
    variables to 10 MiB.
    """
    for name, value in assigned.items():
        if json_size(value, limits.payload_bytes) > limits.payload_bytes:
            return (
                f"The variable '{name}' exceeds the maximum size of {limits.payload_bytes} bytes."
            )
    if json_size(assigned, limits.payload_bytes) > limits.payload_bytes:
        return f"The Assign field exceeds the maximum size of {limits.payload_bytes} bytes."
    if json_size(variables, limits.variables_bytes) > limits.variables_bytes:
        return f"The variables exceed the maximum total size of {limits.variables_bytes} bytes."
    return None


def transition(turn: Turn, thread: Thread, next_name: str | None, output: Json) -> None:
    """Go to ``next_name`` (scheduling a step), or end the thread with ``output``."""
    if next_name is None:
        succeed_thread(turn, thread, output)
        return
    thread = thread.bump(
        state=next_name,
        phase=Phase.ENTER,
        input=output,
        retry_counts=(),
        effective=None,
        fan_out=None,
        heartbeat_due=None,
        task_started=False,
    )
    turn.save(thread)
    turn.decide(ScheduleStep(thread.id, thread.seq, next_name))


def handle_error(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    error: str,
    cause: str | None,
    *,
    on_give_up: GiveUp | None = None,
) -> None:
    """Apply the state's Retry, then Catch; otherwise fail the thread."""
    retriers: tuple[Retrier, ...] = getattr(state, "retry", ())
    index = find_retrier(retriers, error)
    if index is not None:
        counts = _counts(thread, len(retriers))
        if counts[index] < retriers[index].max_attempts:
            _schedule_retry(turn, thread, retriers[index], index, counts)
            return
    if on_give_up is not None:
        thread = on_give_up(thread)
    catcher = find_catcher(getattr(state, "catch", ()), error)
    if catcher is None:
        fail_thread(turn, thread, error, cause)
        return
    error_output: dict[str, Json] = {"Error": error}
    if cause is not None:
        error_output["Cause"] = cause
    try:
        outcome = flow.catch_outcome(turn, thread, state, catcher, error_output)
    except StatesRuntimeError as failure:
        prefixed = failure.prefixed_cause(state.name, thread.entered_event_id)
        fail_thread(turn, latest(turn, thread), failure.name, prefixed)
        return
    exit_state(turn, thread, state, outcome, catcher.next)


def _counts(thread: Thread, size: int) -> list[int]:
    counts = list(thread.retry_counts) + [0] * (size - len(thread.retry_counts))
    return counts[:size]


def _schedule_retry(
    turn: Turn, thread: Thread, retrier: Retrier, index: int, counts: list[int]
) -> None:
    delay = backoff_seconds(retrier, counts[index], turn.rng)
    counts[index] += 1
    thread = turn.save(
        thread.bump(phase=Phase.RETRY, retry_counts=tuple(counts), heartbeat_due=None)
    )
    due = turn.now + timedelta(seconds=delay)
    turn.decide(StartTimer(thread.id, thread.seq, TimerKind.RETRY, due))


def succeed_thread(turn: Turn, thread: Thread, output: Json) -> None:
    """End ``thread`` successfully; the root ends the execution, a child tells its parent."""
    thread = turn.save(thread.bump(status=ThreadStatus.SUCCEEDED, phase=Phase.DONE, output=output))
    if thread.parent_id is None:
        emit(turn, thread, "ExecutionSucceeded", turn.payload_details("output", output))
        turn.execution = evolve(turn.execution, status=ExecutionStatus.SUCCEEDED, output=output)
        turn.decide(FinishExecution(ExecutionStatus.SUCCEEDED))
        return
    _tell_parent(turn, thread, succeeded=True, output=output)


def fail_thread(turn: Turn, thread: Thread, error: str | None, cause: str | None) -> None:
    """End ``thread`` with an error; a root failure fails the execution."""
    if thread.phase is Phase.BRANCHES:
        turn.decide(AbortChildren(thread.id))
    if thread.parent_id is not None and isinstance(turn.state(thread), TaskState):
        # The enclosing Parallel/Map aborts the branch, whose Task never exited.
        thread = emit(turn, thread, "TaskStateAborted")
    thread = turn.save(
        thread.bump(status=ThreadStatus.FAILED, phase=Phase.DONE, error=error, cause=cause)
    )
    if thread.parent_id is None:
        emit(turn, thread, "ExecutionFailed", error_details(error, cause))
        turn.execution = evolve(
            turn.execution, status=ExecutionStatus.FAILED, error=error, cause=cause
        )
        turn.decide(FinishExecution(ExecutionStatus.FAILED))
        return
    _tell_parent(turn, thread, succeeded=False, error=error, cause=cause)


def error_details(error: str | None, cause: str | None) -> dict[str, Json]:
    """``{error, cause}`` with absent parts left out, as AWS shows them."""
    details: dict[str, Json] = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details


def _tell_parent(
    turn: Turn,
    thread: Thread,
    *,
    succeeded: bool,
    output: Json = None,
    error: str | None = None,
    cause: str | None = None,
) -> None:
    assert thread.parent_id is not None
    assert thread.index is not None
    ended = BranchEnded(
        thread_id=thread.parent_id,
        child_id=thread.id,
        index=thread.index,
        succeeded=succeeded,
        output=output,
        error=error,
        cause=cause,
        last_event_id=thread.last_event_id,
    )
    turn.decide(Deliver(ended))


def uses_retry_count(state: AnyState) -> bool:
    """Whether ``$$.State.RetryCount`` exists for the state (AWS: Task states)."""
    return isinstance(state, TaskState)


def is_fan_out(state: AnyState) -> bool:
    """Whether the state runs child threads."""
    return isinstance(state, ParallelState | MapState)
