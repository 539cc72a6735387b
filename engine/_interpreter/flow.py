"""A state's data flow in its query language: input, parameters, result, output, Assign.

JSONPath states run InputPath → Parameters → (task) → ResultSelector → ResultPath →
OutputPath, with ``Assign`` evaluated on the result (after ResultSelector). JSONata
states run Arguments → (task) → Output, with ``Assign`` evaluated beside Output; both
see ``$states.input`` / ``$states.result`` and the variables as they were before the
state assigned any.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from engine._asl.model import AnyState, Catcher, ChoiceBranch, QueryLanguage
from engine._dataflow import jsonata, paths, payload
from engine._dataflow.scope import Scope
from engine._interpreter.snapshot import Thread
from engine._interpreter.turn import Turn

Json = Any


class _Unset:
    """Marks an absent ``$states.result`` / ``$states.errorOutput`` / override."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()
WHOLE: Final = paths.WHOLE
_UNSET: Final[Any] = UNSET


def compact_json(value: Json) -> str:
    """Compact JSON text, as AWS renders values inside messages."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Outcome:
    """A state's output and the variables it assigns."""

    output: Json
    assigned: dict[str, Json]


def is_jsonata(state: AnyState) -> bool:
    """True when the state evaluates its fields with JSONata."""
    return state.query_language is QueryLanguage.JSONATA


def effective_input(turn: Turn, thread: Thread, state: AnyState) -> Json:
    """The input after InputPath (JSONata states have no InputPath)."""
    if is_jsonata(state) or state.input_path == WHOLE:
        return thread.input
    return paths.apply_input_path(state.input_path, turn.scope(thread, thread.input))


def jsonata_scope(turn: Turn, thread: Thread, **context: Any) -> Scope:
    """The scope of a JSONata field: ``$states.input`` is the state's raw input."""
    return turn.scope(thread, thread.input, **context)


def evaluate_jsonata(
    template: Json,
    scope: Scope,
    field: str,
    *,
    result: Json = _UNSET,
    error_output: Json = _UNSET,
) -> Json:
    """Evaluate a JSONata-mode field (``{% %}`` strings anywhere inside ``template``)."""
    extra: dict[str, Json] = {}
    if result is not UNSET:
        extra["result"] = result
    if error_output is not UNSET:
        extra["error_output"] = error_output
    return jsonata.evaluate_template(template, scope, field=field, **extra)


def parameters(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    effective: Json,
    *,
    with_retry_count: bool = False,
    task_token: str | None = None,
) -> Json:
    """The value a Task/Parallel passes on: Parameters (JSONPath) or Arguments (JSONata)."""
    if is_jsonata(state):
        if not getattr(state, "has_arguments", False):
            return thread.input
        scope = jsonata_scope(
            turn, thread, with_retry_count=with_retry_count, task_token=task_token
        )
        return evaluate_jsonata(getattr(state, "arguments", None), scope, "Arguments")
    if not getattr(state, "has_parameters", False):
        return effective
    scope = turn.scope(thread, effective, with_retry_count=with_retry_count, task_token=task_token)
    return payload.evaluate_payload(getattr(state, "parameters", None), scope, field="Parameters")


@dataclass(frozen=True)
class ResultStages:
    """A result's way to the output, stage by stage (TestState's inspection shows them).

    ``after_result_selector`` / ``after_result_path`` are None for JSONata states.
    """

    after_result_selector: Json
    after_result_path: Json
    outcome: Outcome


def result_outcome(
    turn: Turn, thread: Thread, state: AnyState, result: Json, *, retry_count: bool = False
) -> Outcome:
    """Output and assignments of a state that produced ``result`` (Task, Map, Parallel, Pass)."""
    return result_stages(turn, thread, state, result, retry_count=retry_count).outcome


def result_stages(
    turn: Turn, thread: Thread, state: AnyState, result: Json, *, retry_count: bool = False
) -> ResultStages:
    """`result_outcome`, keeping the values between ResultSelector, ResultPath and OutputPath."""
    if is_jsonata(state):
        scope = jsonata_scope(turn, thread, with_retry_count=retry_count)
        output = (
            evaluate_jsonata(state.output, scope, "Output", result=result)
            if state.has_output
            else result
        )
        assigned = _jsonata_assign(state.assign, scope, result=result)
        return ResultStages(None, None, Outcome(output, assigned))
    selected = result
    if getattr(state, "has_result_selector", False):
        selector_scope = turn.scope(thread, result, with_retry_count=retry_count)
        selector = getattr(state, "result_selector", None)
        selected = payload.evaluate_payload(selector, selector_scope, field="ResultSelector")
    assigned = _jsonpath_assign(turn, thread, state.assign, selected)
    combined = paths.apply_result_path(thread.input, getattr(state, "result_path", WHOLE), selected)
    output = _output_path(turn, thread, state, combined)
    return ResultStages(selected, combined, Outcome(output, assigned))


def passthrough_outcome(
    turn: Turn,
    thread: Thread,
    state: AnyState,
    effective: Json,
    *,
    branch: ChoiceBranch | None = None,
) -> Outcome:
    """Output and assignments of a state that passes its input on (Choice, Wait, Succeed).

    A matched Choice ``branch`` brings its own ``Assign`` / ``Output`` in place of the
    state's (which apply when the Default is taken).
    """
    assign_template = branch.assign if branch is not None else state.assign
    has_output = branch.has_output if branch is not None else state.has_output
    output_template = branch.output if branch is not None else state.output
    if is_jsonata(state):
        scope = jsonata_scope(turn, thread)
        value = evaluate_jsonata(output_template, scope, "Output") if has_output else thread.input
        return Outcome(value, _jsonata_assign(assign_template, scope))
    assigned = _jsonpath_assign(turn, thread, assign_template, effective)
    return Outcome(_output_path(turn, thread, state, effective), assigned)


def _output_path(turn: Turn, thread: Thread, state: AnyState, value: Json) -> Json:
    """``value`` through the state's OutputPath (``$``, the default, is ``value`` itself)."""
    if state.output_path == WHOLE:
        return value
    return paths.apply_output_path(state.output_path, turn.scope(thread, value))


def catch_outcome(
    turn: Turn, thread: Thread, state: AnyState, catcher: Catcher, error_output: Json
) -> Outcome:
    """Output and assignments when ``catcher`` handles an error (OutputPath is not applied)."""
    if is_jsonata(state):
        scope = jsonata_scope(turn, thread)
        output = (
            evaluate_jsonata(catcher.output, scope, "Output", error_output=error_output)
            if catcher.has_output
            else error_output
        )
        assigned = _jsonata_assign(catcher.assign, scope, error_output=error_output)
        return Outcome(output, assigned)
    assigned = _jsonpath_assign(turn, thread, catcher.assign, error_output)
    output = paths.apply_result_path(thread.input, catcher.result_path, error_output)
    return Outcome(output, assigned)


def _jsonpath_assign(turn: Turn, thread: Thread, template: Json, value: Json) -> dict[str, Json]:
    if template is None:
        return {}
    assigned = payload.evaluate_payload(template, turn.scope(thread, value), field="Assign")
    return dict(assigned)


def _jsonata_assign(
    template: Json, scope: Scope, *, result: Json = _UNSET, error_output: Json = _UNSET
) -> dict[str, Json]:
    if template is None:
        return {}
    assigned = evaluate_jsonata(template, scope, "Assign", result=result, error_output=error_output)
    return dict(assigned)
