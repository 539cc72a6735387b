"""The Lambda handler vocabulary of the conformance corpus (../shared/conformance/HANDLERS.md).

Each name is a behaviour recorded from a real Python 3.12 Lambda; failures carry the
stack trace AWS recorded so the Cause matches byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from engine._resources import Handler, HandlerContext, HandlerRegistry

Json = Any


class Sleeper(Protocol):
    """Anything that can take time: a FakeClock, or the real ``time`` module."""

    def sleep(self, seconds: float, /) -> None:
        """Let ``seconds`` pass."""
        ...


class CustomException(Exception):
    """The custom exception type of ``raise_custom_exception``."""


def _raise_exception(event: Json, context: HandlerContext) -> Json:
    error = Exception("Some exception was raised.")
    error.lambda_stack_trace = [  # type: ignore[attr-defined]
        '  File "/var/task/handler.py", line 2, in handler\n'
        '    raise Exception("Some exception was raised.")\n'
    ]
    raise error


def _raise_custom_exception(event: Json, context: HandlerContext) -> Json:
    error = CustomException()
    error.lambda_stack_trace = [  # type: ignore[attr-defined]
        '  File "/var/task/handler.py", line 9, in handler\n    raise CustomException()\n'
    ]
    raise error


def vocabulary(clock: Sleeper) -> dict[str, Handler]:
    """Handlers by vocabulary name; ``sleep_60s_then_identity`` sleeps on ``clock``."""

    def sleep_then_identity(event: Json, context: HandlerContext) -> Json:
        clock.sleep(60)
        return event

    return {
        "identity": lambda event, context: event,
        "return_hello_world": lambda event, context: {"Return": "HelloWorld"},
        "return_decorated_input": lambda event, context: "input-event-" + str(event),
        "return_bytes_json_string": lambda event, context: b'"HelloWorld!"',
        "raise_exception": _raise_exception,
        "raise_custom_exception": _raise_custom_exception,
        "large_output_257kb": lambda event, context: "a" * (257 * 1024),
        "sleep_60s_then_identity": sleep_then_identity,
    }


def registry_for(case: dict[str, Json], clock: Sleeper) -> HandlerRegistry:
    """A registry holding the functions a case names (keys that are not ARNs)."""
    known: dict[str, Callable[..., Json]] = vocabulary(clock)
    registry = HandlerRegistry()
    for name, behaviour in (case.get("handlers") or {}).items():
        if not name.startswith("arn:"):
            registry.register(name, known[behaviour])
    return registry
