"""``Retry`` and ``Catch``: lists of retriers and catchers, each matching error names.

Shared rules: ``ErrorEquals`` is a non-empty list of error names; ``States.ALL`` must be
the only name in its list, and the retrier or catcher holding it must be the last one
(it would shadow every later entry).
"""

from __future__ import annotations

from collections.abc import Callable

from engine._asl.validation.common import check_result_path, check_state_assign
from engine._asl.validation.context import StateContext
from engine._asl.validation.fields import (
    CATCHER_FIELDS,
    JSONATA_ONLY,
    JSONPATH_ONLY,
    RETRIER_FIELDS,
)
from engine._asl.validation.report import Json, child
from engine._asl.validation.templates import check_jsonata_value
from engine._asl.validation.values import (
    expect_array,
    expect_choice,
    expect_integer,
    expect_number,
    expect_object,
    expect_string,
)
from engine._errors import ErrorName

MAX_DELAY_SECONDS = 31_622_400
"""AWS's cap on a retrier's MaxDelaySeconds: one (leap) year."""


def check_retry(state: StateContext, path: str, value: Json) -> None:
    """``Retry``: a list of retriers."""
    if not expect_array(state.report, path, value):
        return
    for index, retrier in enumerate(value):
        _check_retrier(state, child(path, index), retrier, last=index == len(value) - 1)


def _check_retrier(state: StateContext, path: str, retrier: Json, *, last: bool) -> None:
    report = state.report
    if not expect_object(report, path, retrier):
        return
    _unknown_fields(state, path, retrier, RETRIER_FIELDS, "a retrier")
    _check_error_equals(state, path, retrier, last=last, owner="retrier")
    checks: dict[str, Callable[[str, Json], bool]] = {
        "IntervalSeconds": lambda p, v: expect_integer(report, p, v, minimum=1),
        "MaxAttempts": lambda p, v: expect_integer(report, p, v, minimum=0),
        "BackoffRate": lambda p, v: expect_number(report, p, v, minimum=1.0),
        "MaxDelaySeconds": lambda p, v: expect_integer(
            report, p, v, minimum=1, maximum=MAX_DELAY_SECONDS
        ),
        "JitterStrategy": lambda p, v: expect_choice(report, p, v, ("FULL", "NONE")),
        "Comment": lambda p, v: expect_string(report, p, v),
    }
    for field, check in checks.items():
        if field in retrier:
            check(child(path, field), retrier[field])


def check_catch(state: StateContext, path: str, value: Json) -> None:
    """``Catch``: a list of catchers, each naming the state to go to."""
    if not expect_array(state.report, path, value):
        return
    for index, catcher in enumerate(value):
        _check_catcher(state, child(path, index), catcher, last=index == len(value) - 1)


def _check_catcher(state: StateContext, path: str, catcher: Json, *, last: bool) -> None:
    report = state.report
    if not expect_object(report, path, catcher):
        return
    _unknown_fields(state, path, catcher, CATCHER_FIELDS[state.jsonata], "a catcher")
    _check_error_equals(state, path, catcher, last=last, owner="catcher")
    if "Next" not in catcher:
        report.error(path, "The field 'Next' is required in a catcher but was missing")
    else:
        expect_string(report, child(path, "Next"), catcher["Next"], non_empty=True)
    if "Comment" in catcher:
        expect_string(report, child(path, "Comment"), catcher["Comment"])
    if "ResultPath" in catcher and not state.jsonata:
        check_result_path(state, child(path, "ResultPath"), catcher["ResultPath"])
    if "Output" in catcher and state.jsonata:
        check_jsonata_value(report, child(path, "Output"), catcher["Output"])
    if "Assign" in catcher:
        check_state_assign(state, child(path, "Assign"), catcher["Assign"])


def _unknown_fields(
    state: StateContext, path: str, entry: dict[str, Json], allowed: frozenset[str], what: str
) -> None:
    for field in entry:
        if field in allowed:
            continue
        if field in JSONPATH_ONLY | JSONATA_ONLY:
            message = (
                f"The QueryLanguage is set to '{state.language}', but field '{field}' is "
                f"not supported in {what} of a {state.language} state"
            )
        else:
            fields = ", ".join(sorted(allowed))
            message = f"Field '{field}' is not supported in {what} (allowed: {fields})"
        state.report.error(child(path, field), message)


def _check_error_equals(
    state: StateContext, path: str, entry: dict[str, Json], *, last: bool, owner: str
) -> None:
    report = state.report
    if "ErrorEquals" not in entry:
        report.error(path, f"The field 'ErrorEquals' is required in a {owner} but was missing")
        return
    names_path = child(path, "ErrorEquals")
    names = entry["ErrorEquals"]
    if not expect_array(report, names_path, names, non_empty=True):
        return
    for index, name in enumerate(names):
        expect_string(report, child(names_path, index), name, non_empty=True)
    if ErrorName.ALL in names and len(names) > 1:
        report.error(
            names_path,
            f"'{ErrorName.ALL}' must appear alone in ErrorEquals, got {len(names)} error names",
        )
    if ErrorName.ALL in names and not last:
        report.error(
            names_path,
            f"A {owner} matching '{ErrorName.ALL}' must be the last one: it would shadow "
            f"every {owner} after it",
        )
