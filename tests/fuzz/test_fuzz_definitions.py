"""Fuzz: whole state machines, ordinary and hostile, through validation and a run."""

from __future__ import annotations

from hypothesis import given

from tests.fuzz.harness import fuzz_settings, run_case
from tests.fuzz.strategies import hostile_definition_texts, input_texts, machines, mutated


@fuzz_settings(400)
@given(machine=machines().flatmap(mutated), payload=input_texts)
def test_a_generated_machine_gets_a_verdict(machine, payload):
    # Given a generated machine (some fields deleted, retyped or added) and an input
    # When it is validated, created and run on the local executor
    verdict = run_case("definitions", machine, payload)
    # Then it is refused with a diagnostic or its execution ends with a status
    assert verdict.outcome in ("refused", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@fuzz_settings(100)
@given(text=hostile_definition_texts, payload=input_texts)
def test_a_hostile_definition_text_gets_a_verdict(text, payload):
    # Given definition text that is deep, huge, not JSON, or YAML meant to hurt a parser
    # When it is validated, created and (if valid) run
    verdict = run_case("hostile definitions", text, payload)
    # Then it is refused or ends
    assert verdict.outcome in ("refused", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
