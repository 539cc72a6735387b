"""A worker that cannot import its handler modules stops at start, with a non-zero status.

Celery logs and swallows what a signal receiver raises, so a receiver that only raised would
leave a worker that says "ready", serves the steps queue alone and lets every Task hang.
`SystemExit` is not swallowed (Celery catches ``Exception``): the worker stops before it
consumes anything and ``celery worker`` exits with `EXIT_STATUS`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from engine._loading import HandlerModuleError, import_handler_modules

log = logging.getLogger("stepline.worker")

EXIT_STATUS = 2
"""The status of a worker whose handler modules cannot be imported (as ``stepline``'s usage
errors): a supervisor restarting it gets the same error until the deployment is fixed."""


def import_handlers_or_exit(modules: Sequence[str]) -> None:
    """Import ``modules`` (``STEPLINE_HANDLERS``), or log why not and end the process.

    Raises:
        SystemExit: with `EXIT_STATUS`, after a CRITICAL line naming the module and its error.
    """
    try:
        import_handler_modules(modules)
    except HandlerModuleError as error:
        log.critical("stepline worker cannot start: STEPLINE_HANDLERS: %s", error)
        _flush_logs()
        raise SystemExit(EXIT_STATUS) from None


def _flush_logs() -> None:
    # The process is about to end: the line must reach the supervisor's log first.
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
