"""The worker's heartbeat file, whose age ``stepline health worker`` checks (a liveness probe).

Once the worker is ready, its main process touches ``STEPLINE_HEARTBEAT_FILE`` every
`INTERVAL_SECONDS` from a daemon thread. The beat touches nothing but the file: liveness
says the process lives, and a store or broker that is briefly away must not get healthy
workers restarted (readiness, ``stepline health store``/``broker``, says that instead).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from celery.signals import worker_ready

from tasks import wiring

log = logging.getLogger("stepline.worker")

INTERVAL_SECONDS = 5.0
"""How often the file is touched; a probe's ``--max-age`` should allow a few misses."""


class Heartbeat:
    """Touches ``path`` every ``interval`` seconds from a daemon thread until stopped."""

    def __init__(self, path: Path, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="heartbeat")

    def start(self) -> Heartbeat:
        """Touch the file now, then keep touching it in the background."""
        self.beat()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop touching the file (tests; a worker's beat ends with its process)."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 1)

    def beat(self) -> None:
        """Touch the file once; a failure is logged and the next beat tries again."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError as error:  # the file ages, and the probe reports that
            log.warning("could not touch the heartbeat file %s: %s", self.path, error)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()


@worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    """Start beating once the worker is ready, if ``STEPLINE_HEARTBEAT_FILE`` names a file."""
    path = wiring.settings().heartbeat_file
    if path:
        Heartbeat(Path(path)).start()
