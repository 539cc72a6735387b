"""Prometheus metrics: counters from committed steps, gauges from the store at scrape time.

Every counter that states a fact about executions is incremented by `count_committed`, a
store commit listener (ADR 0044): after the transaction that made the fact true, never
before it, so a rolled-back step counts nothing. Store facts that are levels (the outbox
backlog, due-but-unfired timers) are read from the store when scraped (`StoreGauges`),
so every process that exposes them shows the same truth.

``prometheus_client`` is imported on first use, not with this module: it picks its
single- or multi-process mode from ``PROMETHEUS_MULTIPROC_DIR`` when imported, and a
worker sets that variable at start (``tasks/metrics.py``), after ``engine`` was imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from engine._interpreter.history import HistoryEvent
from engine._interpreter.integration import ResourceKind, base_action, describe_resource
from engine._observe.committed import CommittedStep

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import Metric

    from engine._store.repository import Backlog

Json = Any

ENDED = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
"""The events that end an execution, and the status each ends it in."""

INTEGRATION_ERRORS = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
    }
)
"""The events of a Task whose resource failed, timed out or could not start."""

# Executions run from milliseconds to a year; states and handlers from microseconds to hours.
_EXECUTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
_STATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


@dataclass(frozen=True)
class Instruments:
    """Every metric stepline records, created once per process."""

    executions_started: Counter
    executions_ended: Counter
    executions_redriven: Counter
    execution_duration: Histogram
    transitions: Counter
    state_duration: Histogram
    integration_errors: Counter
    handler_duration: Histogram
    relay_republished: Counter
    lost_workers: Counter
    released_messages: Counter


@cache
def instruments() -> Instruments:
    """This process's metrics (the first call imports prometheus_client: see the module)."""
    from prometheus_client import Counter, Histogram

    machine = ["state_machine"]
    return Instruments(
        executions_started=Counter("stepline_executions_started", "Executions started.", machine),
        executions_ended=Counter(
            "stepline_executions_ended",
            "Executions ended, by status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED).",
            [*machine, "status"],
        ),
        executions_redriven=Counter(
            "stepline_executions_redriven", "Executions redriven.", machine
        ),
        execution_duration=Histogram(
            "stepline_execution_duration_seconds",
            "From an execution's start (or latest redrive) to its end, by status.",
            [*machine, "status"],
            buckets=_EXECUTION_BUCKETS,
        ),
        transitions=Counter(
            "stepline_state_transitions", "States entered (AWS's state transitions).", machine
        ),
        state_duration=Histogram(
            "stepline_state_duration_seconds",
            "From a state's *StateEntered event to its *StateExited event.",
            [*machine, "state"],
            buckets=_STATE_BUCKETS,
        ),
        integration_errors=Counter(
            "stepline_integration_errors",
            "Task, Lambda and activity failures, time-outs and failed starts, by event and error.",
            [*machine, "event", "error"],
        ),
        handler_duration=Histogram(
            "stepline_handler_duration_seconds",
            "Time a worker spent running a Task's handler or integration, by outcome.",
            ["handler", "outcome"],
            buckets=_STATE_BUCKETS,
        ),
        relay_republished=Counter(
            "stepline_relay_republished_messages",
            "Committed messages the relay (re)published: never sent, or their lease expired.",
        ),
        lost_workers=Counter(
            "stepline_lost_workers", "Workers judged lost (silent too long) that held messages."
        ),
        released_messages=Counter(
            "stepline_released_messages",
            "Messages made due at once because whoever held them was lost, by reason.",
            ["reason"],
        ),
    )


def count_committed(step: CommittedStep) -> None:
    """A store commit listener: count what one committed step made true."""
    metrics = instruments()
    machine = step.machine_name
    entered = dict(step.entered_before)
    for event in step.events:
        if event.type == "ExecutionStarted":
            metrics.executions_started.labels(machine).inc()
        elif event.type == "ExecutionRedriven":
            metrics.executions_redriven.labels(machine).inc()
        elif event.type in ENDED:
            status = ENDED[event.type]
            metrics.executions_ended.labels(machine, status).inc()
            elapsed = _seconds_between(step.run_started, event.timestamp)
            metrics.execution_duration.labels(machine, status).observe(elapsed)
        elif event.type.endswith("StateEntered"):
            metrics.transitions.labels(machine).inc()
            entered[event.thread_id] = event.timestamp
        elif event.type.endswith("StateExited"):
            _observe_state(metrics, machine, event, entered.get(event.thread_id))
        elif event.type in INTEGRATION_ERRORS:
            error = str(event.details.get("error") or "")
            metrics.integration_errors.labels(machine, event.type, error).inc()


def _observe_state(
    metrics: Instruments, machine: str, exited: HistoryEvent, entered_at: str | None
) -> None:
    if not entered_at:  # entered before this release kept entry times: not timed
        return
    seconds = _seconds_between(datetime.fromisoformat(entered_at), exited.timestamp)
    metrics.state_duration.labels(machine, exited.state_name or "").observe(seconds)


def _seconds_between(start: datetime, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - start).total_seconds())


def observe_handler(resource: str, parameters: Json, outcome: str, seconds: float) -> None:
    """A worker ran a Task's resource for ``seconds``; ``outcome``: succeeded, failed..."""
    label = handler_label(resource, parameters)
    instruments().handler_duration.labels(label, outcome).observe(seconds)


def handler_label(resource: str, parameters: Json) -> str:
    """The handler a resource runs: a function's name, else ``SERVICE:ACTION``."""
    info = describe_resource(resource)
    if info.kind is ResourceKind.LAMBDA_FUNCTION:
        return info.resource
    if info.kind is ResourceKind.ACTIVITY:
        return f"activity:{info.resource}"
    named = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    if info.resource_type == "lambda" and base_action(info) == "invoke" and named:
        return str(named).split(":function:")[-1].split(":")[0]
    return f"{info.resource_type}:{info.resource}" if info.resource_type else resource


def count_relayed(messages: int) -> None:
    """The relay published ``messages`` committed messages (again)."""
    if messages:
        instruments().relay_republished.inc(messages)


def count_released(messages: int, reason: str) -> None:
    """``messages`` were made due at once: ``lost_worker``, ``connection_lost``, ``broker_lost``."""
    if messages:
        instruments().released_messages.labels(reason).inc(messages)


def count_lost_workers(workers: int) -> None:
    """``workers`` were judged lost while they held messages."""
    if workers:
        instruments().lost_workers.inc(workers)


class StoreGauges:
    """A collector reading the store's late work when scraped (`Store.backlog`).

    An unreachable store yields ``stepline_store_up 0`` rather than failing the scrape, so
    the process's own counters are still collected.
    """

    def __init__(self, backlog: Callable[[datetime], Backlog], now: Callable[[], datetime]):
        self._backlog = backlog
        self._now = now

    def collect(self) -> Iterator[Metric]:
        """The gauges, computed now."""
        from prometheus_client.core import GaugeMetricFamily

        try:
            backlog = self._backlog(self._now())
        except Exception:  # the store is away: say so, and let the scrape go on
            yield GaugeMetricFamily("stepline_store_up", "The store answered the scrape.", 0)
            return
        yield GaugeMetricFamily("stepline_store_up", "The store answered the scrape.", 1)
        yield from _backlog_gauges(backlog)

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not query the store."""
        return []


def _backlog_gauges(backlog: Backlog) -> Iterator[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    yield GaugeMetricFamily(
        "stepline_outbox_backlog_messages",
        "Outbox messages not consumed yet.",
        backlog.unconsumed_messages,
    )
    yield GaugeMetricFamily(
        "stepline_outbox_overdue_messages",
        "Unconsumed outbox messages whose lease expired (waiting for the relay).",
        backlog.overdue_messages,
    )
    yield GaugeMetricFamily(
        "stepline_timers_overdue", "Timers due but not fired.", backlog.overdue_timers
    )
    yield GaugeMetricFamily(
        "stepline_timers_overdue_seconds",
        "How late the most overdue unfired timer is (0: none).",
        backlog.oldest_overdue_timer_seconds,
    )
    running = GaugeMetricFamily(
        "stepline_executions_running", "Executions RUNNING now.", labels=["state_machine"]
    )
    for machine_arn, count in sorted(backlog.running_executions.items()):
        running.add_metric([machine_arn.rsplit(":", 1)[-1]], count)
    yield running


def metrics_registry(
    *,
    multiprocess_dir: str = "",
    gauges: StoreGauges | None = None,
) -> CollectorRegistry:
    """What a scrape shows: this process's (or, with a folder, every process's) metrics.

    Args:
        multiprocess_dir: ``PROMETHEUS_MULTIPROC_DIR`` of a prefork worker or a multi-process
            server: the metrics of every process that writes there (empty: this process's).
        gauges: the store's gauges, when this process shows them.
    """
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments()  # the metrics exist (at zero) before the first scrape
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir:
        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    if gauges is not None:
        registry.register(gauges)
    return registry


class _Forward:
    """Collects another registry (the process's default one) into a scrape's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        """The other registry's metrics, collected now."""
        yield from self._registry.collect()


def exposition(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The scrape's body in Prometheus's text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_metrics(registry: CollectorRegistry, port: int, host: str) -> None:
    """Answer ``GET /metrics`` on ``host:port`` from a daemon thread (a worker's endpoint)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=registry)
