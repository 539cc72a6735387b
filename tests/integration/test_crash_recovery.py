"""kill -9 a worker mid-execution; after a restart every execution completes with the history
of an uninterrupted run: no transition duplicated, none missing (Redis + PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.conftest import Fleet, shape

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

FN = "arn:aws:lambda:us-east-1:111111111111:function:"

TASK_MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"seconds": 4, "id": "order-1"}, "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": FN + "slow", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
WAIT_MACHINE = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Next": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 4, "Next": "After"},
        "After": {"Type": "Pass", "Result": "waited", "End": True},
    },
}
MAP_MACHINE = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "MaxConcurrency": 4,
            "ItemSelector": {"id.$": "$$.Map.Item.Index", "seconds": 0.3},
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": FN + "quick", "End": True}},
            },
            "End": True,
        }
    },
}


def test_killed_while_a_task_handler_runs_the_execution_completes_as_if_uninterrupted(
    fleet: Fleet,
) -> None:
    # Given a clean run of a machine whose Task takes a few seconds
    machine = fleet.create("crash-task", TASK_MACHINE)
    clean = fleet.start_execution(machine, {}, "clean")
    fleet.await_signal("slow:0")
    assert fleet.await_status(clean)["status"] == "SUCCEEDED"

    # When the worker is killed -9 while the same Task's handler runs, then restarted
    crashed = fleet.start_execution(machine, {}, "crashed")
    fleet.await_signal("slow:0")
    fleet.kill("worker")
    fleet.start("worker")

    # Then the handler runs again (at-least-once) and the execution completes
    fleet.await_signal("slow:0", timeout=90)
    described = fleet.await_status(crashed, timeout=120)
    assert described["status"] == "SUCCEEDED"
    assert described["output"] == '{"done":"order-1"}'
    # with exactly the history of the uninterrupted run
    assert shape(fleet.history(crashed)) == shape(fleet.history(clean))


def test_killed_while_a_wait_is_pending_the_execution_completes_as_if_uninterrupted(
    fleet: Fleet,
) -> None:
    # Given a clean run of a machine with a Wait
    machine = fleet.create("crash-wait", WAIT_MACHINE)
    clean = fleet.start_execution(machine, {}, "clean")
    assert fleet.await_status(clean)["status"] == "SUCCEEDED"

    # When the worker dies -9 while the Wait is pending, and comes back after it was due
    crashed = fleet.start_execution(machine, {}, "crashed")
    fleet.await_event(crashed, "WaitStateEntered")
    fleet.kill("worker")
    fleet.await_condition(
        lambda: (
            fleet.store.next_timer_due() is None
            or fleet.store.next_timer_due() <= fleet.client.clock.now()
        ),
        30,
        "the wait to fall due",
    )
    fleet.start("worker")

    # Then the timer (a row, not a message) fires and the execution completes unchanged
    described = fleet.await_status(crashed, timeout=120)
    assert described["status"] == "SUCCEEDED"
    assert shape(fleet.history(crashed)) == shape(fleet.history(clean))


def test_killed_during_a_map_fan_out_every_iteration_runs_exactly_once(fleet: Fleet) -> None:
    # Given a clean run of a Map of 24 items, 4 at a time
    machine = fleet.create("crash-map", MAP_MACHINE)
    items = list(range(24))
    clean = fleet.start_execution(machine, items, "clean")
    assert fleet.await_status(clean)["status"] == "SUCCEEDED"

    # When the worker is killed -9 in the middle of the fan-out, then restarted
    crashed = fleet.start_execution(machine, items, "crashed")
    fleet.await_condition(
        lambda: sum(e.type == "MapIterationSucceeded" for e in fleet.history(crashed)) >= 6,
        60,
        "six iterations to finish",
    )
    fleet.kill("worker")
    fleet.start("worker")

    # Then the Map completes with every item's result, in order
    described = fleet.await_status(crashed, timeout=180)
    assert described["status"] == "SUCCEEDED"
    assert described["output"] == fleet.client.describe_execution(executionArn=clean)["output"]
    # and the history holds the same transitions, none twice, ids contiguous
    crashed_history, clean_history = fleet.history(crashed), fleet.history(clean)
    kinds = Counter((e.type, e.state_name) for e in crashed_history)
    assert kinds == Counter((e.type, e.state_name) for e in clean_history)
    assert [e.id for e in crashed_history] == list(range(1, len(crashed_history) + 1))
