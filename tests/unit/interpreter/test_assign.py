"""Variables (Assign): evaluation order within a state, and scoping across branches."""

from __future__ import annotations

from typing import Any

from engine._interpreter.snapshot import ExecutionStatus
from tests.unit.interpreter.support import jsonata, lambda_arn, one, registry, run

Json = Any


def test_jsonata_assign_and_output_see_the_variables_from_before_the_state() -> None:
    # Given x = 1, then a state assigning x = 2 and y = $x and outputting $x
    machine = jsonata(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Swap"},
                "Swap": {
                    "Type": "Pass",
                    "Assign": {"x": 2, "y": "{% $x %}"},
                    "Output": "{% $x %}",
                    "Next": "Show",
                },
                "Show": {
                    "Type": "Pass",
                    "Output": {"out": "{% $states.input %}", "x": "{% $x %}", "y": "{% $y %}"},
                    "End": True,
                },
            },
        }
    )
    # When it runs
    result = run(machine, {})
    # Then Assign and Output read the old x; the next state reads the new values
    assert result.execution.output == {"out": 1, "x": 2, "y": 1}


def test_jsonpath_assign_reads_old_variables_and_the_state_result() -> None:
    # Given x = 1, then a Pass with a Result assigning x from the result and y from the old x
    machine = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"x": 1}, "Next": "Swap"},
            "Swap": {
                "Type": "Pass",
                "Result": {"v": 5},
                "ResultPath": "$.r",
                "Assign": {"x.$": "$.v", "y.$": "$x"},
                "Next": "Show",
            },
            "Show": {"Type": "Pass", "Parameters": {"x.$": "$x", "y.$": "$y"}, "End": True},
        },
    }
    # When it runs
    result = run(machine, {})
    # Then Assign saw the Result (before ResultPath) and the old x
    assert result.execution.output == {"x": 5, "y": 1}


def test_jsonpath_task_assign_sees_the_result_selector_output() -> None:
    # Given a Task with ResultSelector and an Assign reading the selection
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "ResultSelector": {"picked.$": "$.deep.value"},
                "Assign": {"v.$": "$.picked"},
                "ResultPath": None,
                "Next": "Show",
            },
            "Show": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": True},
        },
    }
    # When it runs
    result = run(machine, {}, handlers=registry(f=lambda event, context: {"deep": {"value": 9}}))
    # Then the variable holds the selected value
    assert result.execution.output == {"v": 9}


def test_parallel_branches_read_outer_variables_but_their_assignments_do_not_leak() -> None:
    # Given outer = "out", and a branch that reads it and reassigns it and a new name
    machine = jsonata(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Assign": {"outer": "out"}, "Next": "Par"},
                "Par": {
                    "Type": "Parallel",
                    "Next": "After",
                    "Branches": [
                        {
                            "StartAt": "Set",
                            "States": {
                                "Set": {
                                    "Type": "Pass",
                                    "Assign": {"outer": "in", "inner": 1},
                                    "Next": "Read",
                                },
                                "Read": {
                                    "Type": "Pass",
                                    "Output": {"outer": "{% $outer %}", "inner": "{% $inner %}"},
                                    "End": True,
                                },
                            },
                        },
                        {
                            "StartAt": "Other",
                            "States": {
                                "Other": {"Type": "Pass", "Output": "{% $outer %}", "End": True}
                            },
                        },
                    ],
                },
                "After": {
                    "Type": "Pass",
                    "Output": {"branches": "{% $states.input %}", "outer": "{% $outer %}"},
                    "End": True,
                },
            },
        }
    )
    # When it runs
    result = run(machine, {})
    # Then the branch saw its own assignment, its sibling and the outside the original value
    assert result.execution.output == {
        "branches": [{"outer": "in", "inner": 1}, "out"],
        "outer": "out",
    }


def test_a_branch_only_variable_is_not_visible_after_the_parallel() -> None:
    # Given a branch assigning "inner", read after the Parallel
    machine = jsonata(
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "Next": "After",
                    "Branches": [
                        {
                            "StartAt": "Set",
                            "States": {
                                "Set": {"Type": "Pass", "Assign": {"inner": 1}, "End": True}
                            },
                        }
                    ],
                },
                "After": {"Type": "Pass", "Output": {"v": "{% $inner %}"}, "End": True},
            },
        }
    )
    # When it runs
    result = run(machine, {})
    # Then the name is undefined there, which AWS reports as an evaluation error
    assert result.execution.error == "States.QueryEvaluationError"
    assert "'$inner' specified for the field 'Output/v' returned nothing" in str(
        result.execution.cause
    )


def test_map_iterations_keep_their_assignments_to_themselves() -> None:
    # Given a Map whose iterations assign the item then read a running total
    machine = jsonata(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Assign": {"total": 100}, "Next": "M"},
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "Next": "After",
                    "ItemProcessor": {
                        "StartAt": "Add",
                        "States": {
                            "Add": {
                                "Type": "Pass",
                                "Assign": {"total": "{% $total + $states.input %}"},
                                "Next": "Read",
                            },
                            "Read": {"Type": "Pass", "Output": "{% $total %}", "End": True},
                        },
                    },
                },
                "After": {
                    "Type": "Pass",
                    "Output": {"each": "{% $states.input %}", "total": "{% $total %}"},
                    "End": True,
                },
            },
        }
    )
    # When it runs one iteration at a time
    result = run(machine, [1, 2, 3])
    # Then each iteration started from the outer total, and the outer total is unchanged
    assert result.execution.output == {"each": [101, 102, 103], "total": 100}


def test_the_parallel_state_assign_sees_the_branch_results() -> None:
    # Given a Parallel whose own Assign reads $states.result
    machine = jsonata(
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "Assign": {"count": "{% $count($states.result) %}"},
                    "Next": "After",
                    "Branches": [
                        {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                    ],
                },
                "After": {"Type": "Pass", "Output": "{% $count %}", "End": True},
            },
        }
    )
    # When it runs
    result = run(machine, {})
    # Then the variable is set in the outer scope
    assert result.execution.output == 2
    assert one(result.history, "ParallelStateExited").details["assignedVariables"] == {"count": "2"}


def test_reading_an_unassigned_variable_in_jsonpath_fails() -> None:
    # Given a Pass reading $nope
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$nope"}, "End": True}},
    }
    # When it runs
    result = run(machine, {})
    # Then the execution fails (no traceback escapes)
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error is not None
