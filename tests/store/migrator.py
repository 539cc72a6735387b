"""Run in a child process by the concurrent-migration test (spawned processes import it)."""

from __future__ import annotations

from typing import Any

from engine._store.migrate import upgrade


def upgrade_together(barrier: Any, url: str) -> None:
    """Wait for the other migrator, then upgrade ``url`` (so both really run at once)."""
    barrier.wait(timeout=60)
    upgrade(url)
