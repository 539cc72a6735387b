"""Fuzz: Choice rules with random comparisons, operands and nesting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import fuzz_settings, run_case
from tests.fuzz.strategies import choice_rules, inputs, jsonata_expressions

ENDINGS = ("refused", "SUCCEEDED", "FAILED")
_ENDS = {"Yes": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "No"}}


@fuzz_settings(300)
@given(rules=st.lists(choice_rules, min_size=1, max_size=3), payload=inputs)
def test_jsonpath_choice_rules_give_a_verdict(rules, payload):
    # Given a Choice of random (possibly ill-typed) rules, each leading to Yes
    choices = [{**rule, "Next": "Yes"} for rule in rules]
    machine = {
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": choices, "Default": "No"}, **_ENDS},
    }
    # When it runs
    verdict = run_case("choice", machine, payload)
    # Then it is refused at validation, or it picks a branch and ends
    assert verdict.outcome in ENDINGS


@fuzz_settings(100)
@given(condition=jsonata_expressions | st.sampled_from([True, False, 1, None]), payload=inputs)
def test_jsonata_choice_conditions_give_a_verdict(condition, payload):
    # Given a JSONata Choice whose Condition is a random expression or value
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": condition, "Next": "Yes"}],
                "Default": "No",
            },
            **_ENDS,
        },
    }
    # When it runs
    verdict = run_case("choice jsonata", machine, payload)
    # Then it is refused, or it picks a branch and ends
    assert verdict.outcome in ENDINGS
