"""RedriveExecution on a real fleet: the execution continues from its stored checkpoint.

A Parallel's second branch fails on a Celery worker; once its dependency is fixed the
execution is redriven, and the worker re-runs only that branch: the first branch's task
is not called again and its stored result is part of the output.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Fleet
from tests.integration.crash_handlers import FIXED, SIGNALS

FN = "arn:aws:lambda:us-east-1:111111111111:function:"


def _branch(name: str, handler: str) -> dict[str, object]:
    task = {"Type": "Task", "Resource": FN + handler, "End": True}
    return {"StartAt": name, "States": {name: task}}


MACHINE = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [_branch("A", "quick"), _branch("B", "fails_until_fixed")],
            "End": True,
        }
    },
}

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def _signals(fleet: Fleet) -> list[str]:
    return [item.decode() for item in fleet.signals.lrange(SIGNALS, 0, -1)]


def test_given_a_failed_branch_on_a_fleet_when_redriven_then_only_it_runs_again(
    fleet: Fleet,
) -> None:
    machine_arn = fleet.create("redrive-fleet", MACHINE)
    arn = fleet.start_execution(machine_arn, {"order": 1}, "redrive-1")
    failed = fleet.await_status(arn)
    assert failed["status"] == "FAILED", failed
    assert failed["redriveStatus"] == "REDRIVABLE"

    fleet.signals.set(FIXED, "1")
    fleet.client.redrive_execution(executionArn=arn, clientToken="fleet-1")
    fleet.await_event(arn, "ExecutionRedriven")
    done = fleet.await_status(arn)

    assert done["status"] == "SUCCEEDED", done
    assert done["redriveCount"] == 1
    assert json.loads(done["output"]) == [{"order": 1}, {"fixed": {"order": 1}}]
    assert _signals(fleet).count("quick") == 1
    assert _signals(fleet).count("fails_until_fixed") == 2
    kinds = [e.type for e in fleet.history(arn)]
    assert kinds.index("ExecutionFailed") < kinds.index("ExecutionRedriven")
    assert kinds[-1] == "ExecutionSucceeded"
