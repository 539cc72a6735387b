"""Handlers of the console's browser tests (STEPLINE_HANDLERS of their fleet).

``console_hold`` hands its task token to the test (a Redis signal ``token:NAME:TOKEN``)
and returns: its ``.waitForTaskToken`` state stays RUNNING, without holding a worker,
until the test answers. ``console_ship`` fails, as a warehouse that has no stock would.
"""

from __future__ import annotations

from typing import Any

import engine
from tests.integration.crash_handlers import _signal


class WarehouseEmpty(Exception):
    """The failure ``console_ship`` raises."""


@engine.handler("console_hold")
def console_hold(event: Any, context: engine.HandlerContext) -> Any:
    """Pass the task token to the test, which decides when the state succeeds."""
    _signal(f"token:{event['execution']}:{event['token']}")
    return {"held": True}


@engine.handler("console_ship")
def console_ship(event: Any, context: engine.HandlerContext) -> Any:
    """Always fail with WarehouseEmpty."""
    raise WarehouseEmpty(f"no stock left for order {event.get('order', '?')}")
