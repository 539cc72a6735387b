"""Step Functions Local's mock config on a real fleet: the worker reads the same file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
MOCKS = {
    "StateMachines": {"Charging": {"TestCases": {"FlakyThenFine": {"Charge": "Flaky"}}}},
    "MockedResponses": {
        "Flaky": {
            "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "mocked outage"}},
            "1": {"Return": {"charged": "mocked"}},
        }
    },
}
CHARGING = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            # `quick` is served by the fleet's worker: a real call would return its input
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:quick",
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1}],
            "End": True,
        }
    },
}


@pytest.fixture
def fleet_settings(tmp_path: Path) -> dict[str, str]:
    """Workers and client read the mock config named by STEPLINE_MOCK_CONFIG."""
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(MOCKS), encoding="utf-8")
    return {"STEPLINE_MOCK_CONFIG": str(path)}


def test_given_a_mocked_throw_then_return_when_run_on_a_worker_then_retry_reaches_the_return(
    fleet: Fleet,
) -> None:
    # Given a fleet whose worker and client read the mock config
    machine = fleet.create("Charging", CHARGING)
    # When the test case runs on the worker
    arn = fleet.start_execution(f"{machine}#FlakyThenFine", {"amount": 3}, "flaky-then-fine")
    described = fleet.await_status(arn, timeout=90)
    # Then the mocked Throw was retried and the mocked Return is the output
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"charged": "mocked"}
    events = [(e.type, e.details) for e in fleet.history(arn) if e.type.startswith("Lambda")]
    assert [event_type for event_type, _ in events] == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
    ]
    failed = events[2][1]
    assert (failed["error"], failed["cause"]) == ("Lambda.ServiceException", "mocked outage")
    # And the same machine started without the test case really calls `quick`
    real = fleet.start_execution(machine, {"amount": 3}, "really-called")
    assert fleet.await_status(real, timeout=90)["status"] == "SUCCEEDED"
