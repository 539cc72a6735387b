"""One state: its type, its language, which fields it may have, and each field's value.

`FIELD_CHECKS` maps every field name to the check of its value; the tables in
:mod:`engine._asl.validation.fields` say which state types and languages allow it.
"""

from __future__ import annotations

from typing import Final

from engine._asl.validation.choice import check_choices
from engine._asl.validation.common import (
    FieldCheck,
    check_comment,
    check_end,
    check_ignored,
    check_jsonata_field,
    check_next,
    check_nullable_path,
    check_path,
    check_path_or_intrinsic,
    check_result_path,
    check_state_assign,
    check_template,
    integer_field,
    is_expression_here,
    number_field,
    string_field,
)
from engine._asl.validation.context import MachineContext, StateContext
from engine._asl.validation.fields import (
    AT_MOST_ONE,
    COMMON_FIELDS,
    EXACTLY_ONE,
    JSONATA_ONLY,
    JSONPATH_ONLY,
    QUERY_LANGUAGES,
    REQUIRED,
    STATE_FIELDS,
    STATE_TYPES,
    TRANSITION_TYPES,
)
from engine._asl.validation.nested import (
    check_branches,
    check_item_batcher,
    check_item_reader,
    check_items,
    check_items_path,
    check_label,
    check_processor,
    check_result_writer,
)
from engine._asl.validation.report import Json, child, quote
from engine._asl.validation.retry_catch import check_catch, check_retry
from engine._asl.validation.task import check_credentials, check_resource, check_task_rules
from engine._asl.validation.templates import check_jsonata_value
from engine._asl.validation.values import expect_choice, expect_object, fail
from engine._dataflow.timestamps import is_timestamp


def check_timestamp(state: StateContext, path: str, value: Json) -> None:
    """Wait ``Timestamp``: a literal timestamp AWS parses (JSONata states may compute it)."""
    if is_expression_here(state, value):
        check_jsonata_value(state.report, path, value)
    elif not (isinstance(value, str) and is_timestamp(value)):
        fail(
            state.report,
            path,
            "an RFC 3339 / ISO-8601 timestamp with a time-zone offset, such as "
            "'2016-03-14T01:59:00Z'",
            value,
        )


FIELD_CHECKS: Final[dict[str, FieldCheck]] = {
    "Comment": check_comment,
    "InputPath": check_nullable_path,
    "OutputPath": check_nullable_path,
    "ResultPath": check_result_path,
    "Parameters": check_template,
    "ResultSelector": check_template,
    "ItemSelector": check_template,
    "Result": check_ignored,
    "Arguments": check_jsonata_field,
    "Output": check_jsonata_field,
    "Assign": check_state_assign,
    "Next": check_next,
    "Default": check_next,
    "End": check_end,
    "Retry": check_retry,
    "Catch": check_catch,
    "Resource": check_resource,
    "Credentials": check_credentials,
    "TimeoutSeconds": integer_field(1),
    "HeartbeatSeconds": integer_field(1),
    "TimeoutSecondsPath": check_path,
    "HeartbeatSecondsPath": check_path,
    "Seconds": integer_field(0),
    "Timestamp": check_timestamp,
    "SecondsPath": check_path,
    "TimestampPath": check_path,
    "Error": string_field,
    "Cause": string_field,
    "ErrorPath": check_path_or_intrinsic,
    "CausePath": check_path_or_intrinsic,
    "Choices": check_choices,
    "Branches": check_branches,
    "ItemProcessor": check_processor,
    "Iterator": check_processor,
    "ItemsPath": check_items_path,
    "Items": check_items,
    "MaxConcurrency": integer_field(0),
    "MaxConcurrencyPath": check_path,
    "ToleratedFailureCount": integer_field(0),
    "ToleratedFailureCountPath": check_path,
    "ToleratedFailurePercentage": number_field(0, 100),
    "ToleratedFailurePercentagePath": check_path,
    "Label": check_label,
    "ItemReader": check_item_reader,
    "ItemBatcher": check_item_batcher,
    "ResultWriter": check_result_writer,
}
"""The check of each state field's value."""


def check_state(machine: MachineContext, path: str, name: str, body: Json) -> None:
    """Check one state and every field in it."""
    report = machine.report
    if not expect_object(report, path, body):
        return
    state_type = body.get("Type")
    if "Type" not in body:
        report.error(path, "The field 'Type' is required but was missing")
        return
    if state_type not in STATE_TYPES:
        fail(report, child(path, "Type"), "one of " + ", ".join(STATE_TYPES), state_type)
        return
    jsonata = _state_language(machine, path, body)
    state = StateContext(machine, path, name, state_type, body, jsonata)
    for field, value in body.items():
        if _field_available(state, field):
            FIELD_CHECKS[field](state, state.at(field), value)
    _check_structure(state)
    if state_type == "Task":
        check_task_rules(state)


def _state_language(machine: MachineContext, path: str, body: dict[str, Json]) -> bool:
    """Whether the state is JSONata: its own QueryLanguage, or the machine's."""
    if "QueryLanguage" not in body:
        return machine.jsonata
    language = body["QueryLanguage"]
    field_path = child(path, "QueryLanguage")
    expect_choice(machine.report, field_path, language, QUERY_LANGUAGES)
    if language == "JSONPath" and machine.jsonata:
        machine.report.error(
            field_path,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        )
    # AWS reads any value but the exact string "JSONPath" as JSONata.
    return bool(language != "JSONPath")


def _field_available(state: StateContext, field: str) -> bool:
    """Whether ``field`` may appear in this state; reports it when it may not."""
    if field in COMMON_FIELDS:
        return field == "Comment"
    allowed = STATE_FIELDS[state.type]
    if field not in allowed:
        state.report.error(state.at(field), _unsupported_message(state, field))
        return False
    wrong_language = JSONPATH_ONLY if state.jsonata else JSONATA_ONLY
    if field in wrong_language:
        other = "JSONPath" if state.jsonata else "JSONata"
        state.report.error(
            state.at(field),
            f"The QueryLanguage is set to '{state.language}', but field '{field}' is only "
            f"supported for the '{other}' QueryLanguage",
        )
        return False
    return True


def _unsupported_message(state: StateContext, field: str) -> str:
    wrong_language = JSONPATH_ONLY if state.jsonata else JSONATA_ONLY
    fields = sorted((STATE_FIELDS[state.type] - wrong_language) | {"Type", "Comment"})
    # A misspelling gets a suggestion; a real field of another state type does not.
    known = field in set().union(*STATE_FIELDS.values())
    from difflib import get_close_matches  # only a definition with an unknown field needs it

    close = [] if known else get_close_matches(field, fields, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (
        f"Field '{field}' is not supported in a {state.type} state.{hint} "
        f"A {state.language} {state.type} state may have: {', '.join(fields)}"
    )


def _check_structure(state: StateContext) -> None:
    """Required fields, mutually exclusive fields, and Next / End."""
    body, report = state.body, state.report
    for field in REQUIRED.get(state.type, ()):
        if field not in body:
            report.error(
                state.path,
                f"The field '{field}' is required in a {state.type} state but was missing",
            )
    excluded = JSONPATH_ONLY if state.jsonata else JSONATA_ONLY
    for group in EXACTLY_ONE.get(state.type, ()):
        options = [field for field in group if field not in excluded]
        present = [field for field in options if field in body]
        if len(present) != 1:
            found = ", ".join(present) or "none"
            report.error(
                state.path,
                f"A {state.type} state needs exactly one of {', '.join(options)}; found: {found}",
            )
    for first, second in AT_MOST_ONE.get(state.type, ()):
        if first in body and second in body:
            report.error(state.path, f"Only one of '{first}' and '{second}' may be given")
    if state.type in TRANSITION_TYPES:
        _check_next_or_end(state)


def _check_next_or_end(state: StateContext) -> None:
    has_next, ends = "Next" in state.body, state.body.get("End") is True
    if has_next and ends:
        state.report.error(state.path, "A state cannot have both 'Next' and '\"End\": true'")
    elif not has_next and not ends:
        state.report.error(
            state.path,
            f"State {quote(state.name)} needs exactly one of 'Next' (the state to go to) "
            "and '\"End\": true' (it ends its machine)",
        )
