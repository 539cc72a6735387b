"""The path fields of JSONPath states: InputPath, OutputPath, ResultPath and the ``*Path`` reads.

Each function turns a failed selection into the error AWS raises, with AWS's wording:

* InputPath / OutputPath: ``States.Runtime``,
  ``Invalid path '$.x' : No results for path: $['x']``;
* ResultPath: ``States.ResultPathMatchFailure``,
  ``Unable to apply ReferencePath $.x to input "..."``;
* single-path fields (SecondsPath, ErrorPath, ItemsPath, ...): ``States.Runtime``,
  ``The JSONPath '$.x' specified for the field 'SecondsPath' could not be found in the
  input '{...}'``.

Paths starting ``$$`` read the context object and ``$name`` (not ``$.`` / ``$[``) the
variable ``name``.
"""

from __future__ import annotations

from typing import Final

from engine._dataflow import intrinsics
from engine._dataflow.jsonpath import (
    InvalidPathError,
    PathNotFound,
    PathNotWritableError,
    compact_json,
    query,
    set_path,
)
from engine._dataflow.scope import Json, Scope
from engine._errors import ErrorName, StatesError, StatesRuntimeError

WHOLE: Final = "$"
"""The path selecting the whole input (every path field's default): no query needed."""

_INTRINSIC_FIELDS: Final = frozenset({"ErrorPath", "CausePath"})
"""The single-path fields that may hold an intrinsic function call instead of a path."""


def apply_input_path(path: str | None, scope: Scope) -> Json:
    """The effective input: what ``path`` selects from ``scope``; ``{}`` when ``path`` is None.

    Raises:
        StatesRuntimeError: ``States.Runtime`` when the path selects nothing.
    """
    return {} if path is None else _select_whole(path, scope)


def apply_output_path(path: str | None, scope: Scope) -> Json:
    """The state output: what ``path`` selects from ``scope``; ``{}`` when ``path`` is None.

    Raises:
        StatesRuntimeError: ``States.Runtime`` when the path selects nothing.
    """
    return {} if path is None else _select_whole(path, scope)


def apply_result_path(state_input: Json, result_path: str | None, result: Json) -> Json:
    """Combine the state's raw input with its result as ``ResultPath`` says.

    Args:
        state_input: the input the state received (before InputPath).
        result_path: a Reference Path; None (JSON null) discards the result.
        result: the state's result (after ResultSelector).

    Returns:
        A new value; ``state_input`` is not modified.

    Raises:
        StatesError: ``States.ResultPathMatchFailure`` when the path cannot be written
            into ``state_input`` (e.g. it crosses a string or an array).
        StatesRuntimeError: ``States.Runtime`` when the path is not a valid Reference Path.
    """
    if result_path is None:
        return state_input
    if result_path == WHOLE:
        return result
    try:
        return set_path(state_input, result_path, result)
    except PathNotWritableError:
        raise StatesError(
            ErrorName.RESULT_PATH_MATCH_FAILURE,
            f"Unable to apply ReferencePath {result_path} to input {compact_json(state_input)}",
        ) from None
    except InvalidPathError as error:
        raise StatesRuntimeError(
            ErrorName.RUNTIME, f"Invalid path '{result_path}' : {error.reason}"
        ) from None


def read_path(path: str, scope: Scope, *, field: str) -> Json:
    """The value a single-path field (``SecondsPath``, ``ItemsPath``, ``ErrorPath``, ...) selects.

    ``ErrorPath`` and ``CausePath`` may hold an intrinsic function call instead.

    Raises:
        StatesRuntimeError: ``States.Runtime`` when the path selects nothing, worded with
            ``field``; ``States.IntrinsicFailure`` when an intrinsic function fails.
    """
    if field in _INTRINSIC_FIELDS and intrinsics.is_intrinsic_call(path):
        return intrinsics.evaluate(path, scope, field=field)
    try:
        return query(path, scope)
    except PathNotFound:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The JSONPath '{path}' specified for the field '{field}' could not be found "
            f"in the input '{compact_json(scope.input)}'",
        ) from None
    except InvalidPathError as error:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The value '{path}' of the field '{field}' is not a valid JSONPath: {error.reason}",
        ) from None


def _select_whole(path: str, scope: Scope) -> Json:
    """InputPath / OutputPath selection, failing with AWS's ``Invalid path`` wording."""
    try:
        return query(path, scope)
    except PathNotFound as missing:
        raise StatesRuntimeError(
            ErrorName.RUNTIME, f"Invalid path '{path}' : {missing.detail}"
        ) from None
    except InvalidPathError as error:
        raise StatesRuntimeError(
            ErrorName.RUNTIME, f"Invalid path '{path}' : {error.reason}"
        ) from None
