"""The jobs celery beat runs: every scheduled task exists, and pruning keeps what is live."""

from __future__ import annotations

import json
from datetime import timedelta

from freezegun import freeze_time

from engine import connect
from engine._resources import HandlerRegistry
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tasks import wiring
from tasks.app import app
from tasks.timers import prune_outbox

ROLE = "arn:aws:iam::111111111111:role/stepline"
CHAIN = {
    "StartAt": "A",
    "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
}


def test_every_beat_job_is_a_registered_task() -> None:
    # Given the beat schedule stepline configures
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    # When the app's tasks are loaded
    app.loader.import_default_modules()
    # Then each scheduled job names a task the workers know
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
    assert "stepline.housekeeping.prune_outbox" in scheduled


def test_the_prune_job_deletes_consumed_messages_after_their_retention(store: Store) -> None:
    with freeze_time("2026-01-01T00:00:00Z") as frozen:
        # Given an execution that ran to the end (its messages all consumed)
        client = connect(store=store, dispatcher=InMemoryDispatcher())
        runtime = client.backend.runtime
        arn = client.create_state_machine(name="chain", definition=json.dumps(CHAIN), roleArn=ROLE)[
            "stateMachineArn"
        ]
        client.start_execution(stateMachineArn=arn, input="{}")
        assert isinstance(runtime.dispatcher, InMemoryDispatcher)
        runtime.dispatcher.run_all(runtime, HandlerRegistry())
        assert store.counts()["outbox"] == 2
        wiring.set_runtime(runtime)
        try:
            # When the beat job runs within the retention, then after it
            kept = prune_outbox.run()
            frozen.tick(timedelta(seconds=wiring.settings().outbox_retention_seconds + 300))
            pruned = prune_outbox.run()
        finally:
            wiring.reset()
    # Then nothing goes while recent, and every consumed message goes once old
    assert (kept, pruned) == (0, 2)
    assert store.counts()["outbox"] == 0
