"""Fuzz: JSONPath in InputPath, Parameters, ResultSelector, ResultPath and OutputPath."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import fuzz_settings, run_case
from tests.fuzz.strategies import LAMBDA, inputs, json_paths, json_values, reference_paths

ENDINGS = ("refused", "SUCCEEDED", "FAILED")
_templates = st.dictionaries(
    st.sampled_from(["a.$", "b.$", "c", "d.$"]), json_paths | json_values, max_size=3
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "InputPath": json_paths | st.none(),
        "Parameters": _templates,
        "ResultSelector": _templates,
        "ResultPath": reference_paths | st.none(),
        "OutputPath": json_paths | st.none(),
    },
)


@fuzz_settings(400)
@given(fields=_fields, task=st.booleans(), payload=inputs)
def test_the_jsonpath_fields_give_a_verdict(fields, task, payload):
    # Given a Task (echoing its input) or a Pass with random path fields
    if task:
        state = {"Type": "Task", "Resource": f"{LAMBDA}echo", **fields, "End": True}
    else:
        fields.pop("ResultSelector", None)
        state = {"Type": "Pass", **fields, "End": True}
    machine = {"StartAt": "S", "States": {"S": state}}
    # When it runs
    verdict = run_case("jsonpath", machine, payload)
    # Then it is refused at validation, or succeeds, or fails with an ASL error
    assert verdict.outcome in ENDINGS
