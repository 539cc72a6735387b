"""Makes every ``task-sent`` event late, as a busy publisher does (a handler module).

Celery publishes a task's message, then its ``task-sent`` event; a publisher descheduled
in between lets the worker's ``task-received`` event reach Flower first. Loaded by a
fleet's workers (``STEPLINE_HANDLERS``), this holds every publisher there for a moment.
"""

from __future__ import annotations

import time
from typing import Any

from celery.signals import after_task_publish

DELAY_SECONDS = 0.3


@after_task_publish.connect
def _hold_the_sent_event(**_: Any) -> None:
    """Runs between a message's publication and its ``task-sent`` event."""
    time.sleep(DELAY_SECONDS)
