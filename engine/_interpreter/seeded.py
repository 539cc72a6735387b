"""Each step's random source, derived from the execution's seed.

A seeded generator is a pure function of its seed: the interpreter owns it so that every
shell draws the same values for the same step, and a replay repeats them.
"""

from __future__ import annotations

import random


def step_rng(seed: int, thread_id: str, seq: int) -> random.Random:
    """The random source of one step of ``thread_id`` at ``seq`` (``seq`` -1: the start)."""
    return random.Random(f"{seed}:{thread_id}:{seq}")
