"""The service integrations stepline ships, registered from one place.

Each integration module exposes ``INTEGRATIONS``: ``{(service, action): integration}``;
this module gathers them into `engine._resources.BUILTINS` on import. A registry's own
integration for the same ``service:action`` wins. An integration whose services are missing
(in-process: no fleet, no Celery app) fails its task at once, saying what it needs.
"""

from __future__ import annotations

from engine._integrations import (
    celery_tasks,
    events,
    http_adapter,
    nested,
    s3_map,
    sns,
    sqs,
)
from engine._resources import BUILTINS

MODULES = (http_adapter, sqs, sns, celery_tasks, nested, events, s3_map)
"""Every built-in integration module, in order."""

for _module in MODULES:
    BUILTINS.update(_module.INTEGRATIONS)
