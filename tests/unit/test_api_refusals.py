"""What the API refuses with a ClientError instead of letting a raw exception out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import _errors as errors
from engine._api import Client
from engine._asl.validate import validate_definition
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._dataflow.nesting import MAX_NESTING_DEPTH, nesting_depth
from tests.unit.interpreter.support import ROLE, T0, registry

Json = Any
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
CALLBACK = json.dumps(
    {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "keep", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
)
TOO_DEEP = 10_000


def nested(depth: int) -> str:
    """JSON text of arrays nested ``depth`` levels deep."""
    return "[" * depth + "]" * depth


@pytest.fixture
def client() -> Client:
    return Client(LocalBackend(handlers=registry(), clock=FakeClock(T0)), clock=FakeClock(T0))


def _machine(client: Client, definition: str = PASS) -> str:
    return str(
        client.create_state_machine(name="m", definition=definition, roleArn=ROLE)[
            "stateMachineArn"
        ]
    )


# --- nesting depth ---------------------------------------------------------------------------


def test_a_deeply_nested_input_is_invalid_execution_input_naming_the_limit(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When it is started with an input nested 10,000 levels deep
    with pytest.raises(errors.InvalidExecutionInput) as caught:
        client.start_execution(stateMachineArn=arn, input=nested(TOO_DEEP))
    # Then the refusal names the depth limit
    assert f"more than {MAX_NESTING_DEPTH} levels deep" in caught.value.message


def test_the_input_depth_limit_is_exact(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When inputs nested at the limit and one level beyond are started
    started = client.start_execution(stateMachineArn=arn, input=nested(MAX_NESTING_DEPTH))
    # Then the first runs to the end and the second is refused
    described = client.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert nesting_depth(json.loads(described["output"])) == MAX_NESTING_DEPTH
    with pytest.raises(errors.InvalidExecutionInput):
        client.start_execution(stateMachineArn=arn, input=nested(MAX_NESTING_DEPTH + 1))


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(
            '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true, "Result": '
            f"{nested(TOO_DEEP)}}}}}}}",
            id="json",
        ),
        pytest.param(
            "StartAt: P\nStates:\n  P:\n    Type: Pass\n    End: true\n"
            f"    Result: {nested(TOO_DEEP)}\n",
            id="yaml",
        ),
    ],
)
def test_a_deeply_nested_definition_is_an_invalid_definition(
    client: Client, definition: str
) -> None:
    # Given a definition whose Result nests 10,000 levels deep
    # When it is validated and created
    validated = client.validate_state_machine_definition(definition=definition)
    with pytest.raises(errors.InvalidDefinitionRequest) as caught:
        _machine(client, definition)
    # Then both report the depth limit
    assert validated["result"] == "FAIL"
    assert f"more than {MAX_NESTING_DEPTH} levels deep" in caught.value.message
    assert f"more than {MAX_NESTING_DEPTH} levels deep" in json.dumps(validated["diagnostics"])


def test_a_deeply_nested_callback_output_is_invalid_output(client: Client) -> None:
    # Given an execution waiting for a callback
    tokens: list[str] = []
    callback = Client(
        LocalBackend(handlers=registry(keep=lambda e, _: tokens.append(e["token"]))),
        clock=FakeClock(T0),
    )
    callback.start_execution(stateMachineArn=_machine(callback, CALLBACK))
    # When SendTaskSuccess brings an output nested 10,000 levels deep
    with pytest.raises(errors.InvalidOutput) as caught:
        callback.send_task_success(taskToken=tokens[0], output=nested(TOO_DEEP))
    # Then it is refused, naming the limit
    assert f"more than {MAX_NESTING_DEPTH} levels deep" in caught.value.message


# --- control characters in state names -------------------------------------------------------


@pytest.mark.parametrize("character", ["\x00", "\n", "\x1f", "\x7f", "\x9f"])
def test_a_state_name_with_a_control_character_is_invalid(character: str) -> None:
    # Given a state whose name holds a control character
    name = f"Pay{character}ment"
    definition = {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}
    # When the definition is validated
    found = [d.message for d in validate_definition(definition)]
    # Then the name is refused, naming the character
    assert found == [
        f"State name {json.dumps(name)} contains the control character "
        f"U+{ord(character):04X}; state names cannot contain control characters "
        "(U+0000-U+001F, U+007F-U+009F)"
    ]


def test_a_state_name_with_spaces_and_punctuation_stays_valid() -> None:
    # Given a state name AWS accepts: spaces, punctuation, non-ASCII letters
    name = "Charge card: step #1 (€, ü)"
    definition = {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}
    # Then it is valid
    assert validate_definition(definition) == []


def test_creating_a_machine_with_a_nul_in_a_state_name_is_an_invalid_definition(
    client: Client,
) -> None:
    # Given a definition with a NUL in a state name
    definition = json.dumps(
        {"StartAt": "A\x00", "States": {"A\x00": {"Type": "Pass", "End": True}}}
    )
    # When a machine is created from it
    with pytest.raises(errors.InvalidDefinitionRequest) as caught:
        _machine(client, definition)
    # Then the API says why
    assert "control character U+0000" in caught.value.message
