"""InputPath, OutputPath, ResultPath and the single-path fields, with AWS's errors."""

import pytest

from engine._dataflow.paths import apply_input_path, apply_output_path, apply_result_path, read_path
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesError, StatesRuntimeError

CONTEXT = {"Execution": {"Input": {"input-value": 0}}, "State": {"Name": "TestState"}}


def scope_with(data, **kwargs):
    return Scope(input=data, context=CONTEXT, **kwargs)


@pytest.mark.parametrize("apply", [apply_input_path, apply_output_path])
def test_a_null_path_gives_an_empty_object(apply):
    # Given InputPath / OutputPath set to JSON null
    # When it is applied
    # Then the value is {} whatever the input
    assert apply(None, scope_with({"a": 1})) == {}


@pytest.mark.parametrize("apply", [apply_input_path, apply_output_path])
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", {"a": [1, 2]}),
        ("$.a[1]", 2),
        ("$.a[*]", [1, 2]),
        ("$$.Execution.Input", {"input-value": 0}),
        ("$v.k", "var"),
    ],
)
def test_a_path_selects_from_input_context_or_variables(apply, path, expected):
    # Given a path of each root
    scope = scope_with({"a": [1, 2]}, variables={"v": {"k": "var"}})
    # When it is applied
    # Then the selection is the value
    assert apply(path, scope) == expected


@pytest.mark.parametrize(
    ("apply", "path", "data", "detail"),
    [
        (
            apply_input_path,
            "$.NoSuchInputPath",
            {"int-literal": 0},
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
        ),
        (
            apply_output_path,
            "$.NoSuchOutputPath",
            {"int-literal": 0},
            "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']",
        ),
        (
            apply_output_path,
            "$.no.such.result.path",
            {},
            "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
        ),
    ],
)
def test_a_path_that_selects_nothing_fails_as_aws_words_it(apply, path, data, detail):
    # Given AWS's INVALID_JSONPATH_IN_INPUTPATH / OUTPUTPATH and CATCH_STATES_RUNTIME cases
    # When the path is applied
    with pytest.raises(StatesRuntimeError) as raised:
        apply(path, scope_with(data))
    # Then it is States.Runtime with AWS's detail
    assert raised.value.name == ErrorName.RUNTIME
    assert raised.value.detail == detail


def test_a_null_result_path_discards_the_result():
    # Given ResultPath null
    # When the result is applied
    # Then the output is the input
    assert apply_result_path({"in": 1}, None, {"out": 2}) == {"in": 1}


def test_a_root_result_path_replaces_the_input():
    # Given the default ResultPath "$"
    # When the result is applied
    # Then the output is the result
    assert apply_result_path({"in": 1}, "$", "result") == "result"


def test_a_result_path_writes_into_a_copy_of_the_input():
    # Given an input and ResultPath "$.result_path" (AWS's JSON_MERGE_ESCAPED_ARGUMENT case)
    state_input = {"input_field": {"constant_input_field": "constant_value"}}
    # When the result is applied
    output = apply_result_path(state_input, "$.result_path", {"merged": 1})
    # Then the result sits beside the input, which is unchanged
    assert output == {**state_input, "result_path": {"merged": 1}}
    assert "result_path" not in state_input


def test_a_result_path_into_a_non_object_is_a_result_path_match_failure():
    # Given a string input and a ResultPath below its root
    # When the result is applied
    with pytest.raises(StatesError) as raised:
        apply_result_path("hello", "$.x", 1)
    # Then it is States.ResultPathMatchFailure, naming the path and the input
    assert raised.value.name == ErrorName.RESULT_PATH_MATCH_FAILURE
    assert raised.value.cause == 'Unable to apply ReferencePath $.x to input "hello"'
    assert not isinstance(raised.value, StatesRuntimeError)


def test_an_invalid_result_path_is_a_runtime_error_not_a_traceback():
    # Given an indefinite ResultPath (the validator should refuse it)
    # When the result is applied
    # Then it is an ASL error
    with pytest.raises(StatesRuntimeError):
        apply_result_path({"a": [1]}, "$.a[*]", 1)


@pytest.mark.parametrize(
    ("field", "path", "expected"),
    [
        ("SecondsPath", "$.input.waitSeconds", 5),
        ("ItemsPath", "$$.Execution.Input", {"input-value": 0}),
        ("MaxConcurrencyPath", "$maxConcurrency", 2),
        ("ErrorPath", "States.Format('{}', $.Error)", "error string"),
        (
            "CausePath",
            "States.Format('{} by {}', $.Error, $.Cause)",
            "error string by cause string",
        ),
    ],
)
def test_a_single_path_field_reads_its_value(field, path, expected):
    # Given an input, the context and a variable
    data = {"input": {"waitSeconds": 5}, "Error": "error string", "Cause": "cause string"}
    scope = scope_with(data, variables={"maxConcurrency": 2})
    # When the field's path is read
    # Then it gives the selected value (ErrorPath / CausePath may be intrinsic calls)
    assert read_path(path, scope, field=field) == expected


@pytest.mark.parametrize(
    ("field", "path"), [("ErrorPath", "$.ErrorX"), ("CausePath", "$.NoSuchCausePath")]
)
def test_a_single_path_that_selects_nothing_names_the_field(field, path):
    # Given AWS's INVALID_JSONPATH_IN_ERRORPATH / CAUSEPATH cases
    # When the path is read
    with pytest.raises(StatesRuntimeError) as raised:
        read_path(path, scope_with({"Error": "error-value"}), field=field)
    # Then it is States.Runtime with AWS's detail
    assert raised.value.name == ErrorName.RUNTIME
    assert raised.value.detail == (
        f"The JSONPath '{path}' specified for the field '{field}' could not be found "
        'in the input \'{"Error":"error-value"}\''
    )


def test_only_error_and_cause_paths_may_hold_intrinsic_calls():
    # Given an intrinsic call in SecondsPath
    # When it is read
    with pytest.raises(StatesRuntimeError) as raised:
        read_path("States.MathAdd(1, 2)", scope_with({}), field="SecondsPath")
    # Then it is refused as not a JSONPath
    assert "is not a valid JSONPath" in raised.value.detail
