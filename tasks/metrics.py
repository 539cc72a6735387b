"""A worker's Prometheus endpoint, multi-process safe for the prefork pool (ADR 0044).

With ``STEPLINE_METRICS_PORT`` set, the worker's main process serves ``GET /metrics``
once ready: the counters and histograms of every pool child (and its own), read from
prometheus_client's multi-process folder, plus the store's gauges. The folder is
``STEPLINE_METRICS_DIR`` (or ``PROMETHEUS_MULTIPROC_DIR``), else a fresh temporary one;
it is exported as ``PROMETHEUS_MULTIPROC_DIR`` before prometheus_client is first imported
(`engine._observe.metrics` imports it on first use), so the children inherit the mode.
A child that exits is marked dead, so its live gauges leave the scrape.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from celery.signals import celeryd_init, worker_process_shutdown, worker_ready

from config.settings import Settings
from tasks import wiring

log = logging.getLogger("stepline.worker")

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""The variable prometheus_client reads, once, when it is imported."""


def multiprocess_dir(config: Settings) -> str:
    """The folder this worker's processes write their metrics to (made if need be)."""
    folder = config.metrics_dir or os.environ.get(MULTIPROC_VARIABLE) or ""
    if not folder:
        folder = tempfile.mkdtemp(prefix="stepline-metrics-")
    os.makedirs(folder, exist_ok=True)
    return folder


@celeryd_init.connect
def _prepare(**_: Any) -> None:
    """Before the pool forks and before any metric is made: the multi-process mode."""
    config = wiring.settings()
    if config.metrics_port:
        os.environ[MULTIPROC_VARIABLE] = multiprocess_dir(config)


@worker_ready.connect
def _serve(**_: Any) -> None:
    """Serve ``/metrics`` from the main process (a port in use is logged, not fatal)."""
    config = wiring.settings()
    if not config.metrics_port:
        return
    from engine._observe.metrics import StoreGauges, metrics_registry, serve_metrics

    runtime = wiring.runtime()
    registry = metrics_registry(
        multiprocess_dir=os.environ.get(MULTIPROC_VARIABLE, ""),
        gauges=StoreGauges(runtime.store.backlog, runtime.clock.now),
    )
    try:
        serve_metrics(registry, config.metrics_port, config.metrics_host)
    except OSError as error:
        log.error("metrics endpoint on port %s not started: %s", config.metrics_port, error)
        return
    log.info("metrics on http://%s:%s/metrics", config.metrics_host, config.metrics_port)


@worker_process_shutdown.connect
def _mark_dead(pid: int | None = None, **_: Any) -> None:
    """A pool child exits: its live gauges must not linger in the scrape."""
    if not os.environ.get(MULTIPROC_VARIABLE):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]
