"""The evaluation environment every data-flow expression sees.

A `Scope` is built by the interpreter for each field it evaluates: ``$`` (the input the
field applies to), ``$$`` (the context object), the workflow variables, and the injected
clock reading and random source. Nothing in the data-flow layer reads a clock or a
global random generator: they come from here, so replays are identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

Json = Any


class Rng(Protocol):
    """The random source the core may use (a seeded ``random.Random`` satisfies it)."""

    def random(self) -> float:
        """A float in [0.0, 1.0)."""
        ...

    def getrandbits(self, k: int, /) -> int:
        """An int with ``k`` random bits."""
        ...


@dataclass(frozen=True)
class Scope:
    """What ``$``, ``$$`` and ``$name`` refer to while evaluating one field.

    Attributes:
        input: the value ``$`` selects from.
        context: the context object (``$$``).
        variables: workflow variables visible to the state (``$name``).
        now: the injected current time (timezone-aware UTC), for JSONata ``$now()``.
        rng: the injected random source, for ``States.UUID`` / ``States.MathRandom``.
        max_bytes: the largest value an intrinsic function or a JSONata expression may
            build (`engine._dataflow.sizes.ValueTooLarge`): a few payload limits.
    """

    input: Json = None
    context: Json = field(default_factory=dict)
    variables: Mapping[str, Json] = field(default_factory=dict)
    now: datetime | None = None
    rng: Rng | None = None
    max_bytes: int = 4 * 256 * 1024

    def with_input(self, value: Json) -> Scope:
        """The same scope with ``$`` bound to ``value``."""
        return replace(self, input=value)
