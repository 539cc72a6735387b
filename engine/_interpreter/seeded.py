"""Each step's random source, derived from the execution's seed.

A seeded generator is a pure function of its seed: the interpreter owns it so that every
shell draws the same values for the same step, and a replay repeats them.
"""

from __future__ import annotations

import random


class StepRng:
    """The random source of one step, seeded on its first draw.

    Seeding a Mersenne Twister from a string hashes it and fills 624 words of state, yet
    most steps (a Pass, a Choice, a Map item) never draw: they skip that cost. The values
    drawn are those of ``random.Random(seed_text)``, so replays and old checkpoints agree.
    """

    __slots__ = ("_generator", "_seed_text")

    def __init__(self, seed_text: str) -> None:
        self._seed_text = seed_text
        self._generator: random.Random | None = None

    def _seeded(self) -> random.Random:
        if self._generator is None:
            self._generator = random.Random(self._seed_text)
        return self._generator

    def random(self) -> float:
        """A float in [0.0, 1.0)."""
        return self._seeded().random()

    def getrandbits(self, k: int, /) -> int:
        """An int with ``k`` random bits."""
        return self._seeded().getrandbits(k)


def step_rng(seed: int, thread_id: str, seq: int) -> StepRng:
    """The random source of one step of ``thread_id`` at ``seq`` (``seq`` -1: the start)."""
    return StepRng(f"{seed}:{thread_id}:{seq}")
