"""Payload templates (Parameters, ResultSelector, ItemSelector, JSONPath Assign)."""

import copy
import random

import pytest

from engine._dataflow.payload import evaluate_payload
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesRuntimeError


def scope_with(data, **kwargs):
    return Scope(input=data, rng=random.Random(0), **kwargs)


def test_keys_ending_in_dollar_take_paths_and_others_are_literal():
    # Given a template mixing literals and paths (AWS's BASE_PASS_RESULT_NULL_INPUT_OUTPUT_PATHS)
    template = {"Arg1": "argument1", "FromInput.$": "$"}
    # When it is evaluated on an input
    value = evaluate_payload(template, scope_with({"InputValue": 0}), field="Parameters")
    # Then the path key loses its ".$" and holds the selection
    assert value == {"Arg1": "argument1", "FromInput": {"InputValue": 0}}


def test_literal_strings_that_look_like_paths_stay_literal():
    # Given literals resembling paths, calls and JSONata (AWS's BASE_CONSTANT_LITERALS)
    template = {
        "path": "$.no.such.path",
        "context": "$$.Execution.Id",
        "var": "$noSuchVar",
        "call": "States.Format('{}', $varname)",
        "jsonata": "{% $varname %}",
    }
    # When it is evaluated
    value = evaluate_payload(template, scope_with({}), field="Assign")
    # Then nothing was evaluated
    assert value == template


def test_nested_objects_and_arrays_are_templates_too():
    # Given a template with dynamic keys inside objects inside arrays
    template = {"outer": [{"a.$": "$.x"}, "lit", [{"b.$": "$.y[0]"}]], "n": {"c.$": "$$.k"}}
    scope = scope_with({"x": 1, "y": [2]}, context={"k": 3})
    # When it is evaluated
    value = evaluate_payload(template, scope, field="Parameters")
    # Then every level was evaluated
    assert value == {"outer": [{"a": 1}, "lit", [{"b": 2}]], "n": {"c": 3}}


def test_paths_read_input_context_and_variables_and_calls_are_evaluated():
    # Given paths of each root and an intrinsic call
    template = {
        "i.$": "$.items[0]",
        "c.$": "$$.Execution.Input",
        "v.$": "$answer",
        "f.$": "States.Format('{}-{}', $.items[1], $answer)",
        "u.$": "$.items[*]",
    }
    scope = scope_with(
        {"items": ["a", "b"]}, context={"Execution": {"Input": {"z": 0}}}, variables={"answer": 42}
    )
    # When it is evaluated
    value = evaluate_payload(template, scope, field="Parameters")
    # Then each dynamic value has its source
    assert value == {"i": "a", "c": {"z": 0}, "v": 42, "f": "b-42", "u": ["a", "b"]}


def test_the_template_and_the_input_are_not_modified():
    # Given a template and an input
    template = {"a.$": "$.x", "b": {"c.$": "$"}}
    data = {"x": {"deep": [1]}}
    before = (copy.deepcopy(template), copy.deepcopy(data))
    # When the template is evaluated
    evaluate_payload(template, scope_with(data), field="Parameters")
    # Then neither changed
    assert (template, data) == before


@pytest.mark.parametrize("template", [None, 1, "x", [], {}])
def test_a_template_without_dynamic_keys_is_returned_as_is(template):
    # Given a literal template
    # When it is evaluated
    # Then it is its own value
    assert evaluate_payload(template, scope_with({}), field="Parameters") == template


@pytest.mark.parametrize(
    ("path", "input_value"),
    [
        ("$.no_such_jsonpath", {"int-literal": 0}),
        ("$$.Execution.Input.no_such_jsonpath", {"int-literal": 0}),
    ],
)
def test_a_path_that_selects_nothing_is_a_runtime_error_worded_as_aws(path, input_value):
    # Given AWS's INVALID_JSONPATH_IN_STRING_EXPR cases
    scope = scope_with(input_value, context={"Execution": {"Input": input_value}})
    # When the template is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_payload({"value.$": path}, scope, field="Parameters")
    # Then it is States.Runtime with AWS's detail
    assert raised.value.name == ErrorName.RUNTIME
    assert raised.value.detail == (
        f"The JSONPath '{path}' specified for the field 'value.$' could not be found "
        "in the input '{\"int-literal\":0}'"
    )


def test_a_non_string_dynamic_value_is_a_runtime_error_naming_the_field():
    # Given a ".$" key whose value is not a string (the validator should refuse it)
    # When the template is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_payload({"bad.$": 23}, scope_with({}), field="Parameters")
    # Then the message names the key, the field and the value
    assert "'bad.$' in 'Parameters'" in raised.value.detail
    assert "23" in raised.value.detail


def test_an_invalid_path_is_a_runtime_error_not_a_traceback():
    # Given a ".$" value that is not a path
    # When the template is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_payload({"lorem.$": "ipsum"}, scope_with({}), field="Parameters")
    # Then it is reported as an ASL error
    assert raised.value.name == ErrorName.RUNTIME
    assert "'lorem.$'" in raised.value.detail


def test_a_failing_intrinsic_in_a_template_is_an_intrinsic_failure_naming_the_key():
    # Given a call whose arguments are unusable
    # When the template is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_payload(
            {"x.$": "States.ArrayGetItem($.a, 3)"}, scope_with({"a": []}), field="Parameters"
        )
    # Then the failure is States.IntrinsicFailure in that key
    assert raised.value.name == ErrorName.INTRINSIC_FAILURE
    assert "in the field 'x.$'" in raised.value.detail
