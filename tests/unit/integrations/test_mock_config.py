"""Step Functions Local's mock config: parsing, attempt ranges, test case lookup, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from engine._errors import StatesError
from engine._integrations.mocks import (
    MockConfigError,
    load_mock_config,
    parse_mock_config,
    split_test_case,
    state_invocation,
    with_mocks,
)
from engine._interpreter.history import HistoryEvent
from engine._resources import HandlerRegistry, TaskCall

EXECUTION = "arn:aws:states:us-east-1:111111111111:execution:LambdaSQSIntegration:run-1"
# AWS's documented example (sfn-local-mock-cfg-file), trimmed
DOCUMENTED: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
                "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {
            "0": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}}
        },
        "MockedSQSSuccess": {"0": {"Return": {"MessageId": "3bcb6e8e"}}},
        "MockedLambdaRetry": {
            "0": {
                "Throw": {
                    "Error": "Lambda.ResourceNotReadyException",
                    "Cause": "Lambda resource is not ready.",
                }
            },
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}},
        },
    },
}


def _call(state: str, invocation: int = 0, test_case: str | None = "RetryPath") -> TaskCall:
    return TaskCall(
        resource="arn:aws:states:::lambda:invoke",
        parameters={"FunctionName": "real"},
        execution_arn=EXECUTION,
        state_name=state,
        test_case=test_case,
        state_invocation=invocation,
    )


def _registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register("real", lambda event, context: "really called")
    return with_mocks(registry, parse_mock_config(DOCUMENTED))


def test_given_aws_documented_example_when_parsed_then_each_attempt_gets_its_outcome() -> None:
    config = parse_mock_config(DOCUMENTED)
    outcomes = [
        config.outcome("LambdaSQSIntegration", "RetryPath", "LambdaState", invocation)
        for invocation in range(4)
    ]
    assert [o.error if o else None for o in outcomes] == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
        None,
    ]
    assert outcomes[3] is not None
    assert outcomes[3].result == {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}


def test_given_test_case_when_a_listed_state_is_invoked_then_the_mock_answers() -> None:
    registry = _registry()
    with pytest.raises(StatesError) as raised:
        registry.invoke(_call("LambdaState", invocation=1))
    assert (raised.value.name, raised.value.cause) == (
        "Lambda.TimeoutException",
        "Lambda timed out.",
    )
    assert registry.invoke(_call("SQSState")) == {"MessageId": "3bcb6e8e"}


def test_given_test_case_when_an_unlisted_state_is_invoked_then_it_is_really_called() -> None:
    registry = _registry()
    result = registry.invoke(_call("SQSState", test_case="HybridPath"))
    assert result["Payload"] == "really called"


def test_given_no_test_case_when_a_listed_state_is_invoked_then_it_is_really_called() -> None:
    assert _registry().invoke(_call("LambdaState", test_case=None))["Payload"] == "really called"


def test_given_wait_for_task_token_mocked_when_invoked_then_the_mock_answers_at_once() -> None:
    call = TaskCall(
        resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        parameters={},
        execution_arn=EXECUTION,
        state_name="SQSState",
        task_token="token",
        test_case="HappyPath",
    )
    assert _registry().invoke(call) == {"MessageId": "3bcb6e8e"}


def test_given_invocation_no_key_covers_when_invoked_then_states_runtime_names_the_gap() -> None:
    with pytest.raises(StatesError) as raised:
        _registry().invoke(_call("LambdaState", invocation=4))
    assert raised.value.name == "States.Runtime"
    assert "invocation 4" in str(raised.value.cause)
    assert "MockedLambdaRetry" in str(raised.value.cause)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:states:us-east-1:1:stateMachine:M#Happy",
            ("arn:aws:states:us-east-1:1:stateMachine:M", "Happy"),
        ),
        (
            "arn:aws:states:us-east-1:1:stateMachine:M",
            ("arn:aws:states:us-east-1:1:stateMachine:M", None),
        ),
    ],
)
def test_given_state_machine_arn_when_split_then_the_test_case_is_after_the_hash(
    arn: str, expected: tuple[str, str | None]
) -> None:
    assert split_test_case(arn) == expected


def _with_response(entries: Any) -> dict[str, Any]:
    return {
        "StateMachines": {"M": {"TestCases": {"T": {"S": "R"}}}},
        "MockedResponses": {"R": entries},
    }


@pytest.mark.parametrize(
    ("document", "place", "expected"),
    [
        ([], "at $:", "a JSON object"),
        ({"StateMachine": {}}, "at $:", "only 'StateMachines' and 'MockedResponses'"),
        (
            {"StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}}},
            "at $.StateMachines.M.TestCases.T.S:",
            "the name of a MockedResponses entry",
        ),
        (_with_response({}), "at $.MockedResponses.R:", "at least one attempt key"),
        (_with_response({"first": {"Return": 1}}), "$.MockedResponses.R.first", "'0' or '1-2'"),
        (_with_response({"3-1": {"Return": 1}}), "$.MockedResponses.R.3-1", "not before"),
        (
            _with_response({"0-2": {"Return": 1}, "2": {"Return": 2}}),
            "at $.MockedResponses.R:",
            "attempt keys that do not overlap",
        ),
        (
            _with_response({"0": {"Return": 1, "Throw": {"Error": "E"}}}),
            "$.MockedResponses.R.0:",
            "exactly one of 'Return' or 'Throw'",
        ),
        (_with_response({"0": {"Throw": {"Cause": "c"}}}), "R.0.Throw.Error", "a non-empty string"),
        (
            _with_response({"0": {"Throw": {"Error": "E", "Cause": 3}}}),
            "R.0.Throw.Cause",
            "a string",
        ),
    ],
)
def test_given_malformed_config_when_parsed_then_the_error_names_place_expected_and_received(
    document: Any, place: str, expected: str
) -> None:
    with pytest.raises(MockConfigError) as raised:
        parse_mock_config(document, source="mock.json")
    message = str(raised.value)
    assert message.startswith("mock config mock.json")
    assert place in message
    assert "expected " in message
    assert expected in message


def test_given_a_file_that_is_not_json_when_loaded_then_the_error_names_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(MockConfigError, match=f"mock config {path}: expected JSON"):
        load_mock_config(path)
    with pytest.raises(MockConfigError, match="cannot be read"):
        load_mock_config(tmp_path / "absent.json")


def test_given_a_valid_file_when_loaded_then_its_test_cases_are_known(tmp_path: Path) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(DOCUMENTED), encoding="utf-8")
    config = load_mock_config(path)
    assert config.has_test_case("LambdaSQSIntegration", "HybridPath")
    assert not config.has_test_case("LambdaSQSIntegration", "SadPath")
    assert config.source == str(path)


def test_given_sfn_mock_config_or_stepline_setting_when_settings_read_then_both_name_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEPLINE_MOCK_CONFIG", raising=False)
    monkeypatch.setenv("SFN_MOCK_CONFIG", "/tests/MockConfigFile.json")
    assert Settings().mock_config == "/tests/MockConfigFile.json"
    monkeypatch.setenv("STEPLINE_MOCK_CONFIG", "/stepline/mocks.json")
    assert Settings().mock_config == "/stepline/mocks.json"


def _event(event_id: int, kind: str, thread: str, name: str | None = None) -> HistoryEvent:
    details = {"name": name} if name else {}
    return HistoryEvent(event_id, event_id - 1, kind, "2026-01-01T00:00:00Z", details, thread)


def test_given_retries_and_map_iterations_when_counted_then_every_call_of_the_state_counts() -> (
    None
):
    # Given Charge called in root, retried, then called in two Map iterations; Notify between
    history = [
        _event(1, "TaskStateEntered", "root", "Charge"),
        _event(2, "TaskScheduled", "root"),
        _event(3, "TaskFailed", "root"),
        _event(4, "TaskScheduled", "root"),  # the retry
        _event(5, "TaskStateEntered", "root", "Notify"),
        _event(6, "TaskScheduled", "root"),
        _event(7, "TaskStateEntered", "root/1.0.0", "Charge"),
        _event(8, "LambdaFunctionScheduled", "root/1.0.0"),
        _event(9, "TaskStateEntered", "root/1.0.1", "Charge"),
        _event(10, "LambdaFunctionScheduled", "root/1.0.1"),
    ]
    # When each current call is numbered
    # Then the count runs over the whole execution, in the order the calls were scheduled
    assert state_invocation(history[:2], "root", "Charge") == 0
    assert state_invocation(history[:4], "root", "Charge") == 1
    assert state_invocation(history[:6], "root", "Notify") == 0
    assert state_invocation(history, "root/1.0.0", "Charge") == 2
    assert state_invocation(history, "root/1.0.1", "Charge") == 3


def test_given_a_mock_config_path_when_a_local_client_is_built_then_it_reads_the_file(
    tmp_path: Path,
) -> None:
    from engine._api import Client

    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(DOCUMENTED), encoding="utf-8")
    registry = HandlerRegistry()
    client = Client.local(registry, mock_config=str(path))
    mocks = getattr(client.backend, "handlers", None)
    assert mocks is not None
    assert mocks.mocks is not None
    assert mocks.mocks.source == str(path)
    assert registry.mocks is None  # the caller's registry is not changed
    with pytest.raises(MockConfigError, match="cannot be read"):
        Client.local(registry, mock_config=tmp_path / "absent.json")
