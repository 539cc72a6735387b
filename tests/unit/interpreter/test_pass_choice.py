"""Pass, Choice, Succeed and Fail: data flow in JSONPath and JSONata, through the executor."""

from __future__ import annotations

import json

import pytest

from engine._interpreter.snapshot import ExecutionStatus
from tests.unit.interpreter.support import jsonata, one, pass_machine, run, types

# --- Pass (JSONPath) ------------------------------------------------------------------------


def test_a_pass_state_without_fields_passes_its_input_on() -> None:
    # Given a bare Pass state
    # When it runs on an input
    result = run(pass_machine(), {"a": 1})
    # Then the output is the input
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output == {"a": 1}


def test_pass_result_is_written_at_result_path_then_output_path_selects() -> None:
    # Given a Pass with Result, ResultPath and OutputPath
    machine = pass_machine(Result={"r": 1}, ResultPath="$.res", OutputPath="$.res.r")
    # When it runs
    result = run(machine, {"keep": True})
    # Then OutputPath selects from the input merged with the result
    assert result.execution.output == 1


def test_pass_input_path_and_parameters_build_the_result_from_input_and_context() -> None:
    # Given InputPath and Parameters reading $, $$ and an intrinsic
    machine = pass_machine(
        InputPath="$.inner",
        Parameters={
            "v.$": "$.v",
            "state.$": "$$.State.Name",
            "sum.$": "States.MathAdd($.v, 1)",
            "literal": "x",
        },
    )
    # When it runs
    result = run(machine, {"inner": {"v": 41}, "outer": 0})
    # Then the result replaces the whole input (ResultPath defaults to $)
    assert result.execution.output == {"v": 41, "state": "P", "sum": 42, "literal": "x"}


def test_pass_result_path_null_discards_the_result() -> None:
    # Given ResultPath null
    machine = pass_machine(Result="ignored", ResultPath=None)
    # When it runs
    result = run(machine, {"a": 1})
    # Then the output is the input unchanged
    assert result.execution.output == {"a": 1}


def test_pass_output_path_null_gives_an_empty_object() -> None:
    # Given OutputPath null
    # When it runs
    result = run(pass_machine(OutputPath=None), {"a": 1})
    # Then the output is {}
    assert result.execution.output == {}


def test_an_input_path_that_selects_nothing_fails_with_states_runtime() -> None:
    # Given an InputPath naming a missing field
    # When it runs
    result = run(pass_machine(InputPath="$.missing"), {"a": 1})
    # Then the execution fails with States.Runtime and AWS's prefixed cause
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error == "States.Runtime"
    assert str(result.execution.cause).startswith(
        "An error occurred while executing the state 'P' (entered at the event id #2). "
    )


def test_pass_entered_and_exited_events_carry_input_and_output_as_json_text() -> None:
    # Given a Pass injecting a Result
    # When it runs
    result = run(pass_machine(Result={"b": 2}), {"a": 1})
    # Then history shows the input and output as compact JSON text
    entered = one(result.history, "PassStateEntered")
    exited = one(result.history, "PassStateExited")
    assert entered.details["input"] == '{"a":1}'
    assert exited.details["output"] == '{"b":2}'
    assert exited.details["name"] == "P"


# --- Pass (JSONata) -------------------------------------------------------------------------


def test_jsonata_pass_output_evaluates_against_states_input() -> None:
    # Given a JSONata Pass with an Output expression
    machine = jsonata(pass_machine(Output={"double": "{% $states.input.n * 2 %}", "k": "lit"}))
    # When it runs
    result = run(machine, {"n": 21})
    # Then the output is the evaluated template
    assert result.execution.output == {"double": 42, "k": "lit"}


def test_jsonata_pass_without_output_passes_its_input_on() -> None:
    # Given a JSONata Pass with no Output
    # When it runs
    result = run(jsonata(pass_machine()), [1, 2])
    # Then the input flows through
    assert result.execution.output == [1, 2]


def test_jsonata_pass_output_error_fails_with_query_evaluation_error() -> None:
    # Given an Output that divides a string
    machine = jsonata(pass_machine(Output="{% $states.input.s / 2 %}"))
    # When it runs
    result = run(machine, {"s": "text"})
    # Then the execution fails with States.QueryEvaluationError and an EvaluationFailed event
    assert result.execution.error == "States.QueryEvaluationError"
    assert "EvaluationFailed" in types(result.history)


# --- Choice ----------------------------------------------------------------------------------


def _choice(**choice_fields: object) -> dict[str, object]:
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", **choice_fields},
            "Big": {"Type": "Pass", "Result": "big", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "End": True},
        },
    }


@pytest.mark.parametrize(("value", "expected"), [(10, "big"), (1, "small")])
def test_choice_follows_the_first_matching_rule_else_default(value: int, expected: str) -> None:
    # Given a Choice with one numeric rule and a Default
    machine = _choice(
        Choices=[{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}], Default="Small"
    )
    # When it runs on either side of the threshold
    result = run(machine, {"n": value})
    # Then the matching branch (or the Default) was taken
    assert result.execution.output == expected


def test_choice_rules_are_tried_in_order() -> None:
    # Given two rules that both match
    machine = _choice(
        Choices=[
            {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Small"},
            {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"},
        ]
    )
    # When it runs
    result = run(machine, {"n": 10})
    # Then the first one wins
    assert result.execution.output == "small"


def test_choice_without_match_or_default_fails_with_no_choice_matched() -> None:
    # Given a Choice with no Default
    machine = _choice(
        Choices=[
            {"Variable": "$.n", "NumericEquals": 1, "Next": "Big"},
            {"Variable": "$.n", "NumericEquals": 0, "Next": "Small"},
        ]
    )
    # When no rule matches
    result = run(machine, {"n": 2})
    # Then the execution fails with States.NoChoiceMatched
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error == "States.NoChoiceMatched"


def test_choice_applies_input_path_then_output_path_to_what_it_passes_on() -> None:
    # Given a Choice with InputPath and OutputPath going to a bare Pass
    machine = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "InputPath": "$.in",
                "OutputPath": "$.keep",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}],
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    # When it runs
    result = run(machine, {"in": {"n": 1, "keep": {"k": 1}}})
    # Then rules saw the InputPath selection and the next state got the OutputPath selection
    assert result.execution.output == {"k": 1}


def test_choice_compound_rules_and_variables() -> None:
    # Given And/Not rules, one comparing against a variable path
    machine = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"limit": 5}, "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.n", "NumericGreaterThanPath": "$limit"},
                            {"Not": {"Variable": "$.s", "StringEquals": "no"}},
                        ],
                        "Next": "Big",
                    }
                ],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "End": True},
        },
    }
    # When one input satisfies both parts and another does not
    # Then only the first takes the rule's branch
    assert run(machine, {"n": 6, "s": "yes"}).execution.output == "big"
    assert run(machine, {"n": 6, "s": "no"}).execution.output == "small"


def test_jsonata_choice_condition_branch_output_and_assign() -> None:
    # Given a JSONata Choice whose matched rule has its own Output and Assign
    machine = jsonata(
        {
            "StartAt": "C",
            "States": {
                "C": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Condition": "{% $states.input.n > 5 %}",
                            "Output": {"from": "rule", "n": "{% $states.input.n %}"},
                            "Assign": {"picked": "rule"},
                            "Next": "Done",
                        }
                    ],
                    "Default": "Done",
                    "Output": {"from": "default"},
                    "Assign": {"picked": "default"},
                },
                "Done": {
                    "Type": "Pass",
                    "Output": {"in": "{% $states.input %}", "v": "{% $picked %}"},
                    "End": True,
                },
            },
        }
    )
    # When one run matches the rule and one falls to the Default
    matched = run(machine, {"n": 9}).execution.output
    defaulted = run(machine, {"n": 1}).execution.output
    # Then each took its own Output and Assign
    assert matched == {"in": {"from": "rule", "n": 9}, "v": "rule"}
    assert defaulted == {"in": {"from": "default"}, "v": "default"}


def test_jsonata_condition_that_is_not_boolean_fails() -> None:
    # Given a Condition evaluating to a number
    machine = jsonata(
        {
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [{"Condition": "{% 1 %}", "Next": "D"}]},
                "D": {"Type": "Succeed"},
            },
        }
    )
    # When it runs
    result = run(machine, {})
    # Then the execution fails with States.QueryEvaluationError
    assert result.execution.error == "States.QueryEvaluationError"


# --- Succeed and Fail ------------------------------------------------------------------------


def test_succeed_applies_input_path_and_output_path() -> None:
    # Given a Succeed with InputPath and OutputPath
    machine = {
        "StartAt": "S",
        "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}},
    }
    # When it runs
    result = run(machine, {"a": {"b": 7}})
    # Then the execution output is the filtered input
    assert result.execution.output == 7
    assert types(result.history)[-2:] == ["SucceedStateExited", "ExecutionSucceeded"]


def test_jsonata_succeed_output() -> None:
    # Given a JSONata Succeed with Output
    machine = jsonata({"StartAt": "S", "States": {"S": {"Type": "Succeed", "Output": "{% 1+1 %}"}}})
    # When it runs
    # Then its Output is the execution output
    assert run(machine, {}).execution.output == 2


def test_fail_reports_literal_error_and_cause_without_exiting() -> None:
    # Given a Fail with Error and Cause
    machine = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}}
    # When it runs
    result = run(machine, {})
    # Then the execution fails with them, and no FailStateExited is recorded
    assert (result.execution.error, result.execution.cause) == ("Bad", "why")
    assert types(result.history) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert one(result.history, "ExecutionFailed").details == {"error": "Bad", "cause": "why"}


def test_fail_error_path_and_cause_path_read_the_input() -> None:
    # Given ErrorPath and CausePath
    machine = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}},
    }
    # When it runs
    result = run(machine, {"e": "E1", "c": "C1"})
    # Then error and cause come from the input
    assert (result.execution.error, result.execution.cause) == ("E1", "C1")


def test_jsonata_fail_error_and_cause_are_expressions() -> None:
    # Given a JSONata Fail computing Error and Cause
    machine = jsonata(
        {
            "StartAt": "F",
            "States": {
                "F": {
                    "Type": "Fail",
                    "Error": "{% 'E' & $string($states.input.n) %}",
                    "Cause": "{% $states.input.why %}",
                }
            },
        }
    )
    # When it runs
    result = run(machine, {"n": 3, "why": "because"})
    # Then they are evaluated
    assert (result.execution.error, result.execution.cause) == ("E3", "because")


def test_fail_without_error_or_cause_leaves_them_out_of_the_event() -> None:
    # Given a bare Fail
    result = run({"StartAt": "F", "States": {"F": {"Type": "Fail"}}}, {})
    # When it runs
    # Then the ExecutionFailed event has empty details
    assert one(result.history, "ExecutionFailed").details == {}
    assert json.dumps(result.execution.error) == "null"
