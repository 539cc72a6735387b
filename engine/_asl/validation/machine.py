"""A whole definition: its top-level fields, and each scope's states and transitions.

A scope is the top-level machine, a Parallel branch or a Map processor. In each scope
``StartAt`` and every ``Next`` / ``Default`` / ``Catch[].Next`` must name a state of that
same scope, at least one state must end it (``"End": true``, Succeed or Fail), and every
state must be reachable from ``StartAt``. State names are unique in the whole definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from engine._asl.validation.context import MachineContext
from engine._asl.validation.fields import MACHINE_FIELDS, QUERY_LANGUAGES, TERMINAL_TYPES
from engine._asl.validation.report import Code, Json, Report, child, describe, quote
from engine._asl.validation.states import check_state
from engine._asl.validation.values import expect_choice, expect_integer, expect_string

MAX_STATE_NAME = 80
# AWS refuses the C0 and C1 control characters in every name it takes (state machine,
# execution, activity names); a state name is a name too, and a NUL in one cannot even be
# stored in PostgreSQL's text columns.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_definition(raw: Json, report: Report, machine_type: str) -> None:
    """Check a whole definition, reporting every problem into ``report``."""
    if not isinstance(raw, dict):
        report.error("", f"The definition must be a JSON object, got {describe(raw)}")
        return
    _check_top_fields(report, raw)
    jsonata = "QueryLanguage" in raw and raw["QueryLanguage"] != "JSONPath"
    state_paths = _state_paths(raw, "")
    context = _machine_context(report, machine_type, jsonata, state_paths)
    _report_duplicates(report, state_paths)
    _check_scope(context, "", raw)


def _machine_context(
    report: Report, machine_type: str, jsonata: bool, state_paths: Mapping[str, list[str]]
) -> MachineContext:
    def check_nested(path: str, scope: Json) -> None:
        if isinstance(scope, dict):
            _check_scope(context, path, scope)

    context = MachineContext(report, machine_type, jsonata, check_nested, state_paths)
    return context


def _check_top_fields(report: Report, raw: dict[str, Json]) -> None:
    for field in raw:
        if field not in MACHINE_FIELDS:
            allowed = ", ".join(sorted(MACHINE_FIELDS))
            report.error(
                child("", field),
                f"Field '{field}' is not supported at the top level (allowed: {allowed})",
            )
    checks: dict[str, Callable[[str, Json], bool]] = {
        "Comment": lambda path, value: expect_string(report, path, value),
        "Version": lambda path, value: expect_string(report, path, value, non_empty=True),
        "TimeoutSeconds": lambda path, value: expect_integer(report, path, value, minimum=1),
        "QueryLanguage": lambda path, value: expect_choice(report, path, value, QUERY_LANGUAGES),
    }
    for field, check in checks.items():
        if field in raw:
            check(child("", field), raw[field])


def _check_scope(context: MachineContext, path: str, scope: dict[str, Json]) -> None:
    """StartAt and States of one scope, then each state, then the transitions."""
    report = context.report
    missing = [field for field in ("StartAt", "States") if field not in scope]
    if missing:
        report.error(path, f"These fields are required: [{', '.join(missing)}]")
    if "StartAt" in scope:
        expect_string(report, child(path, "StartAt"), scope["StartAt"], non_empty=True)
    states = scope.get("States")
    states_path = child(path, "States")
    if "States" in scope and (not isinstance(states, dict) or not states):
        report.error(
            states_path,
            f"'States' must be an object with at least one state, got {describe(states)}",
        )
    if not isinstance(states, dict) or not states:
        return
    for name, body in states.items():
        state_path = child(states_path, name)
        _check_state_name(report, state_path, name)
        check_state(context, state_path, name, body)
    _check_transitions(context, path, scope.get("StartAt"), states)


def _check_state_name(report: Report, path: str, name: str) -> None:
    if not name:
        report.error(path, "A state name cannot be empty")
    elif len(name) > MAX_STATE_NAME:
        report.error(
            path,
            f"State name {quote(name[:40] + '...')} is {len(name)} characters long; "
            f"the maximum is {MAX_STATE_NAME}",
        )
    elif control := _CONTROL_CHARACTER.search(name):
        report.error(
            path,
            f"State name {_escaped(quote(name))} contains the control character "
            f"U+{ord(control.group()):04X}; state names cannot contain control characters "
            "(U+0000-U+001F, U+007F-U+009F)",
        )


def _escaped(text: str) -> str:
    """``text`` with every control character as a JSON escape (a raw one garbles messages)."""
    return _CONTROL_CHARACTER.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _check_transitions(
    context: MachineContext, path: str, start: Json, states: dict[str, Json]
) -> None:
    report = context.report
    edges = {
        name: list(_targets(child(child(path, "States"), name), body))
        for name, body in states.items()
    }
    for targets in edges.values():
        for target, where, field in targets:
            if target not in states:
                report.error(where, _missing_target(context, field, target), Code.MISSING_TARGET)
    start_known = isinstance(start, str) and start in states
    if isinstance(start, str) and start and not start_known:
        report.error(
            child(path, "StartAt"), _missing_target(context, "StartAt", start), Code.MISSING_TARGET
        )
    if not any(_is_terminal(body) for body in states.values()):
        report.error(
            path,
            "Workflow has no terminal state: no state has '\"End\": true' and none is a "
            "Succeed or Fail state, so it could never finish",
            Code.MISSING_END,
        )
    elif start_known:
        _check_reachable(report, path, start, edges)


def _check_reachable(
    report: Report, path: str, start: str, edges: dict[str, list[tuple[str, str, str]]]
) -> None:
    reached, frontier = {start}, [start]
    while frontier:
        for target, _, _ in edges.get(frontier.pop(), []):
            if target in edges and target not in reached:
                reached.add(target)
                frontier.append(target)
    for name in edges:
        if name not in reached:
            report.error(
                child(child(path, "States"), name),
                f"State {quote(name)} is not reachable: no transition from StartAt leads to it "
                "(through Next, Default, Choices or Catch)",
                Code.MISSING_TARGET,
            )


def _missing_target(context: MachineContext, field: str, target: str) -> str:
    message = f"Missing '{field}' target: {quote(target)} is not a state of this scope"
    elsewhere = context.state_paths.get(target)
    if elsewhere:
        message += (
            f" (a state of that name is at {elsewhere[0]}, in another scope: transitions "
            "cannot enter or leave a Parallel branch or a Map processor)"
        )
    return message


def _targets(path: str, body: Json) -> Iterator[tuple[str, str, str]]:
    """Every transition of one state: (target name, pointer to it, field name)."""
    if not isinstance(body, dict):
        return
    for field in ("Next", "Default"):
        if isinstance(body.get(field), str):
            yield body[field], child(path, field), field
    for field in ("Choices", "Catch"):
        entries = body.get(field)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get("Next"), str):
                yield entry["Next"], child(child(child(path, field), index), "Next"), "Next"


def _is_terminal(body: Json) -> bool:
    if not isinstance(body, dict):
        return False
    return body.get("End") is True or str(body.get("Type")) in TERMINAL_TYPES


def _state_paths(scope: Json, path: str) -> dict[str, list[str]]:
    """Every state name of ``scope`` and the scopes nested in it, with its pointer(s)."""
    found: dict[str, list[str]] = {}
    states = scope.get("States") if isinstance(scope, dict) else None
    if not isinstance(states, dict):
        return found
    for name, body in states.items():
        state_path = child(child(path, "States"), name)
        found.setdefault(name, []).append(state_path)
        for nested_path, nested in _nested_scopes(state_path, body):
            for nested_name, paths in _state_paths(nested, nested_path).items():
                found.setdefault(nested_name, []).extend(paths)
    return found


def _nested_scopes(path: str, body: Json) -> Iterator[tuple[str, Json]]:
    if not isinstance(body, dict):
        return
    branches = body.get("Branches")
    if isinstance(branches, list):
        for index, branch in enumerate(branches):
            yield child(child(path, "Branches"), index), branch
    for field in ("ItemProcessor", "Iterator"):
        if field in body:
            yield child(path, field), body[field]


def _report_duplicates(report: Report, state_paths: Mapping[str, list[str]]) -> None:
    for name, paths in state_paths.items():
        for path in paths[1:]:
            report.error(
                path,
                f"Duplicate State name: {quote(name)} is also defined at {paths[0]}; state "
                "names must be unique in the whole state machine, Parallel branches and "
                "Map processors included",
                Code.DUPLICATE_STATE,
            )
