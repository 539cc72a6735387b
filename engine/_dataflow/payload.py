"""Payload templates of JSONPath states: Parameters, ResultSelector, ItemSelector, Assign.

A template is JSON. An object member whose key ends in ``.$`` is dynamic: its value is a
path (``$...`` on ``scope.input``, ``$$...`` on the context object, ``$name...`` on a
variable) or an intrinsic function call, and its result is stored under the key without
the ``.$``. Nested objects and arrays are templates too; every other value is literal.
"""

from __future__ import annotations

from typing import Final

from engine._dataflow import intrinsics
from engine._dataflow.jsonpath import InvalidPathError, PathNotFound, compact_json, query
from engine._dataflow.scope import Json, Scope
from engine._errors import ErrorName, StatesRuntimeError

_DYNAMIC_SUFFIX: Final = ".$"


def evaluate_payload(template: Json, scope: Scope, *, field: str) -> Json:
    """Build the value a payload template describes.

    Args:
        template: the template as written in the definition.
        scope: what ``$``, ``$$`` and ``$name`` refer to, and the random source.
        field: the state field holding the template (e.g. ``Parameters``), for messages.

    Returns:
        A new JSON value; ``template`` and the scope's values are not modified.

    Raises:
        StatesRuntimeError: ``States.Runtime`` when a path selects nothing (worded as
            AWS words it) or a dynamic value is not a path or call;
            ``States.IntrinsicFailure`` when an intrinsic function fails.
    """
    if isinstance(template, dict):
        return {
            _output_key(key): _member(key, value, scope, field) for key, value in template.items()
        }
    if isinstance(template, list):
        return [evaluate_payload(item, scope, field=field) for item in template]
    return template


def _output_key(key: str) -> str:
    return key[: -len(_DYNAMIC_SUFFIX)] if key.endswith(_DYNAMIC_SUFFIX) else key


def _member(key: str, value: Json, scope: Scope, field: str) -> Json:
    if not key.endswith(_DYNAMIC_SUFFIX):
        return evaluate_payload(value, scope, field=field)
    if not isinstance(value, str):
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The value for the field '{key}' in '{field}' must be a JSONPath or an "
            f"intrinsic function call, but is {compact_json(value)}",
        )
    if intrinsics.is_intrinsic_call(value):
        return intrinsics.evaluate(value, scope, field=key)
    return _select(key, value, scope, field)


def _select(key: str, path: str, scope: Scope, field: str) -> Json:
    try:
        return query(path, scope)
    except PathNotFound:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The JSONPath '{path}' specified for the field '{key}' could not be found "
            f"in the input '{compact_json(scope.input)}'",
        ) from None
    except InvalidPathError as error:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"The value for the field '{key}' in '{field}' must be a valid JSONPath or "
            f"intrinsic function call: {error.reason}",
        ) from None
