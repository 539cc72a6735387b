"""The States.* intrinsic functions: parsing, AWS's results, and AWS-named failures."""

import random
import re

import pytest

from engine._dataflow.intrinsics import (
    FUNCTIONS,
    SIGNATURES,
    IntrinsicCall,
    IntrinsicSyntaxError,
    Literal,
    PathArgument,
    evaluate,
    is_intrinsic_call,
    parse_call,
)
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesRuntimeError

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def scope_with(data=None, *, seed=0, **kwargs):
    return Scope(input=data if data is not None else {}, rng=random.Random(seed), **kwargs)


def run(text, data=None, **kwargs):
    return evaluate(text, scope_with(data, **kwargs))


def test_the_registry_has_the_18_functions_each_with_a_signature():
    # Given the registry
    # When its names are listed
    # Then it holds AWS's 18 functions, each with a signature
    assert len(FUNCTIONS) == 18
    assert set(FUNCTIONS) == set(SIGNATURES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('x')", True),
        ("States.UUID()", True),
        ("States.Xyz($.a)", True),
        ("$.States.Format", False),
        (" States.Array()", False),
        ("States.Format", False),
        (42, False),
    ],
)
def test_a_call_is_recognised_by_its_states_prefix_and_parenthesis(text, expected):
    # Given a field value
    # When it is tested for being a call
    # Then only "States.<Name>(" at the very start counts
    assert is_intrinsic_call(text) is expected


def test_a_call_parses_into_literals_paths_and_nested_calls():
    # Given a call mixing every kind of argument
    text = "States.Array('a', -1, 2.5, true, false, null, $.x, $$.y, $v.z, States.UUID())"
    # When it is parsed
    call = parse_call(text)
    # Then each argument has its kind
    assert call.name == "States.Array"
    assert call.arguments == (
        Literal("a", ("a",)),
        Literal(-1),
        Literal(2.5),
        Literal(True),
        Literal(False),
        Literal(None),
        PathArgument("$.x"),
        PathArgument("$$.y"),
        PathArgument("$v.z"),
        IntrinsicCall("States.UUID", (), "States.UUID()"),
    )


def test_a_path_argument_may_hold_brackets_commas_and_filters():
    # Given a filter path argument (from AWS's ArrayGetItem example)
    text = "States.ArrayGetItem($.R[?(@.OutputKey == FizzBuzz)].OutputValue, 0)"
    # When it is evaluated on matching data
    value = run(text, {"R": [{"OutputKey": "FizzBuzz", "OutputValue": "v"}]})
    # Then the whole filter was one argument
    assert value == "v"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("States.Xyz($.result)", "unknown intrinsic function 'States.Xyz'"),
        ("States.MathAdd(1,'-1')", "argument 2 of 'States.MathAdd' must be a number"),
        ("States.MathAdd(1)", "'States.MathAdd' takes 2 argument(s), but 1 were given"),
        ("States.UUID(1)", "'States.UUID' takes 0 argument(s)"),
        ("States.Format('unterminated)", "not closed"),
        ('States.StringToJson(\'{"t":"An \\"x\\" here"}\')', "invalid escape sequence '\\\"'"),
        ("States.Array(1 2)", "expected ',' or ')'"),
        ("States.Array(1", "the text ended"),
        ("States.Array(@)", "expected an argument (string, number, boolean, null, path or call)"),
        ("States.Array($..)", "is not a valid JSONPath"),
        ("States.Array() extra", "unexpected text after the call"),
        (
            "States.JsonMerge($.a, $.b, 'false')",
            "argument 3 of 'States.JsonMerge' must be a boolean",
        ),
    ],
)
def test_malformed_calls_fail_to_parse_with_a_reason(text, reason):
    # Given a malformed call
    # When it is parsed
    with pytest.raises(IntrinsicSyntaxError) as raised:
        parse_call(text)
    # Then the reason says what was wrong
    assert reason in raised.value.reason
    assert raised.value.text == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('it\\'s')", "it's"),
        ("States.Format('a \\\\ b')", "a \\ b"),
        ("States.Format('\\{\\} {}', 1)", "{} 1"),
        ("States.StringSplit('Hello\nWorld', '\n')", ["Hello", "World"]),
        ('States.StringToJson(\'{"a": {"b": 1}}\')', {"a": {"b": 1}}),
    ],
)
def test_string_literals_follow_aws_escaping(text, expected):
    # Given literals using the only escapes AWS allows (and raw braces)
    # When the call is evaluated
    # Then the escapes are resolved
    assert run(text) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"v": " "}, "Formatting argument  ."),
        ({"v": "HelloWorld"}, "Formatting argument HelloWorld."),
        ({"v": None}, "Formatting argument null."),
        ({"v": 1}, "Formatting argument 1."),
        ({"v": 1.5}, "Formatting argument 1.5."),
        ({"v": True}, "Formatting argument true."),
        ({"v": {"Arg1": 1, "Arg2": []}}, "Formatting argument {Arg1=1, Arg2=[]}."),
        ({"v": ["a", {"b": "c"}]}, "Formatting argument [a, {b=c}]."),
    ],
)
def test_format_renders_values_as_aws_does(args, expected):
    # Given a value of each JSON type
    # When it is formatted
    value = run("States.Format('Formatting argument {}.', $.v)", args)
    # Then it reads as AWS prints it (Java's toString for containers)
    assert value == expected


def test_format_takes_its_template_from_a_path_too():
    # Given a template in the input
    data = {"t": "Hello, my name is {}.", "n": "Arnav"}
    # When it is formatted
    # Then the placeholders are filled
    assert run("States.Format($.t, $.n)", data) == "Hello, my name is Arnav."


def test_format_with_the_wrong_number_of_values_is_an_intrinsic_failure():
    # Given a template with two placeholders and one value
    # When it is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate("States.Format('{} {}', 1)", scope_with(), field="x.$")
    # Then it fails as States.IntrinsicFailure, naming the function and field
    assert raised.value.name == ErrorName.INTRINSIC_FAILURE
    assert "'States.Format' in the field 'x.$'" in raised.value.detail


def test_string_to_json_of_a_too_deeply_nested_string_is_an_intrinsic_failure():
    # Given a string holding JSON nested 10,000 levels deep
    data = {"v": "[" * 10_000 + "]" * 10_000}
    # When States.StringToJson parses it
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate("States.StringToJson($.v)", scope_with(data), field="x.$")
    # Then it fails as States.IntrinsicFailure naming the depth limit, not RecursionError
    assert raised.value.name == ErrorName.INTRINSIC_FAILURE
    assert "more than 500 levels deep" in raised.value.detail


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("States.StringToJson($.v)", {"v": ""}, None),
        ("States.StringToJson($.v)", {"v": "null"}, None),
        ("States.StringToJson($.v)", {"v": "-0"}, 0),
        ("States.StringToJson($.v)", {"v": "1.1"}, 1.1),
        ("States.StringToJson($.v)", {"v": '"HelloWorld"'}, "HelloWorld"),
        ("States.JsonToString($.v)", {"v": None}, "null"),
        ("States.JsonToString($.v)", {"v": 1.1}, "1.1"),
        ("States.JsonToString($.v)", {"v": "HelloWorld"}, '"HelloWorld"'),
        ("States.JsonToString($.v)", {"v": [1, 2, "HelloWorld"]}, '[1,2,"HelloWorld"]'),
        ("States.JsonToString($.v)", {"v": {"Arg1": 1, "Arg2": []}}, '{"Arg1":1,"Arg2":[]}'),
    ],
)
def test_json_conversions_match_the_corpus(text, data, expected):
    # Given the corpus' inputs
    # When the JSON conversions run
    # Then they give AWS's results
    assert run(text, data) == expected


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("States.Array()", {}, []),
        ("States.Array($.a, $.b)", {"a": None, "b": {"k": []}}, [None, {"k": []}]),
        ("States.ArrayPartition($.a, 2)", {"a": [0, 1, 2, 3]}, [[0, 1], [2, 3]]),
        ("States.ArrayPartition($.a, 3)", {"a": [0, 1, 2, 3]}, [[0, 1, 2], [3]]),
        ("States.ArrayPartition($.a, 5)", {"a": []}, []),
        (
            "States.ArrayContains($.a, $.v)",
            {"a": [{"1": 2, "2": []}], "v": {"1": 2, "2": []}},
            True,
        ),
        ("States.ArrayContains($.a, $.v)", {"a": [[1, 2, 3], 2], "v": None}, False),
        ("States.ArrayContains($.a, $.v)", {"a": [True, False], "v": False}, True),
        ("States.ArrayContains($.a, 1)", {"a": [True]}, False),
        ("States.ArrayRange(0, 10, 3)", {}, [0, 3, 6, 9]),
        ("States.ArrayRange(1, 9, 9)", {}, [1]),
        ("States.ArrayRange(9, 1, -4)", {}, [9, 5, 1]),
        ("States.ArrayGetItem($.a, 2)", {"a": [1, 2, 3, 4]}, 3),
        ("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
        ("States.ArrayUnique($.a)", {"a": [1, 2, 2, 3, 3, 4]}, [1, 2, 3, 4]),
        (
            "States.ArrayUnique($.a)",
            {"a": [1, True, {"x": 1, "y": 2}, {"y": 2, "x": 1}]},
            [1, True, {"x": 1, "y": 2}],
        ),
    ],
)
def test_array_functions_match_the_corpus(text, data, expected):
    # Given arrays from AWS's cases
    # When the array functions run
    # Then they give AWS's results
    assert run(text, data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Base64Encode('')", ""),
        ("States.Hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash('input data', 'SHA-1')", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "States.Hash('input data', 'SHA-256')",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),
        ("States.StringSplit('1,2,3,4,5', ',')", ["1", "2", "3", "4", "5"]),
        ("States.StringSplit(', , ,', ',')", [" ", " "]),
        (
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            ["This", "is", "a", "test", "string"],
        ),
        ("States.StringSplit('abc', '')", ["abc"]),
    ],
)
def test_encoding_hash_and_split_match_the_corpus(text, expected):
    # Given the corpus' inputs
    # When the string functions run
    # Then they give AWS's results
    assert run(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (-1.49, -1.5, -2),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (-2.5, 0, -2),
        (-1.51, 0, -2),
        (-0.5, 0.5, 1),
    ],
)
def test_math_add_rounds_each_argument_half_up_first(a, b, expected):
    # Given the corpus' operands
    # When they are added
    value = run("States.MathAdd($.a, $.b)", {"a": a, "b": b})
    # Then each was rounded as Java's Math.round before adding, giving an integer
    assert value == expected
    assert isinstance(value, int)


def test_json_merge_is_shallow_and_the_second_object_wins():
    # Given the corpus' two objects
    data = {"a": {"a": {"a1": 1}, "b": 2, "d": 3}, "b": {"a": {"a3": 1}, "c": 3, "d": 4}}
    # When they are merged
    value = run("States.JsonMerge($.a, $.b, false)", data)
    # Then nested objects were replaced, not merged
    assert value == {"a": {"a3": 1}, "b": 2, "c": 3, "d": 4}


def test_uuid_is_a_version_4_uuid_drawn_from_the_scope_rng():
    # Given two scopes with the same seed
    # When a UUID is generated in each
    first, second = run("States.UUID()", seed=5), run("States.UUID()", seed=5)
    # Then both are the same valid version-4 UUID
    assert UUID4.fullmatch(first)
    assert first == second


def test_math_random_without_seed_stays_in_range_and_follows_the_rng():
    # Given a seeded scope rng
    # When many random numbers are drawn between 12.5 and 44.51
    values = [run("States.MathRandom(12.5, 44.51)", seed=s) for s in range(200)]
    # Then each is an integer in [13, 45) and the same seed gives the same number
    assert all(isinstance(v, int) and 13 <= v < 45 for v in values)
    assert values[7] == run("States.MathRandom(12.5, 44.51)", seed=7)


def test_math_random_with_a_seed_ignores_the_rng():
    # Given scopes with different rngs
    # When a seeded random number is drawn in each
    values = {run("States.MathRandom(1, 1000, 42)", seed=s) for s in range(5)}
    # Then the seed alone decides it
    assert len(values) == 1
    assert 1 <= values.pop() < 1000


def test_math_random_seed_matches_java_util_random():
    # Given Java's new Random(42).nextInt(10) == 0 and new Random(42).nextInt(16) == 11
    # When the same draws are made
    # Then the numbers agree
    assert run("States.MathRandom(0, 10, 42)") == 0
    assert run("States.MathRandom(100, 116, 42)") == 111


def test_functions_drawing_randomness_need_a_scope_rng():
    # Given a scope without a random source (an interpreter bug, not user input)
    # When a UUID is asked for
    # Then it says what is missing
    with pytest.raises(ValueError, match="rng"):
        evaluate("States.UUID()", Scope(input={}))


def test_nested_calls_read_the_context_object():
    # Given the corpus' nested call on the state machine's name
    text = (
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
        "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))"
    )
    # When it is evaluated
    value = run(text, context={"StateMachine": {"Name": "my-state-machine"}})
    # Then it picks the last part of the name
    assert value == "machine"


def test_variables_are_read_from_the_scope():
    # Given variables, as in AWS's BASE_REFERENCE_IN_INTRINSIC_FUNCTION case
    variables = {"name": "John", "place": "LocalStack"}
    # When a call refers to them
    value = run("States.Format('Hello {}, welcome to {}!', $name, $place)", variables=variables)
    # Then their values are used
    assert value == "Hello John, welcome to LocalStack!"


@pytest.mark.parametrize(
    ("text", "data", "fragment"),
    [
        ("States.ArrayGetItem($.a, 5)", {"a": [1]}, "the index 5 is out of bounds"),
        ("States.ArrayPartition($.a, 0)", {"a": [1]}, "chunk size must be a positive integer"),
        ("States.ArrayRange(1, 5000, 1)", {}, "more than the 1000 allowed"),
        ("States.ArrayRange(1, 5, 0)", {}, "must not be 0"),
        ("States.Hash('x', 'SHA-3')", {}, "is not one of MD5, SHA-1"),
        ("States.JsonMerge($.a, $.a, true)", {"a": {}}, "only the shallow merge"),
        ("States.StringToJson($.s)", {"s": "{nope"}, "the string is not valid JSON"),
        ("States.Base64Decode($.s)", {"s": "***"}, "not Base64-encoded"),
        ("States.Base64Encode($.s)", {"s": "x" * 10_001}, "more than the 10000 allowed"),
        ("States.MathRandom(5, 5)", {}, "must be less than end"),
        (
            "States.ArrayLength($.a)",
            {"a": "text"},
            'expects argument 1 to be an array, but received "text"',
        ),
        (
            "States.ArrayGetItem($.a, $.i)",
            {"a": [1], "i": 1.5},
            "expects argument 2 to be an integer",
        ),
    ],
)
def test_unusable_arguments_are_intrinsic_failures(text, data, fragment):
    # Given arguments a function cannot use
    # When the call is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        run(text, data)
    # Then it fails as States.IntrinsicFailure saying why
    assert raised.value.name == ErrorName.INTRINSIC_FAILURE
    assert fragment in raised.value.detail


def test_a_path_argument_that_selects_nothing_is_a_runtime_error_worded_as_aws():
    # Given a path argument missing from the input
    # When the call is evaluated for a field
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate("States.Array($.nope)", scope_with({"a": 1}), field="value.$")
    # Then it is States.Runtime with AWS's "could not be found" wording
    assert raised.value.name == ErrorName.RUNTIME
    assert raised.value.detail == (
        "The JSONPath '$.nope' specified for the field 'value.$' could not be found "
        "in the input '{\"a\":1}'"
    )


def test_a_malformed_call_at_run_time_is_an_intrinsic_failure_not_a_traceback():
    # Given a call the validator would have refused
    # When it is evaluated anyway
    with pytest.raises(StatesRuntimeError) as raised:
        run("States.Nope()")
    # Then it fails as an ASL error
    assert raised.value.name == ErrorName.INTRINSIC_FAILURE


def test_evaluate_accepts_a_parsed_call():
    # Given a call parsed once
    call = parse_call("States.MathAdd($.a, 1)")
    # When it is evaluated against two inputs
    # Then each input gives its own result
    assert [run_call(call, {"a": n}) for n in (1, 2)] == [2, 3]


def run_call(call, data):
    return evaluate(call, scope_with(data))
