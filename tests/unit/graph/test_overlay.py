"""An execution's history over its graph: each state's status, visits, data and errors."""

from __future__ import annotations

import json

from engine._graph import StateStatus, build_graph, overlay
from tests.unit.graph.support import run, task

WAIT_A_MINUTE = {"Type": "Wait", "Seconds": 60, "End": True}


def statuses(definition, payload=None):
    described, events = run(definition, payload)
    graph = build_graph(definition)
    result = overlay(graph, events, described["status"])
    return {graph.nodes[n].name: s.status for n, s in result.states.items()}, result, graph


def test_a_retried_then_successful_task_is_retried_and_counts_its_attempts():
    # Given a Task that fails its first attempt and retries
    definition = {
        "StartAt": "T",
        "States": {"T": task("flaky", Retry=[{"ErrorEquals": ["States.ALL"]}], End=True)},
    }

    # When its history is laid over its graph
    found, result, _ = statuses(definition, {"x": 1})

    # Then the state is RETRIED, after two attempts, with the retried error kept
    assert found == {"T": StateStatus.RETRIED}
    (visit,) = result.states["/States/T"].visits
    assert (visit.attempts, visit.error) == (2, "Flaky")
    assert json.loads(visit.input) == {"x": 1}
    assert json.loads(visit.output) == {"x": 1}
    assert visit.entered is not None
    assert visit.exited is not None


def test_a_caught_failure_is_caught_and_the_handler_is_succeeded():
    # Given a Task that always fails, caught into a Pass
    definition = {
        "StartAt": "T",
        "States": {
            "T": task("broken", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}], End=True),
            "H": {"Type": "Pass", "End": True},
        },
    }

    # When laid over
    found, result, _ = statuses(definition)

    # Then T is CAUGHT with its error and cause, H SUCCEEDED
    assert found == {"T": StateStatus.CAUGHT, "H": StateStatus.SUCCEEDED}
    visit = result.states["/States/T"].last
    assert visit.error == "Broken"
    assert "always" in visit.cause


def test_an_uncaught_failure_in_a_parallel_branch_fails_it_and_aborts_its_sibling():
    # Given a Parallel whose first branch fails while the second waits
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "Bad", "States": {"Bad": task("broken", End=True)}},
                    {
                        "StartAt": "Slow",
                        "States": {"Slow": {"Type": "Wait", "Seconds": 60, "End": True}},
                    },
                ],
            }
        },
    }

    # When laid over
    found, result, _ = statuses(definition)

    # Then the failing state and the Parallel are FAILED (with the branch's error)
    assert found["Bad"] is StateStatus.FAILED
    assert found["P"] is StateStatus.FAILED
    assert result.states["/States/P"].last.error == "Broken"
    # And the sibling branch's state was cut short
    assert found["Slow"] is StateStatus.ABORTED


def test_map_iterations_are_numbered_and_give_per_item_status():
    # Given a Map whose second item fails, tolerated
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ToleratedFailureCount": 1,
                "ItemProcessor": {
                    "StartAt": "Pick",
                    "States": {
                        "Pick": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Bad"}],
                            "Default": "Good",
                        },
                        "Good": task("ok", End=True),
                        "Bad": task("broken", End=True),
                    },
                },
                "End": True,
            }
        },
    }

    # When laid over an execution on three items
    found, result, _ = statuses(definition, [0, 1, 2])

    # Then the Map has one status per item
    items = result.states["/States/M"].last.items
    assert items == {0: StateStatus.SUCCEEDED, 1: StateStatus.FAILED, 2: StateStatus.SUCCEEDED}
    # And the visits inside carry their iteration index
    good = result.states["/States/M/ItemProcessor/States/Good"]
    assert sorted(v.iteration for v in good.visits) == [0, 2]
    assert result.states["/States/M/ItemProcessor/States/Bad"].last.iteration == 1
    # And a state visited many times shows its most telling status
    assert found["Bad"] is StateStatus.FAILED
    assert found["Good"] is StateStatus.SUCCEEDED


def test_a_running_execution_shows_its_open_state_running_and_the_rest_not_started():
    # Given the first events of an execution that is in its Wait state
    definition = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "D"}, "D": {"Type": "Succeed"}},
    }
    _, events = run(definition)
    entered = [e for e in events if e["type"] in ("ExecutionStarted", "WaitStateEntered")]

    # When laid over while the execution runs
    result = overlay(build_graph(definition), entered, "RUNNING")

    # Then W runs and D has not started
    assert result.status("/States/W") is StateStatus.RUNNING
    assert result.status("/States/D") is StateStatus.NOT_STARTED

    # And the same events of a stopped execution leave W aborted
    assert overlay(build_graph(definition), entered, "ABORTED").status("/States/W") is (
        StateStatus.ABORTED
    )
