import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._asl.model import And, Comparison, Condition, Not, Or
from engine._dataflow.choice import evaluate_rule
from engine._dataflow.scope import Scope
from engine._errors import ErrorName, StatesRuntimeError

STRING_OPERATORS = [
    "StringEquals",
    "StringLessThan",
    "StringGreaterThan",
    "StringLessThanEquals",
    "StringGreaterThanEquals",
]
NUMERIC_OPERATORS = [
    "NumericEquals",
    "NumericLessThan",
    "NumericGreaterThan",
    "NumericLessThanEquals",
    "NumericGreaterThanEquals",
]
TIMESTAMP_OPERATORS = [
    "TimestampEquals",
    "TimestampLessThan",
    "TimestampGreaterThan",
    "TimestampLessThanEquals",
    "TimestampGreaterThanEquals",
]
LITERAL_OPERATORS = [*STRING_OPERATORS, *NUMERIC_OPERATORS, *TIMESTAMP_OPERATORS, "BooleanEquals"]
NON_STRINGS = [None, 0, 1.5, True, False, [], [""], {}, {"A": 0}]
NON_NUMBERS = [None, "", "1", "1.0", True, False, [], [1], {}, {"A": 0}]


def compare(operator, value, operand):
    """Evaluate `$.Variable <operator> operand` on the input {"Variable": value}."""
    rule = Comparison("$.Variable", operator, operand)
    return evaluate_rule(rule, Scope(input={"Variable": value}))


def compare_paths(operator, value, operand):
    """Evaluate `$.Variable <operator>Path $.Value` on {"Variable": value, "Value": operand}."""
    rule = Comparison("$.Variable", operator + "Path", "$.Value")
    return evaluate_rule(rule, Scope(input={"Variable": value, "Value": operand}))


# --- string operators -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("StringEquals", "Hello", "Hello", True),
        ("StringEquals", " ", "     ", False),
        ("StringEquals", "\t\n", "\t\r\n", False),
        ("StringEquals", "hello", "Hello", False),
        ("StringLessThan", "A", "AB", True),
        ("StringLessThan", "AB", "A", False),
        ("StringLessThan", "", "", False),
        ("StringGreaterThan", "B", "AZ", True),
        ("StringGreaterThan", "A", "A ", False),
        ("StringGreaterThan", "", "", False),
        ("StringLessThanEquals", "", "", True),
        ("StringLessThanEquals", "A", "AB", True),
        ("StringLessThanEquals", "AB", "A", False),
        ("StringGreaterThanEquals", "AB", "A", True),
        ("StringGreaterThanEquals", "A", "AB", False),
        ("StringGreaterThanEquals", "", "", True),
        ("StringLessThan", "Z", "a", True),  # upper case sorts before lower case
    ],
)
def test_string_operators_compare_strings(operator, value, operand, expected):
    # Given a string Variable and a string operand
    # When the operator and its Path form are evaluated
    # Then both give AWS's verdict
    assert compare(operator, value, operand) is expected
    assert compare_paths(operator, value, operand) is expected


@pytest.mark.parametrize("operator", STRING_OPERATORS)
@pytest.mark.parametrize("value", NON_STRINGS)
def test_string_operators_are_false_for_a_non_string_variable(operator, value):
    # Given a Variable that is not a string
    # When / Then no string operator matches, and none raises
    assert compare(operator, value, "HelloWorld") is False
    assert compare_paths(operator, value, "HelloWorld") is False


@pytest.mark.parametrize("operator", STRING_OPERATORS)
@pytest.mark.parametrize("operand", NON_STRINGS)
def test_string_path_operators_are_false_when_the_path_selects_a_non_string(operator, operand):
    # Given a string Variable and a *Path operand that selects a non-string
    # When / Then the comparison is false
    assert compare_paths(operator, "HelloWorld", operand) is False


def test_string_ordering_is_by_utf16_code_unit_as_in_java():
    # Given a character beyond the BMP (a surrogate pair in UTF-16) and U+FFFF
    astral, last_bmp = "\U0001f600", "\uffff"
    # When they are compared
    # Then the surrogate pair (0xD83D ...) sorts before 0xFFFF, unlike code-point order
    assert compare("StringLessThan", astral, last_bmp) is True
    assert compare("StringGreaterThan", last_bmp, astral) is True


# --- StringMatches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("foo23.log", "foo*.log", True),
        ("zebra.log", "*.log", True),
        ("foobar.zebra", "foo*.*", True),
        ("foo.log", "foo*.log", True),  # * matches nothing too
        ("foo.txt", "foo*.log", False),
        ("", "*", True),
        ("", "", True),
        ("a", "", False),
        ("abc", "a.c", False),  # no character but * is special
        ("a.c", "a.c", True),
        ("a?c", "a?c", True),
        ("abc", "a?c", False),
        ("[x]", "[x]", True),
        ("line1\nline2", "line1*line2", True),
        ("a*b", "a\\*b", True),  # \* is a literal star
        ("axb", "a\\*b", False),
        ("a\\b", "a\\\\b", True),  # \\ is a literal backslash
        ("a\\xyzb", "a\\\\*b", True),
        ("Hello", "hello", False),
    ],
)
def test_string_matches_uses_aws_wildcards(value, pattern, expected):
    # Given a string and a StringMatches pattern
    # When / Then only * is a wildcard, and \* / \\ escape
    assert compare("StringMatches", value, pattern) is expected


@pytest.mark.parametrize("value", NON_STRINGS)
def test_string_matches_is_false_for_a_non_string_variable(value):
    assert compare("StringMatches", value, "*") is False


# --- numeric operators ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("NumericEquals", 0, 0, True),
        ("NumericEquals", 0, 0.0, True),
        ("NumericEquals", 1.0, 1, True),
        ("NumericEquals", 2.22, 2.22, True),
        ("NumericEquals", 1.1, 1, False),
        ("NumericEquals", 2**63 + 1, 2**63, False),  # large integers compare exactly
        ("NumericLessThan", 0, 1, True),
        ("NumericLessThan", 1, 1, False),
        ("NumericLessThan", -2.5, -2, True),
        ("NumericGreaterThan", 1, 0.5, True),
        ("NumericGreaterThan", 1, 1.0, False),
        ("NumericLessThanEquals", 1, 1.0, True),
        ("NumericLessThanEquals", 1, 0, False),
        ("NumericGreaterThanEquals", 0.0, 0, True),
        ("NumericGreaterThanEquals", 0, 1, False),
    ],
)
def test_numeric_operators_compare_numbers_by_value(operator, value, operand, expected):
    # Given numbers, ints and floats mixed
    # When the operator and its Path form are evaluated
    # Then they compare as numbers
    assert compare(operator, value, operand) is expected
    assert compare_paths(operator, value, operand) is expected


@pytest.mark.parametrize("operator", NUMERIC_OPERATORS)
@pytest.mark.parametrize("value", NON_NUMBERS)
def test_numeric_operators_are_false_for_a_non_number_variable(operator, value):
    # Given a Variable that is not a number (booleans and numeric strings included)
    # When / Then no numeric operator matches, even against 0 or 1
    assert compare(operator, value, 0) is False
    assert compare(operator, value, 1) is False
    assert compare_paths(operator, value, 1) is False


@pytest.mark.parametrize("operator", NUMERIC_OPERATORS)
@pytest.mark.parametrize("operand", NON_NUMBERS)
def test_numeric_path_operators_are_false_when_the_path_selects_a_non_number(operator, operand):
    assert compare_paths(operator, 1, operand) is False


# --- BooleanEquals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "operand", "expected"),
    [(True, True, True), (False, False, True), (True, False, False), (False, True, False)],
)
def test_boolean_equals_compares_booleans(value, operand, expected):
    assert compare("BooleanEquals", value, operand) is expected
    assert compare_paths("BooleanEquals", value, operand) is expected


@pytest.mark.parametrize("value", [None, 0, 1, 0.0, 1.1, "", "true", "false", [], {}])
def test_boolean_equals_is_false_for_a_non_boolean_variable(value):
    # Given a Variable that is not a boolean (0 and 1 included)
    # When / Then BooleanEquals matches neither true nor false
    assert compare("BooleanEquals", value, True) is False
    assert compare("BooleanEquals", value, False) is False


@pytest.mark.parametrize("operand", [None, 0, 1, "true", []])
def test_boolean_equals_path_is_false_when_the_path_selects_a_non_boolean(operand):
    assert compare_paths("BooleanEquals", True, operand) is False


# --- timestamp operators ----------------------------------------------------------------

EARLY, LATE = "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z"
NANO, NANO_PLUS_ONE = "2016-03-05T21:29:29.243167252Z", "2016-03-05T21:29:29.243167253Z"


@pytest.mark.parametrize(
    ("operator", "value", "operand", "expected"),
    [
        ("TimestampEquals", EARLY, EARLY, True),
        ("TimestampEquals", EARLY, LATE, False),
        ("TimestampEquals", EARLY, "2012-10-09T20:00:55+01:00", True),  # same instant
        ("TimestampEquals", EARLY, "2012-10-09T19:00:55.000000000Z", True),
        ("TimestampEquals", NANO, NANO_PLUS_ONE, False),  # nanoseconds count
        ("TimestampLessThan", NANO, NANO_PLUS_ONE, True),
        ("TimestampLessThan", EARLY, LATE, True),
        ("TimestampLessThan", LATE, EARLY, False),
        ("TimestampLessThan", EARLY, EARLY, False),
        ("TimestampGreaterThan", LATE, EARLY, True),
        ("TimestampGreaterThan", EARLY, EARLY, False),
        ("TimestampGreaterThan", "2012-10-09T19:00:55-00:01", EARLY, True),
        ("TimestampLessThanEquals", EARLY, EARLY, True),
        ("TimestampLessThanEquals", LATE, EARLY, False),
        ("TimestampGreaterThanEquals", EARLY, EARLY, True),
        ("TimestampGreaterThanEquals", EARLY, LATE, False),
    ],
)
def test_timestamp_operators_compare_instants(operator, value, operand, expected):
    # Given two timestamps
    # When the operator and its Path form are evaluated
    # Then they compare as instants
    assert compare(operator, value, operand) is expected
    assert compare_paths(operator, value, operand) is expected


@pytest.mark.parametrize("operator", TIMESTAMP_OPERATORS)
@pytest.mark.parametrize(
    "value",
    [*NON_STRINGS, "", " ", "2012-10-09T19:00:55", "2023-02-24 12:15:56.832957", "2023-02-24"],
)
def test_timestamp_operators_are_false_for_a_non_timestamp_variable(operator, value):
    # Given a Variable that is not a valid timestamp (or not a string at all)
    # When / Then no timestamp operator matches
    assert compare(operator, value, EARLY) is False
    assert compare_paths(operator, value, EARLY) is False


@pytest.mark.parametrize("operator", TIMESTAMP_OPERATORS)
@pytest.mark.parametrize("operand", [None, 0, "not a timestamp", "2012-10-09T19:00:55"])
def test_timestamp_path_operators_are_false_when_the_path_selects_a_non_timestamp(
    operator, operand
):
    assert compare_paths(operator, EARLY, operand) is False


# --- Is* operators ----------------------------------------------------------------------

IS_CASES = [
    # value, IsNull, IsNumeric, IsString, IsBoolean, IsTimestamp
    (None, True, False, False, False, False),
    (0, False, True, False, False, False),
    (1.1, False, True, False, False, False),
    ("", False, False, True, False, False),
    ("2012-10-09T19:00:55", False, False, True, False, False),
    ("2012-10-09T19:00:55Z", False, False, True, False, True),
    ("2012-10-09T19:00:55+01:00", False, False, True, False, True),
    (True, False, False, False, True, False),
    (False, False, False, False, True, False),
    ([], False, False, False, False, False),
    ([""], False, False, False, False, False),
    ({}, False, False, False, False, False),
    ({"A": 0}, False, False, False, False, False),
]
IS_OPERATORS = ["IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]


@pytest.mark.parametrize("case", IS_CASES, ids=lambda case: repr(case[0]))
@pytest.mark.parametrize("index", range(len(IS_OPERATORS)), ids=IS_OPERATORS)
def test_is_operators_test_the_json_type(case, index):
    # Given a value and the verdict each Is* operator should reach on it
    value, verdict = case[0], case[1 + index]
    operator = IS_OPERATORS[index]
    # When the operator is asked for true and for false
    # Then it matches exactly when the verdict equals the literal
    assert compare(operator, value, True) is verdict
    assert compare(operator, value, False) is (not verdict)


@pytest.mark.parametrize("value", [None, 0, "", False, [], {}])
def test_is_present_is_true_for_any_selected_value_including_null(value):
    assert compare("IsPresent", value, True) is True
    assert compare("IsPresent", value, False) is False


def test_is_present_is_false_for_a_missing_path_instead_of_an_error():
    # Given an input without the field
    scope = Scope(input={"Other": 1})
    # When IsPresent is evaluated on it
    # Then it reports absence rather than raising
    assert evaluate_rule(Comparison("$.Variable", "IsPresent", True), scope) is False
    assert evaluate_rule(Comparison("$.Variable", "IsPresent", False), scope) is True


# --- missing paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand"),
    [
        ("StringEquals", "x"),
        ("StringMatches", "*"),
        ("NumericEquals", 1),
        ("BooleanEquals", True),
        ("TimestampEquals", EARLY),
        ("IsNull", True),
        ("IsString", False),
    ],
)
def test_a_missing_variable_is_a_states_runtime_error(operator, operand):
    # Given an input without the Variable's field
    rule = Comparison("$.Missing", operator, operand)
    # When the rule is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_rule(rule, Scope(input={"Variable": 1}))
    # Then AWS's States.Runtime error names the path
    assert raised.value.name == ErrorName.RUNTIME
    assert raised.value.detail == (
        "Invalid path '$.Missing': The choice state's condition path references an invalid value."
    )


def test_a_missing_path_operand_is_a_states_runtime_error_naming_that_path():
    # Given a *Path operator whose operand path selects nothing
    rule = Comparison("$.Variable", "NumericEqualsPath", "$.Nothing")
    # When the rule is evaluated
    with pytest.raises(StatesRuntimeError) as raised:
        evaluate_rule(rule, Scope(input={"Variable": 1}))
    # Then the error names the operand's path
    assert raised.value.name == ErrorName.RUNTIME
    assert "Invalid path '$.Nothing'" in raised.value.detail


# --- where paths read from --------------------------------------------------------------


def test_variable_can_read_the_context_object():
    # Given the execution input in the context object
    scope = Scope(input={}, context={"Execution": {"Input": {"n": 0}}})
    rule = Comparison("$$.Execution.Input.n", "NumericLessThanEquals", 0)
    # When / Then the rule reads $$
    assert evaluate_rule(rule, scope) is True


def test_variable_can_read_the_whole_input():
    assert evaluate_rule(Comparison("$", "NumericEquals", 3), Scope(input=3)) is True
    assert evaluate_rule(Comparison("$", "IsNumeric", True), Scope(input="3")) is False


def test_variable_and_path_operand_can_read_workflow_variables():
    # Given two Assign variables
    scope = Scope(input={}, variables={"guess": "the_guess", "answer": "the_answer"})
    # When a rule compares them
    rule = Comparison("$guess", "StringEqualsPath", "$answer")
    # Then it reads both from the variables
    assert evaluate_rule(rule, scope) is False
    same = Scope(input={}, variables={"guess": "the_answer", "answer": "the_answer"})
    assert evaluate_rule(rule, same) is True


def test_variable_can_select_inside_a_workflow_variable():
    scope = Scope(input={}, variables={"order": {"total": 12.5}})
    assert evaluate_rule(Comparison("$order.total", "NumericGreaterThan", 10), scope) is True


def test_an_undefined_workflow_variable_is_missing():
    # Given no variable named `nope`
    scope = Scope(input={"nope": 1}, variables={})
    # When / Then IsPresent says absent and a comparison raises States.Runtime
    assert evaluate_rule(Comparison("$nope", "IsPresent", True), scope) is False
    with pytest.raises(StatesRuntimeError, match=r"Invalid path '\$nope'"):
        evaluate_rule(Comparison("$nope", "NumericEquals", 1), scope)


def test_a_path_operand_reads_the_context_object():
    scope = Scope(input={"Variable": "x"}, context={"State": {"Name": "x"}})
    rule = Comparison("$.Variable", "StringEqualsPath", "$$.State.Name")
    assert evaluate_rule(rule, scope) is True


# --- composite rules --------------------------------------------------------------------

TRUE = Comparison("$", "IsNull", False)
FALSE = Comparison("$", "IsNull", True)
MISSING = Comparison("$.nowhere", "NumericEquals", 1)
SCOPE = Scope(input={"a": 1})


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (Not(TRUE), False),
        (Not(FALSE), True),
        (Not(Not(TRUE)), True),
        (And((TRUE,)), True),
        (And((TRUE, TRUE)), True),
        (And((TRUE, FALSE)), False),
        (Or((FALSE,)), False),
        (Or((FALSE, TRUE)), True),
        (Or((FALSE, FALSE)), False),
        (And((TRUE, Or((FALSE, Not(FALSE))))), True),
    ],
)
def test_composite_rules_combine_their_rules(rule, expected):
    assert evaluate_rule(rule, SCOPE) is expected


def test_and_or_stop_at_the_deciding_rule():
    # Given a later rule whose path is missing
    # When an earlier rule already decides And / Or
    # Then the missing path is never read
    assert evaluate_rule(And((FALSE, MISSING)), SCOPE) is False
    assert evaluate_rule(Or((TRUE, MISSING)), SCOPE) is True


def test_a_missing_path_inside_a_composite_rule_still_raises():
    with pytest.raises(StatesRuntimeError):
        evaluate_rule(Not(MISSING), SCOPE)
    with pytest.raises(StatesRuntimeError):
        evaluate_rule(And((TRUE, MISSING)), SCOPE)


def test_map_break_condition_from_the_corpus():
    # Given the corpus' And(IsPresent, And(IsNumeric, NumericEquals 3)) on each Map item
    rule = And(
        (
            Comparison("$", "IsPresent", True),
            And((Comparison("$", "IsNumeric", True), Comparison("$", "NumericEquals", 3))),
        )
    )
    items = [1, "Hello", {}, 3.3, 3, 4, 5]
    # When it is evaluated on each item
    verdicts = [evaluate_rule(rule, Scope(input=item)) for item in items]
    # Then only the 3 matches
    assert verdicts == [False, False, False, False, True, False, False]


# --- refusals ---------------------------------------------------------------------------


def test_a_jsonata_condition_is_refused():
    with pytest.raises(TypeError, match="interpreter"):
        evaluate_rule(Condition("{% true %}"), SCOPE)


@pytest.mark.parametrize("operator", ["StringContains", "IsPresentPath", "StringMatchesPath"])
def test_an_unknown_operator_is_refused(operator):
    with pytest.raises(TypeError, match="unknown Choice comparison operator"):
        evaluate_rule(Comparison("$.a", operator, "$.a"), SCOPE)


# --- properties -------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)
numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
operators = st.sampled_from([*LITERAL_OPERATORS, *IS_OPERATORS, "StringMatches", "IsPresent"])


@st.composite
def comparisons(draw):
    """A comparison on `$.v` whose operand is of the operator's own type."""
    operator = draw(operators)
    if operator.startswith("Is") or operator == "BooleanEquals":
        operand = draw(st.booleans())
    elif operator.startswith("Numeric"):
        operand = draw(numbers)
    elif operator.startswith("Timestamp"):
        operand = draw(st.sampled_from([EARLY, LATE, "2012-10-09T19:00:55+01:00"]))
    else:
        operand = draw(st.text(max_size=5))
    return Comparison("$.v", operator, operand)


@given(comparisons(), json_values)
def test_property_not_negates_any_comparison(rule, value):
    # Given any comparison and any JSON value
    scope = Scope(input={"v": value})
    # When / Then Not(rule) is the opposite of rule, and nothing raises for wrong types
    assert evaluate_rule(Not(rule), scope) is (not evaluate_rule(rule, scope))


@given(numbers, numbers)
def test_property_numeric_less_than_mirrors_greater_than(a, b):
    # Given two numbers
    # When a < b and b > a are asked
    less = evaluate_rule(Comparison("$", "NumericLessThan", b), Scope(input=a))
    greater = evaluate_rule(Comparison("$", "NumericGreaterThan", a), Scope(input=b))
    # Then the answers agree, and with Python's own comparison
    assert less is greater is (a < b)


@given(st.text(max_size=6), st.text(max_size=6))
def test_property_string_order_is_total_and_consistent(a, b):
    # Given two strings
    less = compare("StringLessThan", a, b)
    equal = compare("StringEquals", a, b)
    greater = compare("StringGreaterThan", a, b)
    # When / Then exactly one of <, =, > holds, and <= / >= agree with them
    assert [less, equal, greater].count(True) == 1
    assert compare("StringLessThanEquals", a, b) is (less or equal)
    assert compare("StringGreaterThanEquals", a, b) is (greater or equal)
    assert equal is (a == b)


@given(st.text(max_size=10))
def test_property_string_matches_a_pattern_without_wildcards_only_itself(text):
    # Given a text, escaped so that no character is a wildcard
    pattern = text.replace("\\", "\\\\").replace("*", "\\*")
    # When / Then the pattern matches exactly that text
    assert compare("StringMatches", text, pattern) is True
    assert compare("StringMatches", text + "x", pattern) is False


@given(st.lists(st.booleans(), min_size=1, max_size=4))
def test_property_and_or_follow_all_and_any(verdicts):
    # Given rules with known verdicts
    rules = tuple(TRUE if verdict else FALSE for verdict in verdicts)
    # When / Then And is all() and Or is any()
    assert evaluate_rule(And(rules), SCOPE) is all(verdicts)
    assert evaluate_rule(Or(rules), SCOPE) is any(verdicts)
