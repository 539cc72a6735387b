"""STEPLINE_QUEUES on a real fleet: a service's worker consumes only its own queues."""

from __future__ import annotations

from celery import Celery

from engine._store.workers import announcements
from tests.integration.conftest import Fleet

LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"
ONLY = "stepline.fn.quick"
# A Parallel's first step is a message on the steps queue (a Task first would be inlined
# into the start and go straight to the handler's queue).
MACHINE = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {
                    "StartAt": "Q",
                    "States": {"Q": {"Type": "Task", "Resource": f"{LAMBDA}quick", "End": True}},
                }
            ],
        }
    },
}


def test_a_worker_given_only_a_handler_queue_runs_no_state_steps(fleet: Fleet) -> None:
    # Given the only worker is one started with STEPLINE_QUEUES naming a handler queue
    fleet.kill("worker")
    default_env = dict(fleet.env)
    fleet.env = {**default_env, "STEPLINE_QUEUES": ONLY}
    fleet.start("worker")
    # (its node name is the killed worker's: wait for its own announcement, of ONLY)
    restricted = fleet.await_condition(
        lambda: next((a for a in announcements(fleet.store.engine) if a.queues == (ONLY,)), None),
        60,
        "the restricted worker's announcement",
    )
    app = Celery(broker=fleet.env["STEPLINE_BROKER_URL"])
    consumed = app.control.inspect(destination=[restricted.name], timeout=10).active_queues()
    assert [queue["name"] for queue in consumed[restricted.name]] == [ONLY]
    # When an execution starts
    run = fleet.start_execution(fleet.create("only-quick", MACHINE), {"x": 1}, "only-quick-1")
    # Then after a round trip through the worker's loop, its first step is still unconsumed
    assert app.control.ping(destination=[restricted.name], timeout=10)
    assert [event.type for event in fleet.history(run)] == ["ExecutionStarted"]
    # And once a default worker runs, the execution goes on to its end
    fleet.kill("worker")
    fleet.env = default_env
    fleet.start("worker")
    assert fleet.await_status(run)["status"] == "SUCCEEDED"
