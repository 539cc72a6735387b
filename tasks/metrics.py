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
import shutil
import sys
import tempfile
from typing import Any

from celery.signals import celeryd_init, worker_process_shutdown, worker_ready, worker_shutdown

from config.settings import Settings
from tasks import wiring

log = logging.getLogger("stepline.worker")

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""The variable prometheus_client reads, once, when it is imported."""


_made: list[str] = []  # the temporary folder this worker made, removed when it stops


def multiprocess_dir(config: Settings) -> str:
    """The folder this worker's processes write their metrics to (made if need be)."""
    folder = config.metrics_dir or os.environ.get(MULTIPROC_VARIABLE) or ""
    if not folder:
        folder = tempfile.mkdtemp(prefix="stepline-metrics-")
        _made.append(folder)
    os.makedirs(folder, exist_ok=True)
    return folder


@celeryd_init.connect
def _prepare(**_: Any) -> None:
    """Before the pool forks and before any metric is made: the multi-process mode."""
    config = wiring.settings()
    if config.metrics_port:
        os.environ[MULTIPROC_VARIABLE] = multiprocess_dir(config)
        _multiprocess_from_now_on()


def _multiprocess_from_now_on() -> None:
    """Make the metrics created from now on multi-process, even if prometheus_client is loaded.

    ``celery worker`` loads every installed ``celery.commands`` plugin first, and Flower's
    imports prometheus_client, which then chose its in-memory values. Each metric asks
    ``values.ValueClass`` for its values when created, and stepline's are created on first
    use (after this), so choosing the class again is enough.
    """
    if "prometheus_client" not in sys.modules:
        return
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


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


@worker_shutdown.connect
def _remove_temporary_folder(**_: Any) -> None:
    """The worker stops: the folder it made for its metrics goes with it."""
    for folder in _made:
        shutil.rmtree(folder, ignore_errors=True)
    _made.clear()


@worker_process_shutdown.connect
def _mark_dead(pid: int | None = None, **_: Any) -> None:
    """A pool child exits: its live gauges must not linger in the scrape."""
    if not os.environ.get(MULTIPROC_VARIABLE):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())  # type: ignore[no-untyped-call]
