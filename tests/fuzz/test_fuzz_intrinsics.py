"""Fuzz: intrinsic function calls (States.*) with random and hostile arguments."""

from __future__ import annotations

from hypothesis import given

from tests.fuzz.harness import fuzz_settings, run_case
from tests.fuzz.strategies import hostile_intrinsic_calls, inputs, intrinsic_calls

ENDINGS = ("refused", "SUCCEEDED", "FAILED")


def _machine(call):
    return {
        "StartAt": "Assign",
        "States": {
            "Assign": {"Type": "Pass", "Assign": {"v": [1, "a"]}, "Next": "Call"},
            "Call": {"Type": "Pass", "Parameters": {"value.$": call}, "End": True},
        },
    }


@fuzz_settings(500)
@given(call=intrinsic_calls | hostile_intrinsic_calls, payload=inputs)
def test_an_intrinsic_call_gets_a_verdict(call, payload):
    # Given an intrinsic function call, possibly nested, with random arguments
    # When a Pass state's Parameters evaluate it
    verdict = run_case("intrinsics", _machine(call), payload)
    # Then it is refused at validation, or succeeds, or fails with an ASL error
    assert verdict.outcome in ENDINGS
