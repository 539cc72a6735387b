"""Where the runtime sends a Task's invocation: by what the workers announced they serve."""

from __future__ import annotations

from datetime import UTC, datetime

from engine._clock import FakeClock
from engine._runtime import Runtime, RuntimeSettings
from engine._store.repository import Store
from engine._store.workers import announce, announcements
from engine.testing import InMemoryDispatcher

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:"


def _runtime(store: Store) -> Runtime:
    return Runtime(store, InMemoryDispatcher(), FakeClock(T0), settings=RuntimeSettings())


def test_before_any_worker_announced_a_handler_goes_to_its_own_queue(store: Store) -> None:
    # Given a store no worker has announced itself to
    runtime = _runtime(store)
    # When a Lambda-style task is routed
    queue = runtime.handler_queue(f"{FUNCTION}charge", {})
    # Then it waits on its handler's queue for a worker to come
    assert queue == "stepline.fn.charge"


def test_a_handler_some_worker_serves_goes_to_its_own_queue(store: Store) -> None:
    # Given a worker that announced the handler
    announce(store.engine, "w1@host", ["stepline.fn.charge"], ["charge"], [], T0)
    runtime = _runtime(store)
    # When tasks naming it are routed (as a function ARN and through lambda:invoke)
    direct = runtime.handler_queue(f"{FUNCTION}charge", {})
    invoked = runtime.handler_queue("arn:aws:states:::lambda:invoke", {"FunctionName": "charge"})
    # Then both go to the handler's queue
    assert direct == invoked == "stepline.fn.charge"


def test_a_handler_no_announced_worker_serves_goes_to_the_integrations_queue(
    store: Store,
) -> None:
    # Given workers that announced other handlers only
    announce(store.engine, "w1@host", ["stepline.fn.charge"], ["charge"], [], T0)
    runtime = _runtime(store)
    # When a misspelt handler is routed
    queue = runtime.handler_queue(f"{FUNCTION}chrage", {})
    # Then it goes where any worker fails it at once (no message nobody consumes)
    assert queue == "stepline.integrations"


def test_a_worker_announced_after_the_cache_was_read_is_seen_at_once(store: Store) -> None:
    # Given a runtime that read the announcements before a new worker started
    announce(store.engine, "w1@host", ["stepline.fn.charge"], ["charge"], [], T0)
    runtime = _runtime(store)
    assert runtime.handler_queue(f"{FUNCTION}charge", {}) == "stepline.fn.charge"
    announce(store.engine, "w2@host", ["stepline.fn.ship"], ["ship"], [], T0)
    # When a task for the new worker's handler is routed
    queue = runtime.handler_queue(f"{FUNCTION}ship", {})
    # Then the new announcement is read, not the cached one
    assert queue == "stepline.fn.ship"


def test_service_integrations_run_on_the_integrations_queue_and_activities_have_none(
    store: Store,
) -> None:
    # Given a runtime
    runtime = _runtime(store)
    # When a service integration and an activity are routed
    service = runtime.handler_queue("arn:aws:states:::sqs:sendMessage", {})
    activity = runtime.handler_queue("arn:aws:states:us-east-1:111111111111:activity:pack", {})
    # Then the service call goes to the integrations queue; the activity is polled instead
    assert service == "stepline.integrations"
    assert activity is None


def test_an_announcement_is_refreshed_not_duplicated(store: Store) -> None:
    # Given a worker that announced itself twice, the second time with another handler
    announce(store.engine, "w1@host", ["q1"], ["a"], [], T0)
    later = T0.replace(minute=5)
    announce(store.engine, "w1@host", ["q1", "q2"], ["a", "b"], ["sqs:sendMessage"], later)
    # When the announcements are read
    (only,) = announcements(store.engine)
    # Then there is one, the latest
    assert only.handlers == ("a", "b")
    assert only.integrations == ("sqs:sendMessage",)
    assert only.seen_at == later
