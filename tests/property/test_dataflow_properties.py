"""Properties of the data-flow layer: round trips, partitions and copy-on-write paths."""

import copy
import random

from hypothesis import given
from hypothesis import strategies as st

from engine._dataflow.intrinsics import evaluate
from engine._dataflow.jsonpath import PathNotWritableError, select, set_path
from engine._dataflow.scope import Scope

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
names = st.text(min_size=1, max_size=8)


def run(text, data, seed=0):
    return evaluate(text, Scope(input=data, rng=random.Random(seed)))


def bracket_path(steps):
    quoted = (step.replace("\\", "\\\\").replace("'", "\\'") for step in steps)
    return "$" + "".join(f"['{name}']" for name in quoted)


@given(st.text(max_size=2_000))
def test_base64_decode_undoes_base64_encode(text):
    # Given any text
    # When it is encoded then decoded
    value = run("States.Base64Decode(States.Base64Encode($.s))", {"s": text})
    # Then the text comes back
    assert value == text


@given(st.lists(json_values, max_size=30), st.integers(min_value=1, max_value=12))
def test_concatenated_partitions_are_the_input(items, size):
    # Given an array and a chunk size
    # When it is partitioned
    chunks = run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})
    # Then the chunks, in order, are the array; all are full but possibly the last
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])
    assert all(0 < len(chunk) <= size for chunk in chunks)


@given(st.lists(json_values, max_size=15))
def test_array_length_counts_the_arguments_of_array(items):
    # Given n values
    arguments = ", ".join(f"$.a[{index}]" for index in range(len(items)))
    # When they are gathered with States.Array and counted
    value = run(f"States.ArrayLength(States.Array({arguments}))", {"a": items})
    # Then the count is n
    assert value == len(items)


@given(json_values)
def test_string_to_json_undoes_json_to_string(value):
    # Given any JSON value
    # When it is serialised then parsed
    result = run("States.StringToJson(States.JsonToString($.v))", {"v": value})
    # Then the value comes back
    assert result == value


@given(json_objects, json_objects)
def test_json_merge_is_shallow_with_the_second_object_winning(first, second):
    # Given two objects
    # When they are merged
    merged = run("States.JsonMerge($.a, $.b, false)", {"a": first, "b": second})
    # Then every key of the second keeps its value and the first fills the rest
    assert set(merged) == set(first) | set(second)
    assert all(merged[key] == value for key, value in second.items())
    assert all(merged[key] == value for key, value in first.items() if key not in second)


@given(st.lists(json_values, max_size=20))
def test_array_unique_keeps_one_of_each_in_first_seen_order(items):
    # Given an array with possible duplicates
    # When duplicates are removed
    unique = run("States.ArrayUnique($.a)", {"a": items})
    # Then applying it again changes nothing and nothing new appeared
    assert run("States.ArrayUnique($.a)", {"a": unique}) == unique
    assert all(item in items for item in unique)


@given(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.integers(min_value=-(2**40), max_value=2**40),
)
def test_math_add_of_integers_is_their_sum(a, b):
    # Given two integers
    # When they are added
    # Then the sum is exact
    assert run("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == a + b


@given(st.integers(min_value=0, max_value=2**32))
def test_uuid_and_math_random_replay_identically_from_the_same_seed(seed):
    # Given one rng seed
    text = "States.Array(States.UUID(), States.MathRandom(0, 1000))"
    # When the random functions run twice from it
    # Then they give the same values
    assert run(text, {}, seed) == run(text, {}, seed)


@given(json_objects, st.lists(names, min_size=1, max_size=4), json_values)
def test_set_path_then_select_gives_the_value_and_keeps_the_original(data, steps, value):
    # Given an object, a path of names (any characters, in bracket notation) and a value
    original = copy.deepcopy(data)
    path = bracket_path(steps)
    # When the value is written at the path
    try:
        updated = set_path(data, path, value)
    except PathNotWritableError:
        # Then writing fails only when the path crosses something that is not an object
        assert any(_crosses_non_object(data, steps[:depth]) for depth in range(1, len(steps)))
        return
    # Then reading the path gives the value, and the original is untouched
    assert select(path, updated) == value
    assert data == original


def _crosses_non_object(data, steps):
    current = data
    for step in steps:
        if not isinstance(current, dict) or step not in current:
            return False
        current = current[step]
    return not isinstance(current, dict)
