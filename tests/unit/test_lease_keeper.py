"""The lease keeper renews the claims of running handlers, and only theirs (on a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from engine._clock import FakeClock
from engine._worker import LeaseKeeper

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class RecordingRuntime:
    """The one seam the keeper uses: renew_task_lease, the lease length and the clock."""

    def __init__(self, lease_seconds: float, clock: FakeClock) -> None:
        self.settings = SimpleNamespace(claim_seconds=lease_seconds)
        self.clock = clock
        self.renewed: list[tuple[int, str, int]] = []
        self.failing = False

    def renew_task_lease(self, execution_id: int, thread_id: str, seq: int) -> None:
        if self.failing:
            raise ConnectionError("the store is down")
        self.renewed.append((execution_id, thread_id, seq))


def _keeper(lease_seconds: float = 30.0) -> tuple[LeaseKeeper, Any, FakeClock]:
    clock = FakeClock(T0)
    runtime: Any = RecordingRuntime(lease_seconds, clock)
    return LeaseKeeper(runtime, background=False), runtime, clock


def test_a_running_handler_is_renewed_once_a_third_of_its_lease_has_passed() -> None:
    # Given a keeper with a 30 s lease holding a running handler's claim
    keeper, runtime, clock = _keeper(30.0)
    with keeper.holding(7, "root", 3):
        # When less than a third of the lease has passed
        clock.advance(9.9)
        # Then nothing is renewed yet
        assert keeper.renew_due() == []
        # When the third is reached
        clock.advance(0.1)
        # Then its claim is renewed, and again only a third later
        assert keeper.renew_due() == [(7, "root", 3)]
        clock.advance(5)
        assert keeper.renew_due() == []
        clock.advance(5)
        assert keeper.renew_due() == [(7, "root", 3)]
    assert runtime.renewed == [(7, "root", 3), (7, "root", 3)]


def test_a_finished_handler_is_no_longer_renewed() -> None:
    # Given a handler that ran and finished
    keeper, runtime, clock = _keeper(30.0)
    with keeper.holding(8, "root", 1):
        pass
    # When time passes
    clock.advance(60)
    # Then its claim is not renewed
    assert keeper.renew_due() == []
    assert runtime.renewed == []


def test_two_handlers_of_the_same_task_are_held_until_both_end() -> None:
    # Given a keeper holding the same task twice (a duplicate delivery running alongside)
    keeper, _runtime, clock = _keeper(30.0)
    with keeper.holding(1, "root", 1):
        with keeper.holding(1, "root", 1):
            pass
        # When one of them ends and a third of the lease passes
        clock.advance(10)
        # Then the other is still renewed
        assert keeper.renew_due() == [(1, "root", 1)]


def test_a_failed_renewal_is_retried_at_the_next_tick() -> None:
    # Given a running handler whose renewal fails once (the store is briefly down)
    keeper, runtime, clock = _keeper(30.0)
    with keeper.holding(2, "root", 4):
        clock.advance(10)
        runtime.failing = True
        # When the keeper ticks while the store is down, then once it is back
        failed = keeper.renew_due()
        runtime.failing = False
        retried = keeper.renew_due()
    # Then the failure loses nothing: the claim is renewed at the next tick
    assert failed == []
    assert retried == [(2, "root", 4)]
