import contextlib
import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine._asl.load import (
    DEFAULT_MAX_DEFINITION_BYTES,
    check_definition_size,
    definition_size_bytes,
    load_definition_text,
)
from engine._errors import DefinitionSyntaxError, InvalidDefinition

PASS_MACHINE = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def syntax_error(text):
    with pytest.raises(DefinitionSyntaxError) as caught:
        load_definition_text(text)
    return caught.value


# --- JSON --------------------------------------------------------------------------------


def test_json_text_and_utf8_bytes_with_a_bom_load_to_the_same_object():
    # Given a definition as text and as UTF-8 bytes with a byte-order mark
    text = json.dumps(PASS_MACHINE)
    # When both are loaded
    from_text, from_bytes = (
        load_definition_text(text),
        load_definition_text(b"\xef\xbb\xbf" + text.encode()),
    )
    # Then both give the definition
    assert from_text == from_bytes == PASS_MACHINE


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        (
            '{"StartAt": "A",}',
            "Expecting property name enclosed in double quotes, found '}'",
            1,
            17,
        ),
        ('{\n  "StartAt": tru\n}', "Expecting value, found 'tru'", 2, 14),
        ('{"StartAt" "A"}', "Expecting ':' delimiter", 1, 12),
        ('{"StartAt": "A"', "Expecting ',' delimiter, found the end of the text", 1, 16),
        ('{"a": 1}}', "Extra data, found '}'", 1, 9),
        ('{"a": "tab\there"}', "Invalid control character", 1, 11),
    ],
)
def test_malformed_json_is_reported_with_its_line_and_column(text, message, line, column):
    # When malformed JSON is loaded
    error = syntax_error(text)
    # Then the error says what was expected and found, and where
    assert message in str(error)
    assert (error.line, error.column) == (line, column)
    assert f"(line {line}, column {column})" in str(error)


def test_text_that_is_neither_json_nor_a_mapping_is_reported_as_json_at_its_first_token():
    # When a plain sentence is loaded (AWS's "not a definition" case)
    error = syntax_error("not a definition")
    # Then it is reported as invalid JSON at line 1, column 1, naming the token
    assert "Invalid JSON: Expecting value, found 'not'" in str(error)
    assert (error.line, error.column) == (1, 1)


def test_duplicate_keys_in_json_are_refused_at_the_second_occurrence():
    # Given a nested object with "Next" twice (a key used once elsewhere too)
    text = '{"StartAt": "A",\n "States": {"A": {"Next": "B", "X": {"Next": 1},\n  "Next": "C"}}}'
    # When it is loaded
    error = syntax_error(text)
    # Then the duplicate is named and located at its second use
    assert 'duplicate key "Next"' in str(error)
    assert (error.line, error.column) == (3, 3)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_constants_are_refused(constant):
    # When JSON holds a constant Python's parser would accept
    error = syntax_error(f'{{"Seconds": {constant}}}')
    # Then it is refused as not a JSON number
    assert "is not a JSON number" in str(error)


@pytest.mark.parametrize("text", ["", "   \n", b""])
def test_an_empty_definition_is_a_syntax_error(text):
    # When nothing is loaded, Then the error says the definition is empty
    assert "empty" in str(syntax_error(text))


def test_bytes_that_are_not_utf8_are_refused_with_their_position():
    # When bytes with an invalid UTF-8 sequence on line 2 are loaded
    error = syntax_error(b'{"a":\n "\xff"}')
    # Then the error names the byte and where it is
    assert "not valid UTF-8: byte 0xff" in str(error)
    assert (error.line, error.column) == (2, 3)


# --- YAML --------------------------------------------------------------------------------


def test_yaml_is_read_with_json_meaning():
    # Given YAML whose scalars YAML 1.1 would turn into dates, sexagesimals, octals or booleans
    text = (
        "StartAt: W\nStates:\n  W:\n    Type: Wait\n    Timestamp: 2016-03-14T01:59:00Z\n"
        "    End: true\nComment: yes\nVersion: 1:30\nLabel: 017\nRatio: 1.5\nNothing: ~\n"
        "200: ok\n"
    )
    # When it is loaded
    loaded = load_definition_text(text)
    # Then only JSON's literals are typed; the rest stay strings, and keys are strings
    assert loaded["States"]["W"] == {
        "Type": "Wait",
        "Timestamp": "2016-03-14T01:59:00Z",
        "End": True,
    }
    assert (loaded["Comment"], loaded["Version"], loaded["Label"]) == ("yes", "1:30", "017")
    assert (loaded["Ratio"], loaded["Nothing"], loaded["200"]) == (1.5, None, "ok")


def test_duplicate_keys_in_yaml_are_refused_with_their_position():
    # When a YAML mapping repeats a state name on line 4
    error = syntax_error(
        "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n  A: {Type: Succeed}\n"
    )
    # Then the duplicate is named and located
    assert 'duplicate key "A"' in str(error)
    assert (error.line, error.column) == (4, 3)


def test_malformed_yaml_is_reported_with_its_line_and_column():
    # When YAML with an unclosed flow sequence is loaded
    error = syntax_error("StartAt: A\nStates: [1, 2\n")
    # Then the parser's problem and its position are given
    assert str(error).startswith("Invalid YAML: expected ',' or ']'")
    assert (error.line, error.column) == (3, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!binary aGVsbG8=\n", "the bytes at /a has no JSON equivalent"),
        ("a: !!set {x, y}\n", "the set at /a has no JSON equivalent"),
        ("a: !!float .nan\n", "could not convert string to float"),
        ("? [a]\n: b\n", "a mapping key must be a string"),
        ("a: !!int 0x10\n", "invalid literal for int()"),
    ],
)
def test_yaml_values_json_cannot_hold_are_refused(text, message):
    # When YAML holds a value with no JSON equivalent, Then it is refused by name
    assert message in str(syntax_error(text))


def test_yaml_merge_keys_are_resolved():
    # Given a YAML anchor merged into another mapping
    text = "base: &b {Type: Pass}\nStates:\n  A:\n    <<: *b\n    End: true\n"
    # When it is loaded, Then the merged mapping holds both sets of keys
    assert load_definition_text(text)["States"]["A"] == {"Type": "Pass", "End": True}


# --- size --------------------------------------------------------------------------------


def test_definition_size_counts_utf8_bytes():
    # Given text with a two-byte character, Then its size is counted in bytes
    assert definition_size_bytes('{"a": "é"}') == 11
    assert definition_size_bytes(b"abc") == 3


def test_a_definition_over_the_limit_is_refused_before_parsing():
    # Given a definition one byte over a small limit
    text = json.dumps(PASS_MACHINE)
    limit = definition_size_bytes(text) - 1
    # When it is checked, Then the diagnostic gives the size and the limit
    with pytest.raises(InvalidDefinition) as caught:
        load_definition_text(text, max_bytes=limit)
    assert f"is {limit + 1} bytes long; the maximum is {limit} bytes" in str(caught.value)
    assert caught.value.diagnostics[0].code == "DEFINITION_TOO_LARGE"


def test_a_definition_within_the_default_limit_passes_the_size_check():
    # When a small definition is checked against AWS's default limit, Then nothing is raised
    check_definition_size(json.dumps(PASS_MACHINE))
    assert DEFAULT_MAX_DEFINITION_BYTES == 1_048_576


# --- properties --------------------------------------------------------------------------


@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_any_json_object_loads_back_as_itself(value):
    # Given any JSON object written as JSON, When it is loaded, Then it is unchanged
    assert load_definition_text(json.dumps(value)) == value


@given(st.dictionaries(st.text(min_size=1), json_values, min_size=1, max_size=5))
def test_any_json_object_written_as_yaml_loads_back_as_itself(value):
    # Given any JSON object written as block YAML, every scalar quoted and tagged
    text = yaml.safe_dump(value, default_flow_style=False, default_style='"')
    # When it is loaded, Then it is unchanged
    assert load_definition_text(text) == value


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_text_either_loads_or_raises_a_definition_syntax_error(text):
    # When any text is loaded, Then it loads or is refused, never with another exception
    with contextlib.suppress(DefinitionSyntaxError):
        load_definition_text(text)
