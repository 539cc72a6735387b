"""Fuzz: JSONata expressions (QueryLanguage JSONata), ordinary and hostile."""

from __future__ import annotations

from hypothesis import given

from tests.fuzz.harness import fuzz_settings, run_case
from tests.fuzz.strategies import (
    hostile_jsonata_bodies,
    inputs,
    json_values,
    jsonata_expressions,
)

ENDINGS = ("refused", "SUCCEEDED", "FAILED")


def _machine(expression, variable):
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Assign",
        "States": {
            "Assign": {"Type": "Pass", "Assign": {"x": variable}, "Next": "Evaluate"},
            "Evaluate": {"Type": "Pass", "Output": {"value": expression}, "End": True},
        },
    }


@fuzz_settings(400)
@given(expression=jsonata_expressions, variable=json_values, payload=inputs)
def test_a_jsonata_expression_gets_a_verdict(expression, variable, payload):
    # Given a JSONata expression over the input and a variable $x
    # When a Pass state outputs it
    verdict = run_case("jsonata", _machine(expression, variable), payload)
    # Then it is refused at validation, or the execution succeeds or fails with an ASL error
    assert verdict.outcome in ENDINGS


@fuzz_settings(120)
@given(body=hostile_jsonata_bodies, payload=inputs)
def test_a_hostile_jsonata_expression_is_stopped(body, payload):
    # Given an expression built to exhaust time, memory or the stack
    # When a Pass state outputs it
    verdict = run_case("jsonata hostile", _machine(f"{{% {body} %}}", 1), payload)
    # Then it is refused or ends within the harness's bounds
    assert verdict.outcome in ENDINGS
