"""The lease keeper renews the claims of running handlers, and only theirs."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from engine.worker import LeaseKeeper


class RecordingRuntime:
    """The one seam the keeper uses: renew_task_lease (and the lease length)."""

    def __init__(self, lease_seconds: float) -> None:
        self.settings = SimpleNamespace(lease_seconds=lease_seconds)
        self.renewed: list[tuple[int, str, int]] = []
        self.event = threading.Event()

    def renew_task_lease(self, execution_id: int, thread_id: str, seq: int) -> None:
        self.renewed.append((execution_id, thread_id, seq))
        self.event.set()


def test_a_running_handler_has_its_claim_renewed_and_a_finished_one_not() -> None:
    # Given a keeper whose lease is 1.5 s (renewals every 0.5 s)
    runtime: Any = RecordingRuntime(lease_seconds=1.5)
    keeper = LeaseKeeper(runtime)
    # When a handler runs until its claim has been renewed
    with keeper.holding(7, "root", 3):
        assert runtime.event.wait(10), "the claim was never renewed"
    # Then that task's claim was renewed, and the finished task is no longer held
    assert runtime.renewed[0] == (7, "root", 3)
    runtime.event.clear()
    with keeper.holding(8, "root", 1):
        assert runtime.event.wait(10)
    assert (7, "root", 3) not in runtime.renewed[-1:]


def test_two_handlers_of_the_same_task_are_held_until_both_end() -> None:
    # Given a keeper holding the same task twice (a duplicate delivery running alongside)
    runtime: Any = RecordingRuntime(lease_seconds=1.5)
    keeper = LeaseKeeper(runtime)
    with keeper.holding(1, "root", 1):
        with keeper.holding(1, "root", 1):
            pass
        # When one of them ends
        # Then the other is still renewed
        assert runtime.event.wait(10)
    assert runtime.renewed[-1] == (1, "root", 1)
