"""Regression tests for the engine bugs the fuzz suite (tests/fuzz) found, one per cause.

Each was a Python exception escaping the API, or an evaluation taking seconds to years or
GBs of memory; each is now an ASL error (or a validation diagnostic) within a bound.
Timing bounds are CPU seconds, generous for a busy 2-core machine; before each fix the
same case took from 25 s to forever.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from engine._api import Client
from engine._asl.load import load_definition_text
from engine._asl.model import Comparison
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._dataflow import intrinsics
from engine._dataflow.choice import evaluate_rule
from engine._dataflow.jsonata import check_syntax, evaluate_expression
from engine._dataflow.jsonpath import select
from engine._dataflow.scope import Scope
from engine._dataflow.sizes import ValueTooLarge
from engine._errors import DefinitionSyntaxError, ErrorName, InvalidExecutionInput, StatesError

Json = Any
ROLE = "arn:aws:iam::111111111111:role/r"
EVIL = "(a+)+b"  # backtracks exponentially in Python's re on "aaa...a!"


def cpu_seconds(action: Callable[[], Any]) -> tuple[float, Any]:
    """CPU time of ``action()`` and what it returned (or the StatesError it raised)."""
    started = time.process_time()
    try:
        outcome = action()
    except StatesError as error:
        outcome = error
    return time.process_time() - started, outcome


def jsonata(body: str, data: Json = None) -> Json:
    scope = Scope(input=data or {}, rng=random.Random(1))
    return evaluate_expression(f"{{% {body} %}}", scope, field="Output")


def intrinsic(call: str, data: Json = None) -> Json:
    return intrinsics.evaluate(call, Scope(input=data or {}, rng=random.Random(1)))


def error_name(outcome: Any) -> str:
    assert isinstance(outcome, StatesError), f"expected an ASL error, got {outcome!r}"
    return str(outcome.name)


# --- 1. user regexes run on RE2 (linear time) ------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        f"$count($match($pad('', 5000, 'a') & '!', /{EVIL}/))",
        f"$contains($pad('', 5000, 'a') & '!', /{EVIL}/)",
        f"$replace($pad('', 5000, 'a') & '!', /{EVIL}/, 'x') = $pad('', 5000, 'a') & '!'",
        f"$count($split($pad('', 5000, 'a') & '!', /{EVIL}/))",
    ],
)
def test_a_backtracking_jsonata_regex_runs_in_linear_time(body):
    # Given a regex that backtracks exponentially on 5,000 'a's and no 'b' (30 took 25 s)
    # When a JSONata function matches it
    seconds, value = cpu_seconds(lambda: jsonata(body))
    # Then it finds no match, at once
    assert value in (0, 1, False, True)
    assert seconds < 2


def test_a_regex_re2_cannot_run_is_a_validation_diagnostic():
    # Given a lookahead, which RE2 (linear time) does not support
    # When the definition's JSONata is checked
    problem = check_syntax("{% $match('ab', /a(?=b)/) %}")
    # Then it is a diagnostic naming the regex, not an exception
    assert problem is not None
    assert "S0303" in problem
    assert "/a(?=b)/" in problem


def test_a_backtracking_string_matches_pattern_runs_in_linear_time():
    # Given a StringMatches pattern of many stars against 5,000 'a's that cannot match
    rule = Comparison("$.s", "StringMatches", "*a*a*a*a*a*a*a*a*a*a*a*a*c")
    # When the rule is evaluated
    seconds, matched = cpu_seconds(lambda: evaluate_rule(rule, Scope(input={"s": "a" * 5000})))
    # Then it does not match, at once
    assert matched is False
    assert seconds < 2


def test_a_backtracking_jsonpath_filter_regex_runs_in_linear_time():
    # Given a JSONPath filter with =~ and a regex that backtracks
    data = {"items": [{"s": "a" * 5000 + "!"}, {"s": "ab"}]}
    # When the path is evaluated
    seconds, found = cpu_seconds(lambda: select(f"$.items[?(@.s =~ '{EVIL}')]", data))
    # Then only the matching item is selected, at once
    assert found == [{"s": "ab"}]
    assert seconds < 2


def test_a_lone_surrogate_in_the_text_is_matched_as_the_replacement_character():
    # Given text holding a lone surrogate (valid in JSON's escapes, not in UTF-8)
    # When a regex is matched against it
    value = jsonata("$replace($states.input.s, /b/, 'c')", {"s": "ab\ud800"})
    # Then RE2 reads it as U+FFFD and the rest of the text is kept
    assert value == "ac\ud800"


# --- 2. JSONata arrays are bounded before they are built ------------------------------


def test_a_range_too_large_to_leave_the_state_fails_before_it_is_built():
    # Given a range of 600,000 items: more than the 524,288 a 1 MiB build limit can hold
    # (the library refuses only ranges over 10,000,000, and [1..5000000] took 2.7 s)
    # When it is evaluated
    seconds, outcome = cpu_seconds(lambda: jsonata("$count([1..600000])"))
    # Then it fails with States.DataLimitExceeded at once
    assert isinstance(outcome, ValueTooLarge)
    assert seconds < 1


def test_many_large_arrays_exhaust_the_build_budget():
    # Given a map building a 500,000-item array for each of 500,000 items
    # When it is evaluated
    seconds, outcome = cpu_seconds(
        lambda: jsonata("$map([1..500000], function($v){ $append([1..500000], 1) })")
    )
    # Then it fails with States.QueryEvaluationError after a few arrays
    assert error_name(outcome) == ErrorName.QUERY_EVALUATION_ERROR
    assert "built arrays of more than" in str(outcome)
    assert seconds < 5


# --- 3. recursion and endless loops end as ASL errors ----------------------------------


def test_an_endless_jsonata_loop_is_stopped_by_the_step_budget():
    # Given a tail-recursive function that never returns
    # When it is evaluated
    seconds, outcome = cpu_seconds(lambda: jsonata("($f := function($n){ $f($n + 1) }; $f(0))"))
    # Then the step budget stops it with States.QueryEvaluationError (1,000,000 took 8-17 s)
    assert error_name(outcome) == ErrorName.QUERY_EVALUATION_ERROR
    assert "exceeded 250000 steps" in str(outcome)
    assert seconds < 6


def test_a_jsonata_expression_nested_deeper_than_the_parser_goes_is_a_diagnostic():
    # Given an expression nested 20,000 levels deep
    text = "{% " + "(" * 20_000 + "1" + ")" * 20_000 + " %}"
    # When it is checked
    problem = check_syntax(text)
    # Then it is a diagnostic, not a RecursionError
    assert problem is not None
    assert "nested too deeply" in problem


@pytest.mark.parametrize("body", ["!", "$x :=", "[1..", "{'a':"])
def test_text_the_jsonata_parser_chokes_on_is_a_diagnostic(body):
    # Given JSONata the library's parser fails on (with a KeyError for '!')
    # When it is checked
    problem = check_syntax(f"{{% {body} %}}")
    # Then it is a diagnostic naming the expression
    assert problem is not None
    assert f"'{body}' is invalid" in problem


def test_intrinsic_calls_nested_too_deep_are_an_intrinsic_failure():
    # Given States.Array nested 2,000 deep (a RecursionError before)
    call = "States.Array(" * 2000 + ")" * 2000
    # When it is evaluated
    _, outcome = cpu_seconds(lambda: intrinsic(call))
    # Then it is States.IntrinsicFailure naming the limit
    assert error_name(outcome) == ErrorName.INTRINSIC_FAILURE
    assert "nest at most 100 levels" in str(outcome)


def test_a_long_intrinsic_argument_list_parses_in_linear_time():
    # Given a call with 100,000 arguments (each copied the rest of the text before)
    call = "States.ArrayLength(States.Array(" + ", ".join(["1"] * 100_000) + "))"
    # When it is evaluated
    seconds, value = cpu_seconds(lambda: intrinsic(call))
    # Then it counts them at once
    assert value == 100_000
    assert seconds < 3


# --- 4. linear $spread, $replace and * ------------------------------------------------


def test_spread_of_many_objects_is_linear():
    # Given 100,000 objects (30 s before: each item copied the result so far)
    data = [{"k": index} for index in range(100_000)]
    # When they are spread
    seconds, value = cpu_seconds(lambda: jsonata("$count($spread($states.input))", data))
    # Then all are there, at once
    assert value == 100_000
    assert seconds < 3


def test_spread_keeps_the_librarys_results():
    # Given the shapes $spread treats differently
    # When they are spread
    # Then the results are the library's: objects split, arrays kept as arrays
    assert jsonata("$spread({'a': 1, 'b': 2})") == [{"a": 1}, {"b": 2}]
    assert jsonata("$spread([{'a': 1}])") == [{"a": 1}]
    assert jsonata("$spread('x')") == "x"


def test_replace_with_a_huge_limit_ends_at_the_last_match():
    # Given a limit of a billion replacements (the library re-ran the regex a billion times)
    # When it is evaluated
    seconds, value = cpu_seconds(lambda: jsonata("$replace('abcb', /b/, 'x', 1000000000)"))
    # Then every match is replaced, at once
    assert value == "axcx"
    assert seconds < 1


def test_replace_keeps_javascript_replacement_semantics():
    # Given replacement texts with $$, $0 and group references, and limits
    # When they replace
    # Then they read as in JavaScript (and as the library read them)
    assert jsonata(r"$replace('a1b22', /(\d)/, '<$1$$$0>')") == "a<1$1>b<2$2><2$2>"
    assert jsonata("$replace('abab', 'b', '[$0$1]')") == "a[b$1]a[b$1]"
    assert jsonata("$replace('aaa', /a/, 'b', 2)") == "bba"
    assert jsonata("$replace('ab', /a|b/, 'a', 2)") == "aa"


def test_a_literal_replace_of_many_matches_is_linear():
    # Given 262,144 occurrences of a literal pattern
    # When each is replaced
    seconds, value = cpu_seconds(
        lambda: jsonata("$length($replace($pad('', 262144, 'a'), 'a', 'bb'))")
    )
    # Then the result is built at once
    assert value == 524_288
    assert seconds < 1


def test_many_regex_matches_cost_evaluation_steps():
    # Given a regex matching 300,000 times (RE2's binding costs about 10 us per match)
    # When it replaces them
    _, outcome = cpu_seconds(lambda: jsonata("$replace($pad('', 300000, 'a'), /a/, 'b')"))
    # Then the matches spend the step budget like any other work
    assert error_name(outcome) == ErrorName.QUERY_EVALUATION_ERROR


def test_the_wildcard_flattens_member_arrays_linearly():
    # Given an object of 20,000 members, each an array
    data = {f"k{index}": [index, index] for index in range(20_000)}
    # When * collects their values
    seconds, value = cpu_seconds(lambda: jsonata("$count($states.input.*)", data))
    # Then all 40,000 are there, at once
    assert value == 40_000
    assert seconds < 2


# --- 5 and 6. intrinsic functions with hostile arguments ------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "States.ArrayRange(0, 99999999999999999999, 1)",  # len(range) overflowed
        "States.ArrayRange(0, 1" + "0" * 400 + ", 1)",  # float(int) overflowed
        "States.ArrayGetItem($.items, 1" + "0" * 400 + ")",
        "States.Base64Decode('é')",  # b64decode raised ValueError on non-ASCII text
        "States.Base64Decode('ÿÿÿÿ')",
        "States.StringToJson('1e400')",  # parsed as Infinity
        "States.StringToJson('NaN')",
    ],
)
def test_a_hostile_intrinsic_argument_is_an_intrinsic_failure(call):
    # Given an intrinsic call whose arguments used to raise a Python exception
    # When it is evaluated
    _, outcome = cpu_seconds(lambda: intrinsic(call, {"items": [1]}))
    # Then it fails with States.IntrinsicFailure
    assert error_name(outcome) == ErrorName.INTRINSIC_FAILURE


def test_an_out_of_range_number_literal_is_an_intrinsic_failure():
    # Given a number literal too large for a double
    # When the call is evaluated
    _, outcome = cpu_seconds(lambda: intrinsic("States.MathAdd(1e400, 1)"))
    # Then it is States.IntrinsicFailure, not OverflowError from math.floor(inf)
    assert error_name(outcome) == ErrorName.INTRINSIC_FAILURE
    assert "out of range" in str(outcome)


def test_array_range_counts_as_before():
    # Given ranges up and down
    # When they are built
    # Then they hold the same items as before the change
    assert intrinsic("States.ArrayRange(1, 10, 3)") == [1, 4, 7, 10]
    assert intrinsic("States.ArrayRange(10, 1, -3)") == [10, 7, 4, 1]
    assert intrinsic("States.ArrayRange(5, 1, 1)") == []


# --- 7. deep, cyclic and non-JSON input ------------------------------------------------


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', '{"a": 1e400}'])
def test_an_execution_input_json_cannot_hold_is_refused(text):
    # Given an input Python's parser accepts but JSON has no value for
    clock = FakeClock()
    client = Client(LocalBackend(clock=clock), clock=clock)
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(name="m", definition=json.dumps(machine), roleArn=ROLE)
    # When an execution starts with it
    # Then it is InvalidExecutionInput (it came back as NaN in the output before)
    with pytest.raises(InvalidExecutionInput):
        client.start_execution(stateMachineArn=arn["stateMachineArn"], input=text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("&a [*a]", "a cycle"),
        ("a: &a [*a, *a]\n", "a cycle"),
        (
            "a: &a [1,2,3,4,5,6,7,8,9,10]\n"
            + "".join(
                f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
                for previous, name in zip("abcde", "bcdef", strict=True)
            ),
            "more than 1000000 values",
        ),
    ],
)
def test_a_yaml_definition_with_cyclic_or_exploding_aliases_is_refused(text, reason):
    # Given YAML whose aliases form a cycle (walking it never ended) or expand 10^6 times
    # When it is loaded as a definition
    # Then it is a syntax error naming the reason
    with pytest.raises(DefinitionSyntaxError, match=reason):
        load_definition_text(text)


def test_yaml_merge_keys_still_work():
    # Given YAML reusing a mapping through an alias and a merge key
    text = "base: &b {Type: Pass}\nStates:\n  A:\n    <<: *b\n    End: true\n"
    # When it is loaded
    # Then the alias is expanded
    assert load_definition_text(text)["States"]["A"] == {"Type": "Pass", "End": True}
