"""TestState (`Client.test_state`): one state evaluated alone, as AWS's TestState does.

Every response is checked against botocore's ``TestStateOutput`` shape.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from engine import _errors as errors
from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._errors import StatesError
from engine._integrations.services import Services
from engine._resources import HandlerRegistry
from tests.shapes import assert_shape, body
from tests.unit.interpreter.support import T0

Json = Any
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"


def client(registry: HandlerRegistry | None = None) -> Client:
    """A local client on a fake clock over ``registry``."""
    clock = FakeClock(T0)
    return Client(LocalBackend(handlers=registry or HandlerRegistry(), clock=clock), clock=clock)


def run(state: dict[str, Json], value: Json = None, **request: Json) -> dict[str, Json]:
    """TestState on the lone ``state`` with input ``value``; the response, shape-checked."""
    registry = request.pop("registry", None)
    response = client(registry).test_state(
        definition=json.dumps(state),
        input=json.dumps(value if value is not None else {}),
        **request,
    )
    assert_shape("TestState", response)
    return body(response)


def inspected(response: dict[str, Json]) -> dict[str, Json]:
    """``inspectionData`` with its JSON texts parsed."""
    data = response["inspectionData"]
    return {k: (json.loads(v) if isinstance(v, str) else v) for k, v in data.items()}


def failing_task(**fields: Json) -> dict[str, Json]:
    """A Task on a mocked failure, with extra ``fields`` (Retry, Catch...)."""
    return {"Type": "Task", "Resource": f"{LAMBDA}work", "Next": "After", **fields}


ERROR_MOCK = {"errorOutput": {"error": "Boom", "cause": "it broke"}}


def test_given_a_jsonpath_pass_when_tested_at_debug_then_each_stage_is_shown() -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.in",
        "Parameters": {"a.$": "$.x"},
        "ResultPath": "$.r",
        "Next": "After",
    }
    response = run(state, {"in": {"x": 1}}, inspectionLevel="DEBUG")
    assert response["status"] == "SUCCEEDED"
    assert response["nextState"] == "After"
    assert json.loads(response["output"]) == {"in": {"x": 1}, "r": {"a": 1}}
    data = inspected(response)
    assert data["input"] == {"in": {"x": 1}}
    assert data["afterInputPath"] == {"x": 1}
    assert data["afterParameters"] == {"a": 1}
    assert data["afterResultPath"] == {"in": {"x": 1}, "r": {"a": 1}}


def test_given_no_inspection_level_when_tested_then_info_shows_no_inspection_data() -> None:
    response = run({"Type": "Pass", "End": True}, {"a": 1})
    assert body(response) == {"status": "SUCCEEDED", "output": '{"a":1}'}


def test_given_an_unknown_inspection_level_when_tested_then_validation_names_it() -> None:
    with pytest.raises(errors.ValidationException, match=r"inspectionLevel.*LOUD"):
        run({"Type": "Pass", "End": True}, inspectionLevel="LOUD")


def test_given_a_machine_when_state_name_is_unknown_then_validation_names_it() -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    with pytest.raises(errors.ValidationException, match=r"stateName.*'Nope'"):
        client().test_state(definition=json.dumps(machine), stateName="Nope")
    with pytest.raises(errors.ValidationException, match="stateName"):
        client().test_state(definition=json.dumps(machine))


def test_given_a_machine_and_a_state_name_when_tested_then_that_state_runs() -> None:
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Result": 7, "Next": "C"},
            "C": {"Type": "Succeed"},
        },
    }
    response = client().test_state(definition=json.dumps(machine), stateName="B", input="{}")
    assert_shape("TestState", response)
    assert body(response) == {"status": "SUCCEEDED", "output": "7", "nextState": "C"}


def test_given_an_invalid_state_when_tested_then_invalid_definition_lists_the_problem() -> None:
    with pytest.raises(errors.InvalidDefinitionRequest, match="Invalid State Machine Definition"):
        run({"Type": "Pass"})  # neither Next nor End
    with pytest.raises(errors.InvalidDefinitionRequest):
        client().test_state(definition="{not json")


def test_given_a_choice_when_a_rule_matches_then_next_state_is_its_next() -> None:
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
        "Default": "Small",
    }
    assert run(state, {"n": 2})["nextState"] == "Big"
    assert run(state, {"n": 0})["nextState"] == "Small"


def test_given_a_choice_without_default_when_nothing_matches_then_it_fails() -> None:
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}],
    }
    response = run(state, {"n": 2})
    assert response["status"] == "FAILED"
    assert response["error"] == "States.NoChoiceMatched"


def test_given_a_wait_when_tested_then_it_succeeds_at_once_with_its_next() -> None:
    response = run({"Type": "Wait", "Seconds": 3600, "Next": "After"}, {"a": 1})
    assert body(response) == {"status": "SUCCEEDED", "output": '{"a":1}', "nextState": "After"}


def test_given_succeed_and_fail_states_when_tested_then_they_end_as_they_say() -> None:
    assert run({"Type": "Succeed", "OutputPath": "$.a"}, {"a": 2}) == {
        "status": "SUCCEEDED",
        "output": "2",
    }
    failed = run({"Type": "Fail", "ErrorPath": "$.e", "Cause": "because"}, {"e": "Bad"})
    assert failed == {"status": "FAILED", "error": "Bad", "cause": "because"}


def test_given_a_mocked_task_result_when_tested_then_selector_and_path_apply() -> None:
    state = failing_task(ResultSelector={"v.$": "$.value"}, ResultPath="$.out")
    response = run(
        state,
        {"k": 1},
        inspectionLevel="DEBUG",
        mock={"result": json.dumps({"value": 5, "noise": 0})},
    )
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"k": 1, "out": {"v": 5}}
    data = inspected(response)
    assert data["result"] == {"value": 5, "noise": 0}
    assert data["afterResultSelector"] == {"v": 5}


def test_given_a_retrier_with_attempts_left_when_the_task_fails_then_it_is_retriable() -> None:
    state = failing_task(
        Retry=[
            {"ErrorEquals": ["Other"]},
            {"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2},
        ]
    )
    response = run(
        state,
        inspectionLevel="DEBUG",
        mock=ERROR_MOCK,
        stateConfiguration={"retrierRetryCount": 1},
    )
    assert response["status"] == "RETRIABLE"
    assert (response["error"], response["cause"]) == ("Boom", "it broke")
    assert "nextState" not in response
    details = response["inspectionData"]["errorDetails"]
    assert details == {"retryIndex": 1, "retryBackoffIntervalSeconds": 6}


def test_given_retries_used_up_when_a_catcher_matches_then_the_error_is_caught() -> None:
    state = failing_task(
        Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 1}],
        Catch=[
            {"ErrorEquals": ["Other"], "Next": "Elsewhere"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handler"},
        ],
    )
    response = run(
        state,
        {"k": 1},
        inspectionLevel="DEBUG",
        mock=ERROR_MOCK,
        stateConfiguration={"retrierRetryCount": 1},
    )
    assert response["status"] == "CAUGHT_ERROR"
    assert response["nextState"] == "Handler"
    assert json.loads(response["output"]) == {"k": 1, "err": {"Error": "Boom", "Cause": "it broke"}}
    assert response["inspectionData"]["errorDetails"] == {"catchIndex": 1}


def test_given_no_retrier_or_catcher_when_the_task_fails_then_it_failed() -> None:
    response = run(failing_task(), mock=ERROR_MOCK)
    assert body(response) == {"status": "FAILED", "error": "Boom", "cause": "it broke"}


def test_given_no_mock_when_a_task_runs_then_the_registered_handler_is_called() -> None:
    registry = HandlerRegistry()
    registry.register("work", lambda event, context: {"got": event, "state": context.state_name})
    state = failing_task(Parameters={"x.$": "$.x"})
    response = run(state, {"x": 3}, registry=registry)
    assert response["status"] == "SUCCEEDED"
    assert json.loads(response["output"]) == {"got": {"x": 3}, "state": "TestState"}


def test_given_no_mock_when_the_handler_raises_then_its_error_meets_the_retrier() -> None:
    registry = HandlerRegistry()

    def explode(event: Json, context: Json) -> Json:
        raise StatesError("Custom", "bad input")

    registry.register("work", explode)
    state = failing_task(Retry=[{"ErrorEquals": ["States.ALL"]}])
    response = run(state, registry=registry)
    assert response["status"] == "RETRIABLE"


def test_given_a_jsonata_task_when_mocked_then_arguments_and_output_apply() -> None:
    state = failing_task(
        QueryLanguage="JSONata",
        Arguments={"n": "{% $states.input.n + 1 %}"},
        Output={"doubled": "{% $states.result.v * 2 %}"},
        Assign={"seen": "{% $states.result.v %}"},
    )
    response = run(state, {"n": 1}, inspectionLevel="DEBUG", mock={"result": '{"v": 4}'})
    assert json.loads(response["output"]) == {"doubled": 8}
    data = inspected(response)
    assert data["afterArguments"] == {"n": 2}
    assert data["variables"] == {"seen": 4}
    assert "afterInputPath" not in data


def test_given_variables_and_context_when_tested_then_the_state_sees_them() -> None:
    state = {
        "Type": "Pass",
        "Parameters": {"v.$": "$known", "name.$": "$$.Execution.Name"},
        "End": True,
    }
    response = run(
        state,
        variables=json.dumps({"known": 9}),
        context=json.dumps({"Execution": {"Name": "mine"}}),
    )
    assert json.loads(response["output"]) == {"v": 9, "name": "mine"}


def test_given_a_parallel_when_mocked_then_its_result_flows_and_unmocked_it_is_refused() -> None:
    state = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}],
        "ResultPath": "$.branches",
        "End": True,
    }
    response = run(state, {"a": 1}, mock={"result": "[1, 2]"})
    assert json.loads(response["output"]) == {"a": 1, "branches": [1, 2]}
    with pytest.raises(errors.ValidationException, match=r"Parallel.*mock"):
        run(state)


def test_given_a_map_when_mocked_then_items_path_and_item_selector_are_shown() -> None:
    state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
        "MaxConcurrency": 2,
        "ToleratedFailurePercentage": 50,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    response = run(state, {"items": [10, 20]}, inspectionLevel="DEBUG", mock={"result": "[1]"})
    data = inspected(response)
    assert data["afterItemsPath"] == [10, 20]
    assert data["afterItemSelector"] == [{"value": 10, "index": 0}, {"value": 20, "index": 1}]
    assert (data["maxConcurrency"], data["toleratedFailurePercentage"]) == (2, 50)
    assert json.loads(response["output"]) == [1]


def test_given_a_mock_when_the_state_is_a_pass_then_validation_refuses_it() -> None:
    with pytest.raises(errors.ValidationException, match=r"mock.*Pass"):
        run({"Type": "Pass", "End": True}, mock={"result": "1"})


def test_given_a_mock_with_result_and_error_when_tested_then_validation_refuses_it() -> None:
    with pytest.raises(errors.ValidationException, match="exactly one"):
        run(failing_task(), mock={"result": "1", **ERROR_MOCK})


def test_given_an_http_task_when_tested_at_trace_then_request_and_response_are_shown() -> None:
    # Given an HTTP Task whose endpoint answers 200 with a JSON body
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"echo": json.loads(request.content)})

    tested = Client.local(HandlerRegistry(), clock=FakeClock(T0))
    backend = tested.sync_backend
    assert isinstance(backend, LocalBackend)
    backend.executor.services = Services(
        client=tested, http=lambda: httpx.Client(transport=httpx.MockTransport(answer))
    )
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": "https://api.example.com/items",
            "Method": "POST",
            "RequestBody": {"n": 1},
        },
        "ResultSelector": {"body.$": "$.ResponseBody"},
        "End": True,
    }
    # When it is tested at TRACE
    response = tested.test_state(
        definition=json.dumps(state), inspectionLevel="TRACE", revealSecrets=True
    )
    assert_shape("TestState", response)
    # Then the request sent and the response got are shown beside the data flow
    assert json.loads(response["output"]) == {"body": {"echo": {"n": 1}}}
    data = response["inspectionData"]
    assert data["request"]["method"] == "POST"
    assert data["request"]["url"] == "https://api.example.com/items"
    assert json.loads(data["request"]["body"]) == {"n": 1}
    assert data["response"]["statusCode"] == "200"
    assert json.loads(data["response"]["body"]) == {"echo": {"n": 1}}


def test_given_reveal_secrets_when_the_level_is_not_trace_then_validation_refuses_it() -> None:
    with pytest.raises(errors.ValidationException, match="revealSecrets"):
        run({"Type": "Pass", "End": True}, inspectionLevel="DEBUG", revealSecrets=True)


def test_given_a_jsonata_choice_when_a_condition_holds_then_its_output_and_next_apply() -> None:
    state = {
        "Type": "Choice",
        "QueryLanguage": "JSONata",
        "Choices": [
            {"Condition": "{% $states.input.n > 1 %}", "Output": {"big": True}, "Next": "Big"}
        ],
        "Default": "Small",
    }
    response = run(state, {"n": 2})
    assert (response["nextState"], json.loads(response["output"])) == ("Big", {"big": True})


def test_given_an_input_path_selecting_nothing_when_tested_then_the_failure_is_not_caught() -> None:
    catch_all = [{"ErrorEquals": ["States.ALL"], "Next": "X"}]
    state = failing_task(InputPath="$.missing", Catch=catch_all)
    response = run(state, {"a": 1}, mock={"result": "1"})
    assert (response["status"], response["error"]) == ("FAILED", "States.Runtime")
    assert "$.missing" in response["cause"]


def test_given_an_output_over_the_payload_limit_when_tested_then_data_limit_exceeded() -> None:
    state = failing_task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "X"}])
    response = run(state, mock={"result": json.dumps("x" * 300_000)})
    assert (response["status"], response["error"]) == ("FAILED", "States.DataLimitExceeded")


def test_given_a_retrier_retry_count_when_a_task_reads_its_retry_count_then_it_is_that() -> None:
    state = failing_task(
        Parameters={"try.$": "$$.State.RetryCount"},
        ResultSelector={"seen.$": "$$.State.RetryCount"},
    )
    response = run(
        state,
        inspectionLevel="DEBUG",
        mock={"result": "{}"},
        stateConfiguration={"retrierRetryCount": 2},
    )
    assert inspected(response)["afterParameters"] == {"try": 2}
    assert json.loads(response["output"]) == {"seen": 2}


def test_given_a_wait_whose_seconds_path_is_missing_when_tested_then_it_fails() -> None:
    response = run({"Type": "Wait", "SecondsPath": "$.s", "Next": "After"}, {"a": 1})
    assert (response["status"], response["error"]) == ("FAILED", "States.Runtime")


TOLERANT_MAP = {
    "Type": "Map",
    "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}},
    "ToleratedFailureCount": 1,
    "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "TooMany"}],
    "End": True,
}


def test_given_map_failures_within_tolerance_when_tested_then_the_mocked_result_flows() -> None:
    response = run(
        TOLERANT_MAP,
        [1, 2, 3],
        mock={"result": "[1, 3]"},
        stateConfiguration={"mapIterationFailureCount": 1},
    )
    assert (response["status"], json.loads(response["output"])) == ("SUCCEEDED", [1, 3])


def test_given_map_failures_over_tolerance_when_tested_then_the_threshold_error_is_caught() -> None:
    response = run(
        TOLERANT_MAP,
        [1, 2, 3],
        mock={"result": "[1]"},
        stateConfiguration={"mapIterationFailureCount": 2},
    )
    assert response["status"] == "CAUGHT_ERROR"
    assert response["error"] == "States.ExceedToleratedFailureThreshold"
    assert response["nextState"] == "TooMany"


def test_given_error_caused_by_state_when_it_is_not_inside_the_map_then_validation_names_it() -> (
    None
):
    configuration = {"errorCausedByState": "Elsewhere"}
    with pytest.raises(errors.ValidationException, match="'Elsewhere'"):
        run(TOLERANT_MAP, [1], mock=ERROR_MOCK, stateConfiguration=configuration)
    response = run(
        TOLERANT_MAP, [1], mock=ERROR_MOCK, stateConfiguration={"errorCausedByState": "Work"}
    )
    assert response["status"] == "FAILED"
    with pytest.raises(errors.ValidationException, match="errorCausedByState"):
        run(failing_task(), mock=ERROR_MOCK, stateConfiguration={"errorCausedByState": "Work"})
