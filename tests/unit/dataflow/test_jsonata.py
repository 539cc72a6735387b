"""The JSONata adapter against the behaviour AWS recorded (case ids in comments)."""

import hashlib
import json
import random
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._dataflow.jsonata import (
    UNSET,
    MissingScopeValueError,
    check_syntax,
    evaluate_expression,
    evaluate_template,
    expression_body,
    is_expression,
)
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesRuntimeError

CLOCK = datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def scope(input=None, variables=None, seed=7, context=None):
    return Scope(
        input=input if input is not None else {},
        context=context if context is not None else {"State": {"Name": "S"}},
        variables=variables or {},
        now=CLOCK,
        rng=random.Random(seed),
    )


def run(expression, input=None, variables=None, **kwargs):
    return evaluate_expression(
        "{% " + expression + " %}", scope(input, variables), field="Output", **kwargs
    )


def failure(expression, input=None, variables=None, field="Output", **kwargs):
    with pytest.raises(StatesRuntimeError) as caught:
        evaluate_expression(
            "{% " + expression + " %}", scope(input, variables), field=field, **kwargs
        )
    assert caught.value.name == ErrorName.QUERY_EVALUATION_ERROR
    return caught.value.detail


# --- recognising expressions ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["{% $states.input %}", "{%10%}", "{% \n10         %}", "{%%}", "{% '%}' %}"],
)
def test_a_string_wrapped_whole_in_delimiters_is_an_expression(value):
    # Given a string that starts with {% and ends with %}
    # When / Then it is a JSONata expression
    assert is_expression(value)


@pytest.mark.parametrize(
    "value",
    [
        " {% states.input %} ",  # outputdecl.test_output.test_base_cases__BASE_LITERALS
        "{% states.input %} ",
        " {% states.input %}",
        "{% 10 %",
        "$states.input",
        "States.Format('{}', $x)",
        "{%}",
        None,
        10,
        ["{% 1 %}"],
        {"a": "{% 1 %}"},
    ],
)
def test_anything_else_is_not_an_expression(value):
    # Given a value with anything outside the delimiters, or not a string
    # When / Then it is a literal
    assert not is_expression(value)


def test_expression_body_is_trimmed_inside_the_delimiters():
    # Given an expression with whitespace inside its delimiters
    # When its body is taken / Then the whitespace is gone
    assert expression_body("{%  \n $doesNotExist \t %}") == "$doesNotExist"


def test_expression_body_refuses_a_literal():
    # Given a literal string / When its body is asked for / Then it is refused
    with pytest.raises(ValueError, match="expected a JSONata expression"):
        expression_body(" {% 1 %}")


@given(st.text())
def test_any_text_between_delimiters_is_an_expression_but_not_with_leading_space(text):
    # Given any text wrapped in delimiters
    wrapped = "{%" + text + "%}"
    # When / Then it is an expression, and never once a character precedes the {%
    assert is_expression(wrapped)
    assert not is_expression(" " + wrapped)


# --- syntax at definition time ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{% $sum($states.input.numbers) %}",
        "{% 789.0123456789012 %}",
        "{% $exists($states.input.moreData) ? $states.input.moreData : {} %}",
        "{% $match($states.input.email, /^[a-z]+@[a-z]+\\.[a-z]{2,}$/) %}",
        "{% ($e := $states.input.e; $states.input.items[category = 'home']"
        "{'email': $e, 'total': $sum(value)}) %}",
    ],
)
def test_check_syntax_accepts_valid_jsonata(text):
    # Given valid JSONata (validation_linters valid-* cases)
    # When it is checked / Then there is no problem
    assert check_syntax(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% 10 + * 2 %}", "S0201: Syntax error: 2 (at position 8)"),
        ("{% 420. %}", "S0207: Unexpected end of expression (at position 4)"),
        (
            "{% $sum($states.input.items.numbers %}",
            'S0203: Expected ")" before end of expression (at position 32)',
        ),
        (
            "{% $.store.book[?(@.price < 10)].title %}",
            'S0211: The symbol "?" cannot be used as a unary operator (at position 14)',
        ),
    ],
)
def test_check_syntax_names_the_expression_the_error_and_its_position(text, expected):
    # Given invalid JSONata (validation_linters invalid-* cases)
    # When it is checked
    message = check_syntax(text)
    # Then the message quotes the expression, the JSONata code and the position
    assert message == f"The JSONata expression '{expression_body(text)}' is invalid: {expected}"


def test_check_syntax_refuses_an_unterminated_expression():
    # Given a string missing its closing delimiter
    # When it is checked / Then the message says what the form must be
    message = check_syntax("{% 10 %")
    assert message is not None
    assert "must start with '{%' and end with '%}'" in message


# --- values and the messages AWS gives --------------------------------------------------


def test_undefined_result_fails_with_aws_message():
    # Given an expression reading a variable that does not exist
    # (assign.test_assign_reference_variables.test_undefined_reference__BASE_UNDEFINED_OUTPUT)
    # When it is evaluated / Then AWS's message names the expression and the field
    assert failure("$doesNotExist") == (
        "The JSONata expression '$doesNotExist' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


def test_failure_carries_the_field_as_its_location():
    # Given an expression that returns nothing in Arguments/FunctionName
    # When it is evaluated
    with pytest.raises(StatesRuntimeError) as caught:
        evaluate_expression("{% $nope %}", scope(), field="Arguments/FunctionName")
    # Then the error's location is the field (the EvaluationFailed event's location)
    assert caught.value.location == "Arguments/FunctionName"


def test_calling_an_unknown_function_fails_with_t1006():
    # Given AWS's recorded case (test_math_operations_jsonata.test_math_random_seeded)
    detail = failure(
        "$randomSeeded($states.input.FunctionInput.fst)",
        {"FunctionInput": "fst"},
        field="Output/FunctionResult",
    )
    # Then the message is AWS's, word for word
    assert detail == (
        "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified "
        "for the field 'Output/FunctionResult' threw an error during evaluation. "
        "T1006: Attempted to invoke a non-function"
    )


def test_eval_is_unavailable_as_in_aws():
    # Given an expression calling $eval / When it is evaluated / Then it is no function
    assert failure("$eval('1 + 1')").endswith("T1006: Attempted to invoke a non-function")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 + 'a'", 'T2002: The right side of the "+" operator must evaluate to a number'),
        ("$error('boom')", "D3137: boom"),
        ("$partition(1)", 'T0410: Argument 2 of function "partition" does not match'),
        ("$sum('a')", 'T0412: Argument 1 of function "sum" must be an array of "n"'),
        ("1 / 0", "D1001: Number out of range"),
    ],
)
def test_evaluation_errors_use_jsonata_codes_and_javascript_wording(expression, message):
    # Given an expression that throws / When it is evaluated
    detail = failure(expression)
    # Then the code and the reference wording ("function", not "Object") are reported
    assert f"threw an error during evaluation. {message}" in detail


@pytest.mark.parametrize(
    "expression", ["$fn := function($x){$x}", "/abc/", "{'f': function(){1}}", "$sum"]
)
def test_a_function_or_regex_result_is_an_unsupported_type(expression):
    # Given an expression whose value is a function
    # (scenarios.test_base_scenarios.test_map_state_items_eval_jsonata_fail__function)
    # When it is evaluated / Then AWS refuses the type
    assert failure(expression, field="Items").endswith(
        "specified for the field 'Items' returned an unsupported result type."
    )


@pytest.mark.parametrize(
    ("expression", "variables", "shown"),
    [
        ("'string'", {}, "but was 'string' for value: \"string\""),
        ("$ItemsVar", {"ItemsVar": {"foo": "bar"}}, 'but was \'object\' for value: {"foo":"bar"}'),
        ("$ItemsVar", {"ItemsVar": None}, "but was 'null' for value: null"),
        ("$ItemsVar", {"ItemsVar": True}, "but was 'boolean' for value: true"),
        ("$ItemsVar", {"ItemsVar": 1}, "but was 'number' for value: 1"),
    ],
)
def test_an_unexpected_type_is_reported_with_the_value(expression, variables, shown):
    # Given Map Items that are not an array
    # (scenarios.test_base_scenarios.test_map_state_items_*variable_sampling*)
    # When evaluated expecting an array
    detail = failure(expression, variables=variables, field="Items", expect="array")
    # Then AWS's message names the expected and actual types and the value
    assert detail == (
        f"The JSONata expression '{expression}' specified for the field 'Items' returned "
        f"an unexpected result type. Expected 'array', {shown}"
    )


@pytest.mark.parametrize(
    ("expression", "value"), [("[]", []), ("[0]", [0]), ("[1, 'two', 3]", [1, "two", 3])]
)
def test_an_expected_type_passes(expression, value):
    # Given Map Items as arrays (test_map_state_items_eval_jsonata__empty/singleton/mixed)
    # When / Then they are returned as lists, a one-item array is not collapsed
    assert run(expression, expect="array") == value


def test_null_is_a_value_not_undefined():
    # Given expressions giving JSON null (test_map_state_items_eval_jsonata_*__null)
    # When / Then null is returned, including from a variable holding null
    assert run("null") is None
    assert run("$v", variables={"v": None}) is None
    assert run("$states.input.a", {"a": None}) is None


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("$sum([1.5, 1.5])", 3),
        ("6 / 2", 3),
        ("$number('2')", 2),  # evaluate_jsonata.test_base_evaluate_expressions ITEMS
        ("0.1 + 0.2", 0.1 + 0.2),
        ("$parse('-0.0')", 0),
        ("1e20", 100000000000000000000),
    ],
)
def test_integral_numbers_come_out_as_ints(expression, value):
    # Given arithmetic whose result is integral / When evaluated
    result = run(expression)
    # Then it is an int (AWS prints 3, not 3.0); other numbers stay floats
    assert result == value
    assert type(result) is type(value)


def test_sequences_come_out_as_plain_lists():
    # Given a path that builds a JSONata sequence / When evaluated
    result = run("$states.input.a.b", {"a": [{"b": 1}, {"b": [2, 3]}]})
    # Then it is a plain list
    assert result == [1, 2, 3]
    assert type(result) is list


@pytest.mark.parametrize(
    ("expression", "input", "value"),
    [
        ('$contains("hello$world", /^hello\\$/)', {}, True),  # regular_expressions__BASE
        ('$contains("hello$world", /^hello\\ /)', {}, False),  # ..._BASE_FALSE
        (
            "$merge([$states.input.part1, $states.input.part2])",
            {"part1": {"hello": "world"}, "part2": {"foo": "bar"}},
            {"hello": "world", "foo": "bar"},
        ),  # test_merge_with_dynamic_args
        ("$not($states.input.type = 'Private')", {"type": "Private"}, False),
        ("$states.input.value >= 20 and $states.input.value < 30", {"value": 22}, True),
        ("$states.input = '\"'", '"', True),  # ESCAPE_SEQUENCES_JSONATA_COMPARISON_OUTPUT
        ("$variable := 1", {}, 1),  # test_base_task__TIMEOUT_SECONDS
        ("$states.input.items", {"items": [0]}, [0]),  # items_input_array__singleton
    ],
)
def test_recorded_expressions_give_aws_values(expression, input, value):
    # Given expressions from the corpus / When evaluated / Then AWS's value comes out
    assert run(expression, input) == value


# --- $states and variables --------------------------------------------------------------


def test_states_holds_input_and_context_and_only_the_given_extras():
    # Given a scope and no result / When $states is read
    states = run("$states", {"a": 1})
    # Then it holds input and context only
    assert states == {"input": {"a": 1}, "context": {"State": {"Name": "S"}}}


def test_states_result_and_error_output_are_bound_when_given():
    # Given a task result and an error output (states_variables.test_error_output.*)
    error = {"Error": "Exception", "Cause": "boom"}
    # When they are passed
    value = evaluate_expression(
        "{% [$states.result, $states.errorOutput] %}",
        scope(),
        field="Output",
        result=None,
        error_output=error,
    )
    # Then the expression sees them, a null result included
    assert value == [None, error]


def test_states_result_is_undefined_when_not_given():
    # Given no result / When $states.result is read / Then it returns nothing
    assert "returned nothing (undefined)" in failure("$states.result", result=UNSET)


def test_variables_are_read_by_name_and_shadow_functions():
    # Given workflow variables, one named like a function
    variables = {"var_input_value": "string literal", "partition": "mine"}
    # When read / Then each gives its value (outputdecl.test_output.BASE_EXPR)
    assert run("$var_input_value", variables=variables) == "string literal"
    assert run("$partition", variables=variables) == "mine"


def test_states_cannot_be_shadowed_by_a_variable():
    # Given a variable called states / When $states.input is read / Then it is the input
    assert run("$states.input", {"a": 1}, variables={"states": "x"}) == {"a": 1}


# --- templates --------------------------------------------------------------------------


LITERALS = {
    "constant_null": None,
    "constant_float": 0.1,
    "constant_not_jsonata": " {% states.input %} ",
    "constant_varpath_states": "$states.input",
    "constant_jp_input.$": "$",
    "constant_if": "States.Format('Format:{}', 101)",
    "constant_lst": [None, 0, True, [], {"constant": 0}, " {% states.input %} "],
}


def test_template_keeps_literals_as_they_are():
    # Given a template of literals only (outputdecl.test_output.test_base_cases__BASE_LITERALS)
    # When evaluated / Then it is returned unchanged
    assert evaluate_template(LITERALS, scope(), field="Output") == LITERALS


def test_template_evaluates_expressions_at_any_depth():
    # Given a template mixing literals and expressions (outputdecl BASE_EXPR, LIST_RICH)
    template = {
        "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}",
        "list": [None, "$nosuchvar", "{% $states.input.input_values %}", {"key": "{% true %}"}],
    }
    # When evaluated
    value = evaluate_template(
        template, scope({"input_values": [1, 2, 3]}, {"var_constant_1": 1}), field="Output"
    )
    # Then every expression is replaced by its value
    assert value == {"ja_expr": 7, "list": [None, "$nosuchvar", [1, 2, 3], {"key": True}]}


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("{% $doesNotExist %}", "Arguments"),  # BASE_UNDEFINED_ARGUMENTS
        ({"FunctionName": "{% $doesNotExist %}"}, "Arguments/FunctionName"),
        ({"a": {"b": ["x", "{% $doesNotExist %}"]}}, "Arguments/a/b/1"),
    ],
)
def test_template_names_the_failing_field_by_its_path(template, field):
    # Given a template whose expression returns nothing
    # When it is evaluated
    with pytest.raises(StatesRuntimeError) as caught:
        evaluate_template(template, scope(), field="Arguments")
    # Then the field is the path inside the template joined with '/'
    assert caught.value.detail == (
        f"The JSONata expression '$doesNotExist' specified for the field '{field}' "
        "returned nothing (undefined)."
    )


def test_template_and_scope_are_not_modified():
    # Given a template, an input and variables
    template = {"a": ["{% $sort($states.input.l) %}", {"b": "{% $v %}"}]}
    input, variables = {"l": [3, 1, 2]}, {"v": {"w": [1]}}
    snapshot = json.dumps([template, input, variables])
    # When the template is evaluated and its result changed
    value = evaluate_template(template, scope(input, variables), field="Output")
    value["a"][1]["b"]["w"].append(2)
    # Then nothing the caller owns has changed
    assert json.dumps([template, input, variables]) == snapshot


# --- Step Functions' functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("array", "size", "chunks"),
    [
        ([0], 1, [[0]]),
        ([0], 5, [[0]]),
        ([0, 1, 2], 2, [[0, 1], [2]]),
        ([0, 1, 2, 3], 3, [[0, 1, 2], [3]]),
        ([0, 1, 2, 3], 4, [[0, 1, 2, 3]]),
        ([], 2, []),
    ],
)
def test_partition_splits_into_chunks(array, size, chunks):
    # Given the corpus inputs (intrinsic_functions.test_array_jsonata.test_array_partition.*)
    value = run("$partition($states.input.a, $states.input.n)", {"a": array, "n": size})
    # Then the chunks are AWS's, a single chunk stays nested
    assert value == chunks


@given(st.lists(st.integers()), st.integers(min_value=1, max_value=20))
def test_partition_concatenated_is_the_input(array, size):
    # Given any array and chunk size / When partitioned
    chunks = run("$partition($states.input.a, $states.input.n)", {"a": array, "n": size})
    # Then the chunks concatenate back to the input and only the last may be short
    assert [item for chunk in chunks for item in chunk] == array
    assert all(len(chunk) == size for chunk in chunks[:-1])


@pytest.mark.parametrize("size", [0, -1, 1.5])
def test_partition_refuses_a_size_that_is_not_a_positive_integer(size):
    # Given a bad size / When partitioning / Then the evaluation fails with a message
    detail = failure("$partition([1, 2], $states.input.n)", {"n": size})
    assert f"must be a positive integer, got {size}" in detail


@pytest.mark.parametrize(
    ("start", "end", "step", "value"),
    [
        (0, 10, 3, [0, 3, 6, 9]),  # test_array_jsonata.test_array_range.1
        (1, 9, 9, 1),  # ...range.2: a one-item range is a single value, as recorded
        (1, 9, 2, [1, 3, 5, 7, 9]),  # ...range.3
        (5, 1, -2, [5, 3, 1]),
    ],
)
def test_range_counts_from_start_to_end_inclusive(start, end, step, value):
    # Given start, end and step / When $range is evaluated / Then AWS's values come out
    assert run(f"$range({start}, {end}, {step})") == value


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(1, 7))
def test_range_matches_an_inclusive_python_range(start, end, step):
    # Given integer bounds and a positive step
    expected = list(range(start, end + 1, step))
    # When $range is evaluated
    expression = f"$range({start}, {end}, {step})"
    # Then it is the inclusive range: a list, one value, or nothing at all
    if not expected:
        assert "returned nothing (undefined)" in failure(expression)
    else:
        assert run(expression) == (expected[0] if len(expected) == 1 else expected)


def test_range_refuses_a_zero_step():
    # Given a zero step / When $range is evaluated / Then it fails with a message
    assert "must not be zero" in failure("$range(1, 3, 0)")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),  # intrinsic test_hash.0
        ("SHA-1", hashlib.sha1(b"input data").hexdigest()),
        (
            "SHA-256",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),  # test_hash.2
        (
            "SHA-384",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b"
            "87525bdc835ebb27e1fb9e9374a15562",
        ),  # test_hash.3
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce"
            "2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),  # test_hash.4
    ],
)
def test_hash_gives_the_hex_digest(algorithm, digest):
    # Given "input data" and an algorithm AWS supports / When hashed / Then AWS's digest
    assert run(f"$hash('input data', '{algorithm}')") == digest


def test_hash_refuses_an_unknown_algorithm():
    # Given an unsupported algorithm / When hashing / Then the message lists the supported
    assert "'SHA-3' of $hash is not supported; use one of MD5, SHA-1" in failure(
        "$hash('x', 'SHA-3')"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("-0", 0), ("1", 1), ("true", True), ('"HelloWorld"', "HelloWorld")],
)
def test_parse_decodes_json_text(text, value):
    # Given the corpus inputs (test_json_manipulation_jsonata.test_parse.*)
    # When parsed / Then AWS's value comes out
    assert run("$parse($states.input.t)", {"t": text}) == value


def test_parse_of_null_is_null_not_undefined():
    # Given the JSON text null / When parsed / Then the value is null
    assert run("$parse('null')") is None


@pytest.mark.parametrize("text", ["nul", "NaN", "Infinity", "{'a': 1}", "1e999"])
def test_parse_refuses_what_is_not_strict_json(text):
    # Given text JSON.parse refuses / When parsed / Then the evaluation fails
    assert "could not parse" in failure("$parse($states.input.t)", {"t": text})


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_parse_of_dumped_json_is_the_value(value):
    # Given any JSON value dumped to text / When parsed
    parsed = run("$parse($states.input.t)", {"t": json.dumps(value)})
    # Then the value comes back (integral floats as equal ints)
    assert parsed == value


# --- clock and randomness ---------------------------------------------------------------


def test_now_and_millis_read_the_injected_clock():
    # Given a scope whose clock reads 2001-02-03T04:05:06.789Z
    # When $now and $millis are evaluated / Then they give that instant, not the real time
    assert run("$now()") == "2001-02-03T04:05:06.789Z"
    assert run("$millis()") == 981173106789
    assert run("$now('[Y0001]-[M01]-[D01]')") == "2001-02-03"


def test_random_draws_from_the_injected_source():
    # Given two scopes with the same seed
    first = [evaluate_expression("{% $random() %}", scope(seed=3), field="f") for _ in "ab"]
    # When $random() is evaluated in each / Then the draws are equal and in [0, 1)
    assert first[0] == first[1] == random.Random(3).random()
    assert 0 <= first[0] < 1


def test_seeded_random_is_deterministic_and_ignores_the_source():
    # Given the same seed under different random sources
    values = {
        evaluate_expression("{% $random(42) %}", scope(seed=seed), field="f") for seed in (1, 2, 3)
    }
    # When / Then it is one value, java.util.Random(42).nextDouble()
    assert values == {0.7275636800328681}
    assert run("$random(43)") != run("$random(42)")


def test_uuid_is_a_version_4_uuid_drawn_from_the_source():
    # Given two scopes with the same seed / When $uuid() is evaluated in each
    first = evaluate_expression("{% [$uuid(), $uuid()] %}", scope(seed=9), field="f")
    again = evaluate_expression("{% [$uuid(), $uuid()] %}", scope(seed=9), field="f")
    # Then the uuids replay identically, differ from each other and are version 4
    assert first == again
    assert first[0] != first[1]
    assert all(UUID4.match(value) for value in first)


@given(st.lists(st.integers(), max_size=30), st.integers(0, 1000))
def test_shuffle_is_a_permutation_drawn_from_the_source(array, seed):
    # Given an array and a seeded source / When $shuffle is evaluated twice
    def shuffled():
        return evaluate_expression(
            "{% $shuffle($states.input) %}", scope(array or [0], seed=seed), field="f"
        )

    # Then it is the same permutation both times
    assert shuffled() == shuffled()
    assert sorted(_as_list(shuffled())) == sorted(array or [0])


def _as_list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("expression", ["$now()", "$millis()"])
def test_clock_functions_need_the_injected_clock(expression):
    # Given a scope without a clock / When the clock is read / Then the wiring error shows
    with pytest.raises(MissingScopeValueError, match=r"Scope\.now"):
        evaluate_expression("{% " + expression + " %}", Scope(), field="f")


@pytest.mark.parametrize("expression", ["$random()", "$uuid()", "$shuffle([1, 2])"])
def test_random_functions_need_the_injected_source(expression):
    # Given a scope without a random source / When it is drawn from / Then it fails loudly
    with pytest.raises(MissingScopeValueError, match=r"Scope\.rng"):
        evaluate_expression("{% " + expression + " %}", Scope(), field="f")


# --- runaway expressions ----------------------------------------------------------------


def test_an_endless_tail_call_loop_is_stopped(monkeypatch):
    # Given a small evaluation budget and an expression that never ends
    monkeypatch.setattr("engine._dataflow.jsonata._evaluate.MAX_EVALUATION_STEPS", 500)
    # When it is evaluated / Then it fails instead of hanging
    detail = failure("($f := function($n){ $f($n + 1) }; $f(0))")
    assert "exceeded 500 steps" in detail


def test_endless_recursion_is_a_stack_overflow():
    # Given non-tail recursion without end / When evaluated / Then D1011 is reported
    detail = failure("($f := function($n){ 1 + $f($n + 1) }; $f(0))")
    assert "threw an error during evaluation. D1011: Stack overflow." in detail
