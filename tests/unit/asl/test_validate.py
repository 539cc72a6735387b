import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._asl.validate import ensure_valid, validate_definition
from engine._errors import Diagnostic, InvalidDefinition

LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:fn"


def machine(*states, start="A", **top):
    """A definition whose states are given as (name, body) pairs."""
    return {"StartAt": start, "States": dict(states), **top}


def single(body, **top):
    """A definition of one state "A" (``End: true`` added for types that need it)."""
    if body.get("Type") in ("Pass", "Task", "Wait", "Parallel", "Map") and "Next" not in body:
        body = {"End": True, **body}
    return machine(("A", body), **top)


def task(**fields):
    return {"Type": "Task", "Resource": LAMBDA, **fields}


def problems(definition, machine_type="STANDARD"):
    return [
        (d.path, d.message)
        for d in validate_definition(definition, state_machine_type=machine_type)
    ]


def only_problem(definition, machine_type="STANDARD"):
    found = validate_definition(definition, state_machine_type=machine_type)
    assert len(found) == 1, found
    return found[0]


def assert_valid(definition, machine_type="STANDARD"):
    assert problems(definition, machine_type) == []


# --- the definition and its scopes -------------------------------------------------------


def test_a_minimal_definition_is_valid():
    # Given a one-state Pass machine, Then it has no problems
    assert_valid(single({"Type": "Pass"}, Comment="c", Version="1.0", TimeoutSeconds=60))


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({}, "These fields are required: [StartAt, States]"),
        ({"StartAt": "A"}, "These fields are required: [States]"),
        ([], "The definition must be a JSON object, got an array of 0 item(s)"),
    ],
)
def test_missing_top_level_fields_are_listed_at_the_root(definition, message):
    # When the definition lacks its required fields, Then they are listed at "/"
    diagnostic = only_problem(definition)
    assert (diagnostic.path, diagnostic.message) == ("", message)
    assert str(diagnostic) == f"/: {message}"


@pytest.mark.parametrize(
    ("field", "value", "path", "expected"),
    [
        (
            "TimeoutSeconds",
            0,
            "/TimeoutSeconds",
            "must be an integer between 1 and 99999999, got number 0",
        ),
        ("Version", 1, "/Version", "must be a string, got number 1"),
        ("QueryLanguage", "jsonata", "/QueryLanguage", "must be one of 'JSONPath', 'JSONata'"),
        ("Comments", "x", "/Comments", "Field 'Comments' is not supported at the top level"),
    ],
)
def test_top_level_fields_are_checked(field, value, path, expected):
    # When a top-level field is wrong, Then its pointer and the expectation are reported
    diagnostic = only_problem(single({"Type": "Pass"}, **{field: value}))
    assert diagnostic.path == path
    assert expected in diagnostic.message


def test_every_problem_is_reported_at_once_in_document_order():
    # Given three independent mistakes
    definition = machine(
        ("A", {"Type": "Wait", "Seconds": -1, "Next": "B"}),
        ("B", {"Type": "Pass", "InputPath": "a.b", "End": True, "Bogus": 1}),
    )
    # Then all three are reported, each at its own place
    assert [path for path, _ in problems(definition)] == [
        "/States/A/Seconds",
        "/States/B/InputPath",
        "/States/B/Bogus",
    ]


def test_ensure_valid_raises_with_every_diagnostic_and_passes_a_valid_definition():
    # Given an invalid definition, When ensure_valid runs, Then InvalidDefinition lists all
    with pytest.raises(InvalidDefinition) as caught:
        ensure_valid({})
    assert caught.value.diagnostics == (
        Diagnostic("", "These fields are required: [StartAt, States]"),
    )
    # And a valid definition passes silently
    ensure_valid(single({"Type": "Succeed"}))


def test_an_unknown_machine_type_is_a_programming_error():
    with pytest.raises(ValueError, match="STANDARD"):
        validate_definition(single({"Type": "Pass"}), state_machine_type="standard")


def test_state_types_and_names_are_checked():
    # Given a missing Type, an unknown Type and an 81-character name
    long_name = "n" * 81
    definition = machine(
        ("A", {"Next": "B"}), ("B", {"Type": "Foo"}), (long_name, {"Type": "Succeed"})
    )
    found = problems(definition)
    # Then each is reported at the state
    assert ("/States/A", "The field 'Type' is required but was missing") in found
    assert any(p == "/States/B/Type" and "must be one of Pass, Task, Choice" in m for p, m in found)
    assert any(
        p == f"/States/{long_name}" and "is 81 characters long; the maximum is 80" in m
        for p, m in found
    )


def test_a_pointer_escapes_slash_and_tilde_in_state_names():
    # Given a state whose name holds "/" and "~", Then its pointer escapes them (RFC 6901)
    diagnostic = only_problem(
        machine(("a/b~c", {"Type": "Pass", "End": True, "X": 1}), start="a/b~c")
    )
    assert diagnostic.path == "/States/a~1b~0c/X"


# --- transitions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"Type": "Pass", "Next": "A", "End": True}, "cannot have both 'Next' and '\"End\": true'"),
        ({"Type": "Pass"}, "needs exactly one of 'Next'"),
        ({"Type": "Pass", "End": False}, "needs exactly one of 'Next'"),
    ],
)
def test_a_state_needs_exactly_one_of_next_and_end(body, expected):
    found = problems(machine(("A", body), ("Z", {"Type": "Succeed"})))
    assert any(path == "/States/A" and expected in message for path, message in found)


def test_missing_targets_are_reported_where_they_are_named():
    # Given a Next, a Default, a Choice rule and a catcher naming absent states
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Gone1"}],
        "Default": "Gone2",
    }
    definition = machine(
        ("A", task(Next="C", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Gone3"}])),
        ("C", choice),
        ("D", {"Type": "Pass", "Next": "Gone4", "Comment": "unreachable anyway"}),
        ("E", {"Type": "Succeed"}),
    )
    found = dict(problems(definition))
    # Then each is a MISSING_TRANSITION_TARGET at its own pointer
    assert (
        found["/States/A/Catch/0/Next"]
        == "Missing 'Next' target: \"Gone3\" is not a state of this scope"
    )
    assert "/States/C/Choices/0/Next" in found
    assert found["/States/C/Default"].startswith("Missing 'Default' target: \"Gone2\"")
    assert "/States/D/Next" in found


def test_start_at_must_name_a_state_of_its_scope():
    diagnostic = only_problem(single({"Type": "Succeed"}, StartAt="Nope"))
    assert (diagnostic.path, diagnostic.code) == ("/StartAt", "MISSING_TRANSITION_TARGET")


def test_a_transition_cannot_leave_a_parallel_branch_and_the_message_says_why():
    # Given a branch state whose Next names a state of the outer machine
    branch = {
        "StartAt": "In",
        "States": {"In": {"Type": "Pass", "Next": "Out"}, "End": {"Type": "Succeed"}},
    }
    definition = machine(
        ("A", {"Type": "Parallel", "Branches": [branch], "Next": "Out"}),
        ("Out", {"Type": "Succeed"}),
    )
    found = dict(problems(definition))
    # Then the error explains that the state exists in another scope
    message = found["/States/A/Branches/0/States/In/Next"]
    assert "a state of that name is at /States/Out, in another scope" in message


def test_unreachable_states_are_reported_at_the_state():
    definition = machine(
        ("A", {"Type": "Succeed"}), ("B", {"Type": "Pass", "Next": "C"}), ("C", {"Type": "Succeed"})
    )
    found = validate_definition(definition)
    assert [(d.path, d.code) for d in found] == [
        ("/States/B", "MISSING_TRANSITION_TARGET"),
        ("/States/C", "MISSING_TRANSITION_TARGET"),
    ]
    assert found[0].message.startswith('State "B" is not reachable')


def test_a_scope_without_a_terminal_state_is_reported_once_without_reachability_noise():
    # Given a loop A -> B -> A and an unreachable C that also loops (no End anywhere)
    definition = machine(
        ("A", {"Type": "Pass", "Next": "B"}),
        ("B", {"Type": "Pass", "Next": "A"}),
        ("C", {"Type": "Pass", "Next": "A"}),
    )
    diagnostic = only_problem(definition)
    # Then only MISSING_END_STATE is reported, at the scope
    assert (diagnostic.path, diagnostic.code) == ("", "MISSING_END_STATE")
    assert diagnostic.message.startswith("Workflow has no terminal state")


def test_state_names_must_be_unique_across_nested_scopes():
    branch = {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}
    definition = machine(
        ("A", {"Type": "Parallel", "Branches": [branch], "Next": "X"}), ("X", {"Type": "Succeed"})
    )
    diagnostic = only_problem(definition)
    assert (diagnostic.path, diagnostic.code) == ("/States/X", "DUPLICATE_STATE_NAME")
    assert "also defined at /States/A/Branches/0/States/X" in diagnostic.message


# --- fields per state type -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"Type": "Choice", "Choices": [], "ResultPath": "$.x"}, "ResultPath"),
        ({"Type": "Succeed", "Parameters": {}}, "Parameters"),
        ({"Type": "Fail", "InputPath": "$"}, "InputPath"),
        ({"Type": "Pass", "ResultSelector": {}}, "ResultSelector"),
        ({"Type": "Wait", "Seconds": 1, "Retry": []}, "Retry"),
        ({"Type": "Pass", "Catch": []}, "Catch"),
        ({"Type": "Map", "ItemProcessor": {}, "TimeoutSeconds": 5}, "TimeoutSeconds"),
        ({"Type": "Succeed", "Assign": {}}, "Assign"),
        ({"Type": "Fail", "Assign": {}}, "Assign"),
    ],
)
def test_fields_a_state_type_does_not_have_are_refused(body, field):
    found = problems(single(body))
    assert any(
        path == f"/States/A/{field}"
        and f"Field '{field}' is not supported in a {body['Type']} state" in message
        for path, message in found
    ), found


def test_a_misspelt_field_gets_a_suggestion_and_the_list_of_fields():
    diagnostic = only_problem(single({"Type": "Pass", "bugInputPath": "$.a"}))
    assert "Did you mean 'InputPath'?" in diagnostic.message
    assert "A JSONPath Pass state may have: Assign, Comment, End, InputPath" in diagnostic.message


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (
            {"Type": "Wait", "Seconds": "10"},
            "/States/A/Seconds",
            'an integer between 0 and 99999999, got string "10"',
        ),
        ({"Type": "Wait", "Seconds": True}, "/States/A/Seconds", "got boolean true"),
        ({"Type": "Wait", "Seconds": 1.5}, "/States/A/Seconds", "got number 1.5"),
        (
            {"Type": "Wait"},
            "/States/A",
            "needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found: none",
        ),
        (
            {"Type": "Wait", "Seconds": 1, "TimestampPath": "$.t"},
            "/States/A",
            "found: Seconds, TimestampPath",
        ),
        (
            {"Type": "Pass", "Comment": 3},
            "/States/A/Comment",
            "'Comment' must be a string, got number 3",
        ),
        ({"Type": "Pass", "Next": ""}, "/States/A/Next", "must be a non-empty string"),
        ({"Type": "Pass", "End": "yes"}, "/States/A/End", "must be a boolean"),
        (
            {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"},
            "/States/A",
            "Only one of 'Error' and 'ErrorPath'",
        ),
        (
            {"Type": "Fail", "Cause": "C", "CausePath": "$.c"},
            "/States/A",
            "Only one of 'Cause' and 'CausePath'",
        ),
        (
            {"Type": "Fail", "ErrorPath": "States.Nope()"},
            "/States/A/ErrorPath",
            "unknown intrinsic function",
        ),
        ({"Type": "Fail", "Cause": 5}, "/States/A/Cause", "must be a string"),
    ],
)
def test_field_values_are_checked_against_their_expected_type(body, path, expected):
    found = problems(single(body))
    assert any(p == path and expected in m for p, m in found), found


@pytest.mark.parametrize(
    "timestamp", ["05-12-2016T21:29:29Z", "2016-12-05T21:29:29", "{% '2016-03-14T01:59:00Z' %}"]
)
def test_a_wait_timestamp_must_be_an_iso_8601_timestamp_with_an_offset(timestamp):
    # When a JSONPath Wait has a timestamp AWS refuses (a JSONata string is a literal here)
    diagnostic = only_problem(single({"Type": "Wait", "Timestamp": timestamp}))
    # Then it is reported at the field
    assert diagnostic.path == "/States/A/Timestamp"
    assert "ISO-8601 timestamp with a time-zone offset" in diagnostic.message


def test_paths_of_every_kind_are_accepted_where_paths_belong():
    # Given input, context and variable paths, a fail computed by an intrinsic, and null paths
    body = {
        "Type": "Pass",
        "InputPath": "$$.Execution.Input",
        "OutputPath": None,
        "ResultPath": "$.a['b'][0]",
        "Parameters": {
            "x.$": "$myVar.items[1:]",
            "y.$": "States.Format('{}', $.a)",
            "z": {"w.$": "$"},
        },
        "Result": {"literal.$": "not a path"},
    }
    fail = {"Type": "Fail", "ErrorPath": "$errorVar", "CausePath": "States.Format('{}', $.c)"}
    assert_valid(machine(("A", {**body, "Next": "F"}), ("F", fail)))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("InputPath", "bug$.a", "must be a valid JSONPath: 'bug$.a' is not a valid JSONPath"),
        ("OutputPath", 3, "must be a valid JSONPath: got number 3"),
        ("ResultPath", "$.a[*]", "must be a valid Reference Path"),
        ("ResultPath", "$$.Execution", "must be a valid Reference Path"),
        ("ResultPath", "$var", "must be a valid Reference Path"),
    ],
)
def test_bad_paths_are_reported_with_the_parsers_reason(field, value, expected):
    diagnostic = only_problem(single({"Type": "Pass", field: value}))
    assert diagnostic.path == f"/States/A/{field}"
    assert expected in diagnostic.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ipsum", 'got string "ipsum"'),
        (23, "got number 23"),
        (" States.UUID()", 'got string " States.UUID()"'),
        ("States.Xyz($.a)", "unknown intrinsic function 'States.Xyz'"),
        ("States.Format('a \\\"b\\\"')", "invalid escape sequence"),
        ("$$23", "'$$23' is not a valid JSONPath"),
    ],
)
def test_dynamic_template_fields_need_a_path_or_an_intrinsic_call(value, expected):
    # When a ".$" field deep in ResultSelector holds something else
    definition = single(task(ResultSelector={"a": [{"b.$": value}]}))
    diagnostic = only_problem(definition)
    # Then the field is named and the reason given
    assert diagnostic.path == "/States/A/ResultSelector/a/0/b.$"
    assert (
        "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"
        in diagnostic.message
    )
    assert expected in diagnostic.message


def test_a_field_given_both_literally_and_dynamically_is_refused():
    diagnostic = only_problem(single({"Type": "Pass", "Parameters": {"a": 1, "a.$": "$.a"}}))
    assert diagnostic.path == "/States/A/Parameters/a.$"
    assert "both produce the field 'a'" in diagnostic.message


# --- Task ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::aws-sdk:dynamodb:query",
        "arn:aws:states:::celery:sendTask",
        "arn:aws:states:us-east-1:111111111111:activity:work",
        "arn:aws:lambda:us-east-1:111111111111:function:fn:$LATEST",
        "arn:aws-cn:lambda:cn-north-1:111111111111:function:fn:prod",
        "arn:aws:swf:us-east-1:123456789012:task:X",
    ],
)
def test_recognised_resources_are_accepted(resource):
    assert_valid(single(task(Resource=resource)))


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("foo:bar", "is not a valid resource ARN"),
        ("arn:aws:states:::dynamodb:query", "is not recognized"),
        ("arn:aws:states:::nosuch:thing", "is not recognized"),
        ("arn:aws:lambda:us-east-1:1:function:fn:", "is not a valid Lambda function ARN"),
        ("arn:aws:lambda:us-east-1:1:function:fn:$*#", "is not a valid Lambda function ARN"),
        ("", "must be a non-empty string"),
    ],
)
def test_unrecognised_resources_are_refused(resource, expected):
    diagnostic = only_problem(single(task(Resource=resource)))
    assert diagnostic.path == "/States/A/Resource"
    assert expected in diagnostic.message


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            "arn:aws:states:::states:startExecution.sync",
            "does not support '.sync' service integration",
        ),
        ("arn:aws:states:::sns:publish.waitForTaskToken", "does not support '.waitForTaskToken'"),
        ("arn:aws:states:us-east-1:1:activity:a", "does not support activities"),
    ],
)
def test_express_machines_cannot_wait_for_tasks(resource, expected):
    definition = single(task(Resource=resource))
    assert_valid(definition)
    assert expected in only_problem(definition, "EXPRESS").message


def test_task_timeouts_and_credentials_are_checked():
    # Given a heartbeat as long as the timeout, both timeout forms, and a role-less credential
    body = task(
        TimeoutSeconds=10,
        HeartbeatSeconds=10,
        TimeoutSecondsPath="$.t",
        Credentials={"roleArn": "x"},
    )
    found = problems(single(body))
    assert (
        "/States/A",
        "Only one of 'TimeoutSeconds' and 'TimeoutSecondsPath' may be given",
    ) in found
    assert any(
        p == "/States/A/HeartbeatSeconds" and "must be smaller than TimeoutSeconds" in m
        for p, m in found
    )
    assert ("/States/A/Credentials", "The field 'RoleArn' is required but was missing") in found
    assert (
        "/States/A",
        "The field 'Resource' is required in a Task state but was missing",
    ) in problems(single({"Type": "Task"}))


# --- Retry and Catch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retrier", "path", "expected"),
    [
        ({"ErrorEquals": []}, "Retry/0/ErrorEquals", "must be a non-empty array"),
        ({}, "Retry/0", "The field 'ErrorEquals' is required in a retrier"),
        (
            {"ErrorEquals": ["States.ALL", "X"]},
            "Retry/0/ErrorEquals",
            "'States.ALL' must appear alone",
        ),
        (
            {"ErrorEquals": ["E"], "MaxAttempts": -1},
            "Retry/0/MaxAttempts",
            "an integer between 0 and",
        ),
        (
            {"ErrorEquals": ["E"], "IntervalSeconds": 0},
            "Retry/0/IntervalSeconds",
            "an integer between 1 and",
        ),
        (
            {"ErrorEquals": ["E"], "BackoffRate": 0.5},
            "Retry/0/BackoffRate",
            "a number >= 1.0, got number 0.5",
        ),
        (
            {"ErrorEquals": ["E"], "MaxDelaySeconds": 0},
            "Retry/0/MaxDelaySeconds",
            "between 1 and 31622400",
        ),
        (
            {"ErrorEquals": ["E"], "JitterStrategy": "HALF"},
            "Retry/0/JitterStrategy",
            "one of 'FULL', 'NONE'",
        ),
        (
            {"ErrorEquals": ["E"], "Max": 1},
            "Retry/0/Max",
            "Field 'Max' is not supported in a retrier",
        ),
    ],
)
def test_retriers_are_checked(retrier, path, expected):
    found = problems(single(task(Retry=[retrier])))
    assert any(p == f"/States/A/{path}" and expected in m for p, m in found), found


def test_a_catch_all_must_come_last_and_catchers_need_a_next():
    catchers = [{"ErrorEquals": ["States.ALL"], "Next": "Z"}, {"ErrorEquals": ["E"]}]
    found = problems(machine(("A", task(Catch=catchers, End=True)), ("Z", {"Type": "Succeed"})))
    assert any(
        p == "/States/A/Catch/0/ErrorEquals" and "must be the last one" in m for p, m in found
    )
    assert (
        "/States/A/Catch/1",
        "The field 'Next' is required in a catcher but was missing",
    ) in found


# --- Choice ---------------------------------------------------------------------------------


def choice(*rules, default="Z"):
    body = {"Type": "Choice", "Choices": list(rules)}
    if default:
        body["Default"] = default
    return machine(("A", body), ("Z", {"Type": "Succeed"}))


def test_boolean_expressions_nest_and_only_top_level_rules_have_next():
    rule = {
        "And": [
            {"Variable": "$.a", "IsPresent": True},
            {"Not": {"Variable": "$$.b", "NumericLessThanPath": "$c"}},
        ],
        "Next": "Z",
        "Assign": {"seen": True},
        "Comment": "ok",
    }
    assert_valid(choice(rule))


@pytest.mark.parametrize(
    ("rule", "path", "expected"),
    [
        (
            {"StringEquals": "x", "Next": "Z"},
            "",
            "The field 'Variable' is required in a data-test Choice rule",
        ),
        ({"Variable": "$.a", "Next": "Z"}, "", "needs exactly one comparison operator (e.g."),
        (
            {"Variable": "$.a", "IsNull": True, "IsPresent": True, "Next": "Z"},
            "",
            "found: IsNull, IsPresent",
        ),
        (
            {"Variable": "$.a", "IsNull": True},
            "",
            "The field 'Next' is required in a top-level Choice rule",
        ),
        (
            {"Variable": "$.a", "IsNull": True, "End": True, "Next": "Z"},
            "/End",
            "Field 'End' is not supported",
        ),
        ({"And": [], "Next": "Z"}, "/And", "must be a non-empty array"),
        (
            {"Or": [{"Variable": "$.a", "IsNull": True, "Next": "Z"}], "Next": "Z"},
            "/Or/0/Next",
            "only allowed in a top-level",
        ),
        (
            {"Not": {"Variable": "$.a", "IsNull": True}, "Variable": "$.b", "Next": "Z"},
            "",
            "cannot also have Variable",
        ),
        (
            {"Variable": "a", "IsNull": True, "Next": "Z"},
            "/Variable",
            "'Variable' must be a valid JSONPath",
        ),
        (
            {"Variable": "$.a", "StringEquals": 1, "Next": "Z"},
            "/StringEquals",
            "must be a string, got number 1",
        ),
        (
            {"Variable": "$.a", "NumericEquals": True, "Next": "Z"},
            "/NumericEquals",
            "must be a number",
        ),
        (
            {"Variable": "$.a", "BooleanEquals": "true", "Next": "Z"},
            "/BooleanEquals",
            "must be a boolean",
        ),
        ({"Variable": "$.a", "IsPresent": "yes", "Next": "Z"}, "/IsPresent", "must be a boolean"),
        (
            {"Variable": "$.a", "TimestampEquals": "2016-03-14", "Next": "Z"},
            "/TimestampEquals",
            "ISO-8601 timestamp",
        ),
        (
            {"Variable": "$.a", "StringEqualsPath": "x", "Next": "Z"},
            "/StringEqualsPath",
            "must be a valid JSONPath",
        ),
        (
            {"Variable": "$.a", "IsNull": True, "Condition": "{% true %}", "Next": "Z"},
            "/Condition",
            "only supported in JSONata",
        ),
    ],
)
def test_jsonpath_choice_rules_are_checked(rule, path, expected):
    found = problems(choice(rule))
    assert any(p == f"/States/A/Choices/0{path}" and expected in m for p, m in found), found


def test_jsonata_choice_rules_have_a_condition():
    definition = choice(
        {"Condition": "{% $states.input.x > 1 %}", "Next": "Z", "Output": {"a": "{% 1 %}"}},
        {"Condition": True, "Next": "Z"},
        {"Next": "Z"},
        {"Condition": "x > 1", "Next": "Z"},
        {"Condition": "{% x > %}", "Next": "Z"},
        {"Variable": "$.a", "IsNull": True, "Condition": "{% true %}", "Next": "Z"},
    )
    definition["QueryLanguage"] = "JSONata"
    found = validate_definition(definition)
    assert [(d.path, d.code) for d in found] == [
        ("/States/A/Choices/2", "SCHEMA_VALIDATION_FAILED"),
        ("/States/A/Choices/3/Condition", "SCHEMA_VALIDATION_FAILED"),
        ("/States/A/Choices/4/Condition", "INVALID_JSONATA_EXPRESSION"),
        ("/States/A/Choices/5/Variable", "SCHEMA_VALIDATION_FAILED"),
        ("/States/A/Choices/5/IsNull", "SCHEMA_VALIDATION_FAILED"),
    ]


# --- Parallel and Map ------------------------------------------------------------------------


def test_nested_machines_are_checked_as_scopes_of_their_own():
    # Given a branch whose state lacks End, and a processor that sets QueryLanguage
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass"}}}
    processor = {"StartAt": "M", "States": {"M": {"Type": "Succeed"}}, "QueryLanguage": "JSONPath"}
    definition = machine(
        ("A", {"Type": "Parallel", "Branches": [branch], "Next": "Map"}),
        ("Map", {"Type": "Map", "ItemProcessor": processor, "End": True}),
    )
    found = problems(definition)
    assert any(
        p == "/States/A/Branches/0/States/B" and "needs exactly one of 'Next'" in m
        for p, m in found
    )
    assert any(
        p == "/States/A/Branches/0" and "Workflow has no terminal state" in m for p, m in found
    )
    assert any(
        p == "/States/Map/ItemProcessor/QueryLanguage" and "not supported in a Map processor" in m
        for p, m in found
    )
    assert (
        "/States/A",
        "The field 'Branches' is required in a Parallel state but was missing",
    ) in problems(single({"Type": "Parallel"}))


PROCESSOR = {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}
DISTRIBUTED = {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}


@pytest.mark.parametrize(
    ("fields", "path", "expected"),
    [
        ({}, "", "needs exactly one of ItemProcessor, Iterator; found: none"),
        ({"ItemProcessor": PROCESSOR, "Iterator": PROCESSOR}, "", "found: ItemProcessor, Iterator"),
        (
            {"ItemProcessor": PROCESSOR, "ItemSelector": {}, "Parameters": {}},
            "",
            "Only one of 'ItemSelector' and 'Parameters'",
        ),
        (
            {"ItemProcessor": PROCESSOR, "MaxConcurrency": -1},
            "/MaxConcurrency",
            "an integer between 0 and",
        ),
        (
            {"ItemProcessor": PROCESSOR, "ToleratedFailurePercentage": 101},
            "/ToleratedFailurePercentage",
            "between 0 and 100",
        ),
        (
            {"ItemProcessor": PROCESSOR, "ItemsPath": None},
            "/ItemsPath",
            "must be a valid JSONPath: got null",
        ),
        (
            {"ItemProcessor": {**PROCESSOR, "ProcessorConfig": {"Mode": "PARALLEL"}}},
            "/ItemProcessor/ProcessorConfig/Mode",
            "one of 'INLINE', 'DISTRIBUTED'",
        ),
        (
            {"ItemProcessor": {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED"}}},
            "/ItemProcessor/ProcessorConfig",
            "'ExecutionType' is required",
        ),
        (
            {"ItemProcessor": DISTRIBUTED, "ItemReader": {"Parameters": {}}},
            "/ItemReader",
            "The field 'Resource' is required",
        ),
        (
            {
                "ItemProcessor": DISTRIBUTED,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"MaxItems": 1, "MaxItemsPath": "$.m"},
                },
            },
            "/ItemReader/ReaderConfig",
            "Only one of 'MaxItems' and 'MaxItemsPath'",
        ),
        (
            {"ItemProcessor": DISTRIBUTED, "ItemBatcher": {"BatchInput": {}}},
            "/ItemBatcher",
            "needs a batch size",
        ),
        (
            {"ItemProcessor": DISTRIBUTED, "ItemBatcher": {"MaxInputBytesPerBatch": 262145}},
            "/ItemBatcher/MaxInputBytesPerBatch",
            "between 1 and 262144",
        ),
        (
            {"ItemProcessor": DISTRIBUTED, "ResultWriter": {}},
            "/ResultWriter",
            "needs a 'Resource' or a 'WriterConfig'",
        ),
        (
            {
                "ItemProcessor": DISTRIBUTED,
                "ResultWriter": {"WriterConfig": {"Transformation": "X"}},
            },
            "/ResultWriter/WriterConfig/Transformation",
            "one of 'NONE', 'COMPACT', 'FLATTEN'",
        ),
        (
            {"ItemProcessor": DISTRIBUTED, "ResultWriter": {"WriterConfig": {"Format": "CSV"}}},
            "/ResultWriter/WriterConfig/Format",
            "Field 'Format' is not supported in WriterConfig",
        ),
        (
            {
                "ItemProcessor": DISTRIBUTED,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON", "ItemsPointer": "/items"},
                },
            },
            "/ItemReader/ReaderConfig/ItemsPointer",
            "Field 'ItemsPointer' is not supported in ReaderConfig",
        ),
    ],
)
def test_map_fields_are_checked(fields, path, expected):
    found = problems(single({"Type": "Map", **fields}))
    assert any(p == f"/States/A{path}" and expected in m for p, m in found), found


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("", "Label cannot be empty"),
        ("x" * 41, "Label cannot exceed 40 characters, got 41"),
        ("label_>", "Label contains invalid character '>'"),
        ("label_\n", "Label contains invalid character '\\n'"),
        ("label_\x9f", "Label contains invalid character '\\x9f'"),
        ("a b", "Label contains invalid character ' '"),
    ],
)
def test_a_map_label_must_fit_in_a_map_run_arn(label, expected):
    diagnostic = only_problem(single({"Type": "Map", "ItemProcessor": DISTRIBUTED, "Label": label}))
    assert diagnostic.path == "/States/A/Label"
    assert expected in diagnostic.message


def test_a_valid_distributed_map_passes():
    fields = {
        "ItemProcessor": DISTRIBUTED,
        "Label": "my-map_1",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "Parameters": {"Bucket.$": "$.b"},
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        },
        "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"k.$": "$.v"}},
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "b"},
        },
        "ToleratedFailurePercentagePath": "$.p",
        "MaxConcurrency": 0,
    }
    assert_valid(single({"Type": "Map", **fields}))


# --- query languages and Assign --------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "Parameters",
        "ResultPath",
        "InputPath",
        "OutputPath",
        "Result",
        "ResultSelector",
        "ItemsPath",
        "SecondsPath",
    ],
)
def test_jsonata_states_refuse_jsonpath_fields(field):
    body = {"Type": "Map" if field in ("ItemsPath", "ResultSelector") else "Pass", field: "$.x"}
    if field == "SecondsPath":
        body = {"Type": "Wait", "Seconds": 1, field: "$.x"}
    if body["Type"] == "Map":
        body["ItemProcessor"] = PROCESSOR
    found = problems(single(body, QueryLanguage="JSONata"))
    assert (
        f"/States/A/{field}",
        f"The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for "
        "the 'JSONPath' QueryLanguage",
    ) in found


@pytest.mark.parametrize(
    ("state_type", "field"), [("Task", "Arguments"), ("Pass", "Output"), ("Map", "Items")]
)
def test_jsonpath_states_refuse_jsonata_fields(state_type, field):
    body = {"Type": state_type, field: "{% 1 %}"}
    body |= {"Task": {"Resource": LAMBDA}, "Map": {"ItemProcessor": PROCESSOR}}.get(state_type, {})
    found = problems(single(body))
    assert any(
        p == f"/States/A/{field}" and "is only supported for the 'JSONata' QueryLanguage" in m
        for p, m in found
    )


def test_a_state_cannot_choose_jsonpath_under_a_jsonata_machine_but_may_choose_jsonata():
    assert_valid(single({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}"}))
    diagnostic = only_problem(
        single({"Type": "Pass", "QueryLanguage": "JSONPath"}, QueryLanguage="JSONata")
    )
    assert diagnostic.path == "/States/A/QueryLanguage"
    assert (
        diagnostic.message
        == "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
    )


def test_nested_states_inherit_the_top_level_language_not_the_enclosing_states():
    # Given a JSONata Map in a JSONPath machine whose inner state uses a JSONata field
    processor = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% 1 %}", "End": True}},
    }
    definition = single({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor})
    # Then the inner state is JSONPath, as AWS decides
    diagnostic = only_problem(definition)
    assert diagnostic.path == "/States/A/ItemProcessor/States/P/Output"


def test_jsonata_expressions_must_parse_wherever_they_are():
    body = task(
        Arguments={"a": ["{% $states.input.x %}", "{% 1 + %}"], "b": "plain {% text %}"},
        Output="{% $states.result",
        TimeoutSeconds="{% 30 %}",
        HeartbeatSeconds="{% ) %}",
    )
    found = validate_definition(single(body, QueryLanguage="JSONata"))
    assert [(d.path, d.code) for d in found] == [
        ("/States/A/Arguments/a/1", "INVALID_JSONATA_EXPRESSION"),
        ("/States/A/Output", "INVALID_JSONATA_EXPRESSION"),
        ("/States/A/HeartbeatSeconds", "INVALID_JSONATA_EXPRESSION"),
    ]
    assert "The JSONata expression '1 +' is invalid" in found[0].message


def test_jsonata_in_a_jsonpath_state_is_a_literal_and_comments_are_never_parsed():
    assert_valid(single({"Type": "Pass", "Result": "{% 1 + %}", "Comment": "{% unclosed"}))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("top-level", "'top-level' is not a valid variable name"),
        ("1x", "'1x' is not a valid variable name"),
        ("states", "'states' is reserved"),
        ("v" * 81, "has 81 characters; at most 80"),
    ],
)
def test_assign_needs_valid_variable_names(name, expected):
    diagnostic = only_problem(single({"Type": "Pass", "Assign": {name: 1}}))
    assert diagnostic.path == f"/States/A/Assign/{name}"
    assert expected in diagnostic.message


def test_assign_values_follow_the_state_language():
    # JSONPath: "name.$" computes the value; JSONata: "{% %}" strings do
    assert_valid(
        single(
            {"Type": "Pass", "Assign": {"año_1": 1, "x.$": "$.a", "y": {"z.$": "$$.State.Name"}}}
        )
    )
    assert_valid(
        single({"Type": "Pass", "Assign": {"x": "{% $states.input %}"}}, QueryLanguage="JSONata")
    )
    bad = only_problem(single({"Type": "Pass", "Assign": {"x.$": "nope"}}))
    assert bad.path == "/States/A/Assign/x.$"


# --- robustness ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["$", "$.a", "{% 1 %}", "Pass", "Task", "Map", "Choice", "A", "States.ALL"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Type",
                    "Next",
                    "End",
                    "States",
                    "StartAt",
                    "Choices",
                    "Branches",
                    "ItemProcessor",
                    "Catch",
                    "Retry",
                    "Parameters",
                    "Assign",
                    "x.$",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@given(json_values)
def test_any_json_value_gets_diagnostics_never_an_exception(value):
    # When anything at all is validated, Then the answer is a list of diagnostics
    found = validate_definition(value)
    assert all(isinstance(d, Diagnostic) and d.message for d in found)


@given(
    st.dictionaries(
        st.sampled_from(["Type", "Next", "End", "Resource", "Choices", "ItemProcessor", "Seconds"]),
        json_values,
    )
)
def test_any_state_body_gets_diagnostics_never_an_exception(body):
    definition = machine(("A", body), ("B", copy.deepcopy(body)), start="A")
    for machine_type in ("STANDARD", "EXPRESS"):
        assert isinstance(validate_definition(definition, state_machine_type=machine_type), list)
