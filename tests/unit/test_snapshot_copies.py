"""The interpreter's cheap snapshot copies and lazily seeded random source."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import (
    Execution,
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
    evolve,
)


def a_thread() -> Thread:
    return Thread(
        id="root",
        parent_id=None,
        index=None,
        scope=(),
        status=ThreadStatus.RUNNING,
        state="A",
        input={"x": 1},
        fan_out=FanOut(total=3),
    )


def test_evolve_makes_the_copy_dataclasses_replace_makes() -> None:
    # Given a thread and an execution
    thread = a_thread()
    execution = Execution("arn", "n", "sm", "sm", "role", "t", {"in": 1})
    # When each is copied with changes by evolve and by dataclasses.replace
    changes = {"state": "B", "phase": Phase.TASK, "seq": 4, "retry_counts": (1,)}
    # Then the copies are equal, the originals untouched
    assert evolve(thread, **changes) == replace(thread, **changes)
    assert evolve(execution, next_event_id=9) == replace(execution, next_event_id=9)
    assert thread.state == "A"
    assert execution.next_event_id == 1


def test_evolve_refuses_a_field_the_snapshot_does_not_have() -> None:
    # Given a thread
    thread = a_thread()
    # When it is copied with a misspelt field
    # Then that is a TypeError naming the field, as with dataclasses.replace
    with pytest.raises(TypeError, match="stat_e"):
        evolve(thread, stat_e="B")


def test_evolve_keeps_the_copy_frozen() -> None:
    # Given a copy made by evolve
    copy = evolve(a_thread(), state="B")
    # When it is assigned to
    # Then it refuses, like any frozen dataclass
    with pytest.raises(AttributeError):
        copy.state = "C"  # type: ignore[misc]


def test_the_step_rng_draws_what_a_random_seeded_with_its_key_draws() -> None:
    # Given a step's random source and a Random seeded with the same key text
    lazy, eager = step_rng(5, "root", 3), random.Random("5:root:3")
    # When both draw floats and bits
    # Then they draw the same values, so replays of old checkpoints are unchanged
    assert [lazy.random(), lazy.getrandbits(128)] == [eager.random(), eager.getrandbits(128)]
