"""Bodies of the non-fan-out states: Pass, Choice, Wait, Succeed, Fail.

A body runs right after ``*StateEntered`` was emitted; it either exits the state
(emitting ``*StateExited`` and moving on), parks the thread on a timer, or raises an
ASL error that :func:`engine._interpreter.lifecycle.guarded` turns into Retry/Catch/fail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine._asl.model import (
    AnyState,
    ChoiceRule,
    ChoiceState,
    Condition,
    FailState,
    PassState,
    SucceedState,
    WaitState,
)
from engine._dataflow import choice, jsonata, paths
from engine._dataflow.timestamps import parse_timestamp
from engine._errors import ErrorName, StatesError, StatesRuntimeError
from engine._interpreter import flow
from engine._interpreter.decisions import StartTimer
from engine._interpreter.events import TimerKind
from engine._interpreter.lifecycle import exit_state, fail_thread
from engine._interpreter.snapshot import Phase, Thread
from engine._interpreter.turn import Turn

Json = Any


def run_pass(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Pass: inject ``Result`` or ``Parameters`` (JSONPath) or ``Output`` (JSONata)."""
    assert isinstance(state, PassState)
    if flow.is_jsonata(state):
        outcome = flow.passthrough_outcome(turn, thread, state, thread.input)
    else:
        effective = flow.effective_input(turn, thread, state)
        result = (
            state.result if state.has_result else flow.parameters(turn, thread, state, effective)
        )
        outcome = flow.result_outcome(turn, thread, state, result)
    exit_state(turn, thread, state, outcome, state.next)


def run_choice(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Choice: the first matching rule's ``Next``, else ``Default``, else an error."""
    assert isinstance(state, ChoiceState)
    effective = flow.effective_input(turn, thread, state)
    for branch in state.choices:
        if rule_holds(turn, thread, branch.rule, effective):
            outcome = flow.passthrough_outcome(turn, thread, state, effective, branch=branch)
            exit_state(turn, thread, state, outcome, branch.next)
            return
    if state.default is None:
        raise StatesError(ErrorName.NO_CHOICE_MATCHED, None)
    outcome = flow.passthrough_outcome(turn, thread, state, effective)
    exit_state(turn, thread, state, outcome, state.default)


def rule_holds(turn: Turn, thread: Thread, rule: ChoiceRule, effective: Json) -> bool:
    if isinstance(rule, Condition):
        value = rule.expression
        if jsonata.is_expression(value):
            value = flow.evaluate_jsonata(value, flow.jsonata_scope(turn, thread), "Condition")
        if not isinstance(value, bool):
            raise StatesRuntimeError(
                ErrorName.QUERY_EVALUATION_ERROR,
                f"The Condition field must evaluate to a boolean value, but was: {value!r}",
                location="Condition",
            )
        return value
    return choice.evaluate_rule(rule, turn.scope(thread, effective))


def run_wait(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Wait: start a timer; the state exits when it fires."""
    assert isinstance(state, WaitState)
    effective = flow.effective_input(turn, thread, state)
    due = wait_due(turn, thread, state, effective)
    if (due - turn.now).total_seconds() > turn.limits.max_wait_seconds:
        raise StatesRuntimeError(ErrorName.RUNTIME, "Wait state delay is too long.")
    thread = turn.save(thread.bump(phase=Phase.WAIT, effective=effective))
    turn.decide(StartTimer(thread.id, thread.seq, TimerKind.WAIT, due))


def finish_wait(turn: Turn, thread: Thread, state: AnyState) -> None:
    """The Wait's timer fired: exit with the input (through OutputPath / Output)."""
    outcome = flow.passthrough_outcome(turn, thread, state, thread.effective)
    exit_state(turn, thread, state, outcome, state.next)


def wait_due(turn: Turn, thread: Thread, state: WaitState, effective: Json) -> datetime:
    scope = turn.scope(thread, effective)
    if state.seconds_path is not None:
        value = paths.read_path(state.seconds_path, scope, field="SecondsPath")
        return turn.now + timedelta(seconds=_seconds_from_path(state.seconds_path, value))
    if state.timestamp_path is not None:
        value = paths.read_path(state.timestamp_path, scope, field="TimestampPath")
        moment = parse_timestamp(value) if isinstance(value, str) else None
        if moment is None:
            raise StatesRuntimeError(
                ErrorName.RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended "
                f"offset date-time format string: {state.timestamp_path} == {_show(value)}",
            )
        return moment
    if state.timestamp is not None:
        return _timestamp_field(turn, thread, state.timestamp)
    return turn.now + timedelta(seconds=_seconds_field(turn, thread, state.seconds))


def _seconds_from_path(path: str, value: Json) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The SecondsPath parameter cannot be parsed as a long value: {path} == {_show(value)}",
        )
    if value < 0:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The SecondsPath parameter references a negative value: {path} == {_show(value)}",
        )
    return value


def _seconds_field(turn: Turn, thread: Thread, raw: Json) -> int:
    if not jsonata.is_expression(raw):
        return int(raw)
    value = flow.evaluate_jsonata(raw, flow.jsonata_scope(turn, thread), "Seconds")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StatesRuntimeError(
            ErrorName.QUERY_EVALUATION_ERROR,
            f"The Seconds field must be a positive integer but was: {_show(value)}",
            location="Seconds",
        )
    return value


def _timestamp_field(turn: Turn, thread: Thread, raw: Json) -> datetime:
    value = raw
    if jsonata.is_expression(raw):
        value = flow.evaluate_jsonata(raw, flow.jsonata_scope(turn, thread), "Timestamp")
    moment = parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        raise StatesRuntimeError(
            ErrorName.QUERY_EVALUATION_ERROR,
            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
            f"format string: {_show(value)}",
            location="Timestamp",
        )
    return moment


def _show(value: Json) -> str:
    """A value as AWS quotes it in messages: strings bare, other values as JSON."""
    if isinstance(value, str):
        return value
    return flow.compact_json(value)


def run_succeed(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Succeed: end the thread with the (filtered) input."""
    assert isinstance(state, SucceedState)
    effective = flow.effective_input(turn, thread, state)
    outcome = flow.passthrough_outcome(turn, thread, state, effective)
    exit_state(turn, thread, state, outcome, None)


def run_fail(turn: Turn, thread: Thread, state: AnyState) -> None:
    """Fail: end the thread with Error and Cause (literal, path, intrinsic or JSONata)."""
    assert isinstance(state, FailState)
    error = fail_field(turn, thread, state, state.error, state.error_path, "Error")
    cause = fail_field(turn, thread, state, state.cause, state.cause_path, "Cause")
    fail_thread(turn, thread, error, cause)


def fail_field(
    turn: Turn, thread: Thread, state: FailState, literal: Json, path: str | None, name: str
) -> str | None:
    if path is not None:
        value = paths.read_path(path, turn.scope(thread, thread.input), field=f"{name}Path")
    elif flow.is_jsonata(state) and jsonata.is_expression(literal):
        value = flow.evaluate_jsonata(literal, flow.jsonata_scope(turn, thread), name)
    else:
        value = literal
    if value is None or isinstance(value, str):
        return value
    return flow.compact_json(value)
