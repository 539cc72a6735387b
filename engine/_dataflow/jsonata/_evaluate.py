"""Evaluating ``{% ... %}`` expressions and templates the way Step Functions does.

Every failure is a ``StatesRuntimeError(States.QueryEvaluationError, detail)`` whose
detail is AWS's text after the "An error occurred while executing the state ..." prefix:

* ``The JSONata expression '<expr>' specified for the field '<field>' returned nothing
  (undefined).`` (assign.test_assign_reference_variables.test_undefined_reference__*)
* ``... threw an error during evaluation. <code>: <message>``
  (intrinsic_functions.test_math_operations_jsonata.test_math_random_seeded)
* ``... returned an unsupported result type.``
  (scenarios.test_base_scenarios.test_map_state_items_eval_jsonata_fail__function)
* ``... returned an unexpected result type. Expected 'array', but was 'string' for
  value: "string"`` (scenarios.test_base_scenarios.test_map_state_items_eval_jsonata_*)
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from jsonata import Utils

from engine._dataflow.jsonata._bounds import BuildBudget, guarded_builtins, size_limit
from engine._dataflow.jsonata._functions import (
    STEP_FUNCTIONS_FUNCTIONS,
    MissingScopeValueError,
    evaluation_sources,
)
from engine._dataflow.jsonata._messages import compact_json, describe_error, json_type_name
from engine._dataflow.jsonata._syntax import compile_expression, expression_body, is_expression
from engine._dataflow.jsonata._values import UnsupportedResultError, to_json
from engine._dataflow.regex import metered
from engine._dataflow.scope import Json, Scope
from engine._dataflow.sizes import ValueTooLarge
from engine._errors import ErrorName, StatesRuntimeError

JsonType = Literal["array", "object", "string", "number", "boolean", "null"]

# A deterministic guard against runaway expressions (JSONata's tail calls make
# `($f := function(){ $f() }; $f())` loop forever): each evaluated AST node costs one step.
# A step costs the library 4-10 us of CPU on the 2-core machine, so 1,000,000 steps held a
# worker for 8-17 s (the fuzz suite's endless loops). 250,000 stop one within 1-3 s and
# still allow a $map with 11 steps per item over 20,000 items, more than AWS's 256 KiB of
# input holds as {"id": ..., "name": ...} records (ADR 0040).
MAX_EVALUATION_STEPS = 250_000

_GUARDED_BUILTINS = guarded_builtins()


class _Unset(Enum):
    UNSET = "UNSET"


UNSET = _Unset.UNSET
"""Marks ``$states.result`` / ``$states.errorOutput`` as absent (distinct from null)."""


def evaluate_expression(
    text: str,
    scope: Scope,
    *,
    field: str,
    result: Json | _Unset = UNSET,
    error_output: Json | _Unset = UNSET,
    expect: JsonType | None = None,
) -> Json:
    """Evaluate one ``{% ... %}`` string and return its JSON value.

    The expression sees ``$states`` = ``{"input": scope.input, "context": scope.context}``
    plus ``"result"`` when ``result`` is given and ``"errorOutput"`` when
    ``error_output`` is given (pass them only where AWS offers them: ``result`` in a
    Task/Map/Parallel's Output and Assign after success, ``error_output`` in a Catcher's
    Output and Assign). Workflow variables are ``$name``; they shadow functions of the
    same name. ``$now()``/``$millis()`` read ``scope.now``; ``$random()``, ``$uuid()``
    and ``$shuffle()`` draw from ``scope.rng``.

    Args:
        text: the field value, delimiters included, e.g. ``"{% $states.input.a %}"``.
        scope: what the expression may read.
        field: where the value sits in the state, for messages, e.g. ``"Output/result"``.
        result: the value of ``$states.result``, or UNSET.
        error_output: the value of ``$states.errorOutput``, or UNSET.
        expect: when given, the JSON type the result must have (e.g. ``"array"`` for
            Map ``Items``).

    Returns:
        The result as plain JSON (lists, dicts, ints for integral numbers, None for null).

    Raises:
        StatesRuntimeError: ``States.QueryEvaluationError`` with AWS's detail text and
            ``location`` = ``field`` (the EvaluationFailed event's location).
        MissingScopeValueError: the expression needs ``scope.now``/``scope.rng`` and the
            caller gave none (an engine bug, not a user error).
        ValueError: ``text`` is not a ``{% ... %}`` string.
    """
    body = expression_body(text)
    raw = _run(body, scope, _states(scope, result, error_output), field)
    if raw is None:
        raise _failure(body, field, "returned nothing (undefined).")
    try:
        value = to_json(raw)
    except UnsupportedResultError:
        raise _failure(body, field, "returned an unsupported result type.") from None
    if expect is not None and json_type_name(value) != expect:
        raise _failure(
            body,
            field,
            f"returned an unexpected result type. Expected '{expect}', but was "
            f"'{json_type_name(value)}' for value: {compact_json(value)}",
        )
    return value


def evaluate_template(
    template: Json,
    scope: Scope,
    *,
    field: str,
    result: Json | _Unset = UNSET,
    error_output: Json | _Unset = UNSET,
) -> Json:
    """Evaluate every ``{% ... %}`` string inside a JSON template; keep the rest literal.

    Used for ``Arguments``, ``Output``, ``Assign``, ``ItemSelector``, Map ``Items`` given
    as an array, ... An expression that returns undefined fails (AWS never drops the
    field: case ``...test_undefined_reference__BASE_UNDEFINED_OUTPUT_FIELD``). Strings
    such as ``"$.a"``, ``"$var"`` or ``" {% x %} "`` are literals.

    Args:
        template: the field's value from the definition.
        scope: what the expressions may read.
        field: the field name, e.g. ``"Arguments"``; nested values are named by their
            path joined with ``/`` (``"Arguments/FunctionName"``; array items by index,
            ``"Output/items/0"``).
        result: the value of ``$states.result``, or UNSET.
        error_output: the value of ``$states.errorOutput``, or UNSET.

    Returns:
        A new JSON value; the template is not modified.

    Raises:
        StatesRuntimeError: ``States.QueryEvaluationError`` for the first failing
            expression, in document order.
    """
    if isinstance(template, str):
        if not is_expression(template):
            return template
        return evaluate_expression(
            template, scope, field=field, result=result, error_output=error_output
        )
    if isinstance(template, dict):
        return {
            key: evaluate_template(
                value, scope, field=f"{field}/{key}", result=result, error_output=error_output
            )
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [
            evaluate_template(
                value, scope, field=f"{field}/{index}", result=result, error_output=error_output
            )
            for index, value in enumerate(template)
        ]
    return template


def _states(scope: Scope, result: Json | _Unset, error_output: Json | _Unset) -> dict[str, Any]:
    states: dict[str, Any] = {"input": scope.input, "context": scope.context}
    if result is not UNSET:
        states["result"] = result
    if error_output is not UNSET:
        states["errorOutput"] = error_output
    return states


def _run(body: str, scope: Scope, states: dict[str, Any], field: str) -> Any:
    counter = _StepCounter()
    bindings = {
        **_GUARDED_BUILTINS,
        **STEP_FUNCTIONS_FUNCTIONS,
        **{name: _bindable(value) for name, value in scope.variables.items()},
        "states": states,
        "__evaluate_entry": counter,
        "__evaluate_exit": BuildBudget(scope.max_bytes),
    }
    try:
        compiled = compile_expression(body)
        with (
            evaluation_sources(scope.now, scope.rng),
            size_limit(scope.max_bytes),
            metered(counter.charge),  # each regex match costs a step too
        ):
            return compiled.evaluate(None, bindings)
    except (MissingScopeValueError, ValueTooLarge):
        raise
    except Exception as error:  # every library failure is the user's expression failing
        detail = f"threw an error during evaluation. {describe_error(error)}"
        raise _failure(body, field, detail) from error


def _bindable(value: Json) -> Any:
    # A variable holding null must read as JSONata null, not as an unbound name
    # (case scenarios.test_base_scenarios.test_map_state_items_variable_sampling__null).
    return Utils.NULL_VALUE if value is None else value


class _StepCounter:
    """The library's per-node entry hook, counting down the evaluation budget."""

    def __init__(self) -> None:
        self.remaining = MAX_EVALUATION_STEPS

    def __call__(self, _expr: Any, _input: Any, _environment: Any) -> None:
        self.charge()

    def charge(self) -> None:
        """Spend one step."""
        self.remaining -= 1
        if self.remaining < 0:
            raise _BudgetExceededError(
                f"The evaluation exceeded {MAX_EVALUATION_STEPS} steps; "
                "check for an infinite loop or recursion"
            )


class _BudgetExceededError(Exception):
    """The expression ran longer than MAX_EVALUATION_STEPS."""


def _failure(body: str, field: str, what: str) -> StatesRuntimeError:
    return StatesRuntimeError(
        ErrorName.QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{body}' specified for the field '{field}' {what}",
        location=field,
    )
