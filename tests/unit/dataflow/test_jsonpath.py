"""The JSONPath wrapper: Jayway (AWS) semantics on top of jsonpath-ng."""

import pytest

from engine._dataflow.jsonpath import (
    InvalidPathError,
    PathNotFound,
    PathNotWritableError,
    check_path_syntax,
    check_reference_path_syntax,
    is_definite,
    query,
    select,
    set_path,
    split_root,
)
from engine._dataflow.scope import Scope

DATA = {
    "a": {"b": [10, 20, {"c": 3}]},
    "input-value": 0,
    "año": "ñ",
    "1st": "first",
    "with space": 1,
    "users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.a.b[2].c", 3),
        ("$.a.b[0]", 10),
        ("$.a.b[-1]", {"c": 3}),
        ("$['a']['b'][1]", 20),
        ('$["a"].b[1]', 20),
        ("$.input-value", 0),
        ("$.año", "ñ"),
        ("$.1st", "first"),
        ("$['with space']", 1),
    ],
)
def test_a_definite_path_selects_the_value_itself(path, expected):
    # Given data and a definite path
    # When it is selected
    value = select(path, DATA)
    # Then the value comes back unwrapped
    assert value == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.a.b[*]", [10, 20, {"c": 3}]),
        ("$.a.b[0:2]", [10, 20]),
        ("$.a.b[:1]", [10]),
        ("$.a.b[-2:]", [20, {"c": 3}]),
        ("$.a.b[0,1]", [10, 20]),
        ("$..c", [3]),
        ("$.users[?(@.status == 0)]", [{"year": 1997, "status": 0}]),
        ("$.users[*].year", [1997, 1998]),
    ],
)
def test_an_indefinite_path_selects_a_list(path, expected):
    # Given an indefinite path (wildcard, slice, union, deep scan or filter)
    # When it is selected
    value = select(path, DATA)
    # Then a list of the matches comes back
    assert value == expected


@pytest.mark.parametrize(
    "path",
    ["$.item.items[1:5].itemValue", "$.item.items[:1]", "$.items[*]", "$[*]", "$..nothing"],
)
def test_an_indefinite_path_that_matches_nothing_selects_an_empty_list(path):
    # Given an empty input, as in AWS's JSON_PATH_ARRAY_ACCESS cases
    # When an indefinite path is selected
    value = select(path, {})
    # Then it is an empty list, not an error
    assert value == []


@pytest.mark.parametrize(
    ("path", "data", "detail"),
    [
        ("$.NoSuchInputPath", {"int-literal": 0}, "No results for path: $['NoSuchInputPath']"),
        ("$.no.such.result.path", {}, "Missing property in path $['no']"),
        ("$.a.x", DATA, "No results for path: $['a']['x']"),
        ("$.a.b[7]", DATA, "No results for path: $['a']['b'][7]"),
        ("$.a[0]", {"a": None}, "The path $['a'] is null"),
        (
            "$.a[0]",
            {"a": {"k": 1}},
            'Filter: [0] can only be applied to arrays. Current context is: {"k":1}',
        ),
    ],
)
def test_a_definite_path_that_selects_nothing_fails_with_jayways_detail(path, data, detail):
    # Given a definite path that selects nothing
    # When it is selected
    with pytest.raises(PathNotFound) as raised:
        select(path, data)
    # Then the error carries the path and Jayway's explanation
    assert raised.value.path == path
    assert raised.value.detail == detail


def test_a_name_on_a_non_object_names_the_java_type_jayway_found():
    # Given a path that reads a member of a string
    # When it is selected
    with pytest.raises(PathNotFound) as raised:
        select("$.s.x", {"s": "text"})
    # Then Jayway's message names what it found there
    assert raised.value.detail.startswith(
        "Expected to find an object with property ['x'] in path $['s'] "
        "but found 'java.lang.String'."
    )


def test_a_quoted_bracket_name_keeps_a_backslash_that_escapes_nothing():
    # Given a key holding a backslash and quotes (AWS's ESCAPE_SEQUENCES_JSONPATH case)
    data = {'Test\\""Name"': 'Value"\\'}
    # When the key is selected with Jayway's bracket notation
    value = select('$[\'Test\\""Name"\']', data)
    # Then the backslash was part of the name, not an escape
    assert value == 'Value"\\'


def test_a_quoted_bracket_name_may_escape_its_own_quote():
    # Given a key with a single quote
    # When it is selected with the quote escaped
    value = select("$['it\\'s']", {"it's": 1})
    # Then the escape is honoured
    assert value == 1


@pytest.mark.parametrize(
    ("path", "kind", "name", "rest"),
    [
        ("$", "input", None, "$"),
        ("$.a", "input", None, "$.a"),
        ("$[0]", "input", None, "$[0]"),
        ("$$", "context", None, "$"),
        ("$$.Execution.Input", "context", None, "$.Execution.Input"),
        ("$x", "variable", "x", "$"),
        ("$my_var.a[0]", "variable", "my_var", "$.a[0]"),
    ],
)
def test_a_path_splits_into_its_root_and_a_dollar_rooted_rest(path, kind, name, rest):
    # Given a path of any root
    # When it is split
    # Then the root kind, variable name and remaining JSONPath come back
    assert split_root(path) == (kind, name, rest)


def test_query_reads_input_context_and_variables():
    # Given a scope with an input, a context object and a variable
    scope = Scope(
        input={"a": 1},
        context={"Execution": {"Name": "run-1"}},
        variables={"order": {"items": [5, 6]}},
    )
    # When paths of each root are queried
    values = [query(p, scope) for p in ("$.a", "$$.Execution.Name", "$order.items[1]", "$order")]
    # Then each reads its own root
    assert values == [1, "run-1", 6, {"items": [5, 6]}]


def test_query_of_an_undefined_variable_selects_nothing():
    # Given a scope without the variable
    # When the variable is queried
    with pytest.raises(PathNotFound) as raised:
        query("$missing.x", Scope(input={}))
    # Then the failure says which variable is not defined
    assert "missing" in raised.value.detail


@pytest.mark.parametrize(
    "path",
    ["$", "$.a", "$.a[0].b", "$$", "$$.Execution.Input", "$var", "$var.x[1]", "$..guid", "$.a[*]"],
)
def test_valid_paths_pass_the_syntax_check(path):
    # Given a valid path of any root
    # When its syntax is checked
    # Then there is no problem
    assert check_path_syntax(path) is None


@pytest.mark.parametrize(
    "path",
    [
        "..guid",
        ".guid",
        "()",
        "$...",
        "$$23",
        "23",
        "not a path",
        "bug$.library.movies",
        "$.a.$",
        "$.a where b",
        "$.a.`len`",
        "States.Format('{}', 1)",
    ],
)
def test_invalid_paths_fail_the_syntax_check_with_a_reason(path):
    # Given an invalid path (from the linters' corpus cases, among others)
    # When its syntax is checked
    problem = check_path_syntax(path)
    # Then a message quotes the path
    assert problem is not None
    assert f"'{path}'" in problem


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b[0]", "$['x y']"])
def test_definite_input_paths_are_reference_paths(path):
    # Given a definite $-rooted path
    # When it is checked as a Reference Path
    # Then it is accepted
    assert check_reference_path_syntax(path) is None


@pytest.mark.parametrize("path", ["$.a[*]", "$..a", "$.a[0:1]", "$$.Execution", "$var.x", "x"])
def test_indefinite_or_non_input_paths_are_not_reference_paths(path):
    # Given a path that does not denote one place in the input
    # When it is checked as a Reference Path
    # Then it is refused
    assert check_reference_path_syntax(path) is not None


@pytest.mark.parametrize(
    ("path", "definite"),
    [
        ("$", True),
        ("$.a[0]", True),
        ("$$.Map.Item.Value", True),
        ("$x.y", True),
        ("$.a[*]", False),
        ("$..a", False),
        ("$.a[?(@.b)]", False),
        ("$['a','b']", False),
    ],
)
def test_definiteness_follows_jayway(path, definite):
    # Given a path
    # When its definiteness is asked
    # Then only name/index-only paths are definite
    assert is_definite(path) is definite


def test_set_path_creates_missing_objects_and_keeps_the_input():
    # Given an input and a ResultPath through members that do not exist yet
    data = {"keep": 1, "a": {"x": 2}}
    # When the result is written
    updated = set_path(data, "$.a.b.c", "result")
    # Then the objects are created and the input is left as it was
    assert updated == {"keep": 1, "a": {"x": 2, "b": {"c": "result"}}}
    assert data == {"keep": 1, "a": {"x": 2}}


def test_set_path_at_the_root_replaces_the_value():
    # Given any input
    # When the result is written at $
    # Then the result is the new value
    assert set_path({"a": 1}, "$", [1, 2]) == [1, 2]


def test_set_path_replaces_an_existing_array_element():
    # Given an input with an array
    data = {"a": [1, 2, 3]}
    # When an element is written by index
    updated = set_path(data, "$.a[1]", "two")
    # Then only that element changes, in a copy
    assert updated == {"a": [1, "two", 3]}
    assert data == {"a": [1, 2, 3]}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ("text", "$.a"),
        ({"a": 1}, "$.a.b"),
        ({"a": [1]}, "$.a[3]"),
        ({"a": {}}, "$.a[0]"),
        (None, "$.a"),
    ],
)
def test_set_path_through_an_impossible_target_fails(data, path):
    # Given a value the path cannot be written into
    # When the result is written
    with pytest.raises(PathNotWritableError) as raised:
        set_path(data, path, 1)
    # Then the error names the path
    assert raised.value.path == path


def test_set_path_refuses_an_indefinite_path():
    # Given an indefinite path
    # When it is used as a ResultPath
    # Then it is refused as invalid
    with pytest.raises(InvalidPathError):
        set_path({"a": [1]}, "$.a[*]", 1)


def test_given_a_filter_right_after_the_root_dot_when_selected_then_it_filters_the_root():
    # Given a list and the filter a definition deployed on AWS uses, "$.[?(@.OU > 0)]"
    data = [{"OU": 1, "n": "a"}, {"OU": 0, "n": "b"}, {"OU": 3, "n": "c"}]
    # When it is checked and selected (and with the dot before an index, "$.a.[0]")
    # Then it is valid and means "$[?(@.OU > 0)]", as in Jayway; a deep scan keeps its dots
    assert check_path_syntax("$.[?(@.OU > 0)]") is None
    assert select("$.[?(@.OU > 0)]", data) == [data[0], data[2]]
    assert select("$.a.[0]", {"a": data}) == data[0]
    assert select("$..[?(@.OU > 2)]", {"x": data}) == [data[2]]


def test_given_a_root_filter_in_a_definition_when_validated_then_no_diagnostic():
    # Given an OutputPath with a filter right after "$."
    from engine._asl.validate import validate_definition

    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "OutputPath": "$.[?(@.OU > 0)]", "End": True}},
    }
    # When the definition is validated
    # Then it is valid, as AWS accepts it
    assert validate_definition(definition) == []
