"""A Task naming a handler no worker serves fails at once on a fleet, as AWS fails it."""

from __future__ import annotations

import pytest

from engine._store.workers import announcements
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:"


def test_a_misspelt_handler_fails_at_once_with_resource_not_found(fleet: Fleet) -> None:
    # Given a fleet whose worker serves `quick` and `slow`, and a Task naming `quikc`
    machine = fleet.create(
        "misspelt",
        {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": f"{FUNCTION}quikc", "End": True}},
        },
    )
    # When an execution runs
    arn = fleet.start_execution(machine, {}, "misspelt")
    described = fleet.await_status(arn, timeout=60)
    # Then it failed with Lambda's error for a function that does not exist
    assert described["status"] == "FAILED", described
    assert described["error"] == "Lambda.ResourceNotFoundException"
    assert "quikc" in described["cause"]


def test_the_worker_announced_its_queues_and_handlers(fleet: Fleet) -> None:
    # Given a running fleet
    # When the store's announcements are read
    (worker,) = announcements(fleet.store.engine)
    # Then the worker named the shared queues and its handlers' queues
    assert {"stepline.steps", "stepline.integrations", "stepline.fn.quick"} <= set(worker.queues)
    assert {"quick", "slow"} <= set(worker.handlers)
