"""History: AWS's event types, detail shapes and id / previousEventId numbering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._interpreter.history import HistoryEvent, detail_key
from engine._interpreter.snapshot import ExecutionStatus
from engine._interpreter.turn import Limits
from engine._store.checkpoint import (
    event_from_json,
    event_to_json,
    execution_from_json,
    execution_to_json,
    thread_from_json,
    thread_to_json,
)
from tests.unit.interpreter.support import jsonata, lambda_arn, of_type, one, registry, run

Json = Any

NESTED = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Assign": {"seen": 1}, "Next": "Par"},
        "Par": {
            "Type": "Parallel",
            "Next": "M",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 3, "End": True}}},
                {
                    "StartAt": "B",
                    "States": {"B": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
                },
            ],
        },
        "M": {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
        },
    },
}


def _nested() -> list[HistoryEvent]:
    return run(NESTED, {"x": 1}, handlers=registry(f=lambda event, context: [1, 2])).history


def test_event_ids_count_up_from_one_without_gaps() -> None:
    # Given a run through Pass, Parallel (Wait + Task) and Map
    history = _nested()
    # When the ids are read
    # Then they are 1..n in order
    assert [e.id for e in history] == list(range(1, len(history) + 1))


def test_every_previous_event_id_points_back_to_an_earlier_event() -> None:
    # Given the same run
    history = _nested()
    # When each previousEventId is checked
    # Then it names an earlier event (0 only for the first two events)
    for event in history:
        assert 0 <= event.previous_event_id < event.id
    assert [e.id for e in history if e.previous_event_id == 0] == [1, 2]


def test_sequential_states_chain_each_event_to_the_previous_one() -> None:
    # Given two Pass states in a row
    machine = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
    }
    # When they run
    history = run(machine, {}).history
    # Then after ExecutionStarted every event follows the one before it
    assert [(e.id, e.previous_event_id) for e in history] == [
        (1, 0),
        (2, 0),
        (3, 2),
        (4, 3),
        (5, 4),
        (6, 5),
    ]


def test_a_branch_chains_to_its_parents_started_event() -> None:
    # Given the nested run
    history = _nested()
    # When the first event of each branch is located
    started = one(history, "ParallelStateStarted")
    firsts = [e for e in history if e.type in ("WaitStateEntered", "TaskStateEntered")]
    # Then both point at ParallelStateStarted
    assert {e.previous_event_id for e in firsts} == {started.id}


def test_map_iteration_events_chain_to_their_iteration_start() -> None:
    # Given the nested run (the Map iterates over the Parallel's two results)
    history = _nested()
    iterations = of_type(history, "MapIterationStarted")
    entered = [e for e in history if e.type == "PassStateEntered" and e.details["name"] == "I"]
    # When each iteration's first state is matched with its MapIterationStarted
    # Then it chains to it
    assert [e.previous_event_id for e in entered] == [e.id for e in iterations]


def test_exited_events_carry_assigned_variables_as_json_text() -> None:
    # Given a Pass assigning a variable
    history = _nested()
    # When its exit is read
    exited = next(
        e for e in history if e.type == "PassStateExited" and e.details["name"] == "First"
    )
    # Then the assignment is JSON text with its truncation flag
    assert exited.details["assignedVariables"] == {"seen": "1"}
    assert exited.details["assignedVariablesDetails"] == {"truncated": False}
    assert exited.details["outputDetails"] == {"truncated": False}


def test_to_aws_nests_details_under_the_type_specific_key() -> None:
    # Given the nested run
    history = _nested()
    # When it is rendered as boto3 shapes
    shapes = [e.to_aws() for e in history]
    # Then every event has the common keys and its details under AWS's key
    for shape in shapes:
        assert {"timestamp", "type", "id", "previousEventId"} <= set(shape)
    started = shapes[0]
    assert json.loads(started["executionStartedEventDetails"]["input"]) == {"x": 1}
    par_started = next(s for s in shapes if s["type"] == "ParallelStateStarted")
    assert set(par_started) == {"timestamp", "type", "id", "previousEventId"}


@pytest.mark.parametrize(
    ("event_type", "key"),
    [
        ("PassStateEntered", "stateEnteredEventDetails"),
        ("MapStateExited", "stateExitedEventDetails"),
        ("TaskScheduled", "taskScheduledEventDetails"),
        ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails"),
        ("MapIterationStarted", "mapIterationStartedEventDetails"),
        ("MapRunStarted", "mapRunStartedEventDetails"),
        ("ExecutionTimedOut", "executionTimedOutEventDetails"),
        ("EvaluationFailed", "evaluationFailedEventDetails"),
        ("ParallelStateStarted", None),
        ("MapStateSucceeded", None),
    ],
)
def test_detail_keys_follow_aws(event_type: str, key: str | None) -> None:
    # Given an event type
    # When its detail key is looked up
    # Then it is the one boto3 uses (None when the type has no details)
    assert detail_key(event_type) == key


def test_an_evaluation_failure_names_the_state_and_location() -> None:
    # Given a JSONata Pass whose Output fails
    machine = jsonata(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": "{% $undefinedFn() %}", "End": True}},
        }
    )
    # When it runs
    history = run(machine, {}).history
    # Then EvaluationFailed carries the error, state and the prefixed cause
    details = one(history, "EvaluationFailed").details
    assert details["error"] == "States.QueryEvaluationError"
    assert details["state"] == "P"
    assert details["cause"].startswith(
        "An error occurred while executing the state 'P' (entered at the event id #2)."
    )


def test_timestamps_are_utc_with_milliseconds() -> None:
    # Given a run on the fake clock
    history = _nested()
    # When the timestamps are read
    # Then they are AWS's format and never go backwards
    stamps = [e.timestamp for e in history]
    assert stamps[0] == "2024-01-01T00:00:00.000Z"
    assert stamps == sorted(stamps)
    assert stamps[-1] == "2024-01-01T00:00:03.000Z"


def test_checkpoint_parts_survive_a_json_round_trip() -> None:
    # Given the threads, header and history of a finished nested run
    result = run(NESTED, {"x": 1}, handlers=registry(f=lambda event, context: [1, 2]))
    # When each is serialised to JSON text and read back
    # Then nothing is lost
    for thread in result.threads.values():
        text = json.dumps(thread_to_json(thread))
        assert thread_from_json(json.loads(text)) == thread
    text = json.dumps(execution_to_json(result.execution))
    assert execution_from_json(json.loads(text)) == result.execution
    for event in result.history:
        assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


def test_an_execution_over_the_history_limit_fails() -> None:
    # Given a limit of 50 events and a loop writing about 400
    machine = jsonata(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Assign": {"i": 0}, "Next": "Loop"},
                "Loop": {"Type": "Pass", "Assign": {"i": "{% $i + 1 %}"}, "Next": "Check"},
                "Check": {
                    "Type": "Choice",
                    "Choices": [{"Condition": "{% $i < 100 %}", "Next": "Loop"}],
                    "Default": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )
    # When it runs
    result = run(machine, {}, limits=Limits(history_events=50))
    # Then it fails once the limit is reached, without writing past it
    assert result.execution.status is ExecutionStatus.FAILED
    assert len(result.history) <= 51


TERMINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


@pytest.mark.parametrize(
    ("machine", "limit"),
    [
        ({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, 3),
        ({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}, 2),
    ],
    ids=["succeeds", "fails"],
)
def test_a_finished_history_ends_with_one_terminal_event_whatever_the_limit(
    machine: dict[str, Json], limit: int
) -> None:
    # Given a history limit one event short of the execution's terminal event
    # When the machine runs
    result = run(machine, {}, limits=Limits(history_events=limit))
    # Then the history still ends with exactly one terminal Execution* event
    assert result.finished
    assert [e.type for e in result.history if e.type in TERMINAL] == [result.history[-1].type]
