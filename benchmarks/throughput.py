"""(b) Throughput: many concurrent five-state executions vs raw no-op tasks.

stepline: ``executions`` executions of Pass → Task (no-op handler) → Pass → Choice →
Succeed are started from one client thread as fast as it can; transitions/s = the
``*StateEntered`` events they wrote / (last ``stopDate`` - first StartExecution call).
Raw Celery: ``noops`` no-op tasks published from one client thread as fast as it can;
tasks/s = count / (last task's end - first publish). Both fleets are one worker,
prefork -c 2, prefetch 1, acks_late, on the same Redis.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from benchmarks import machines
from benchmarks.fleet import Services, SteplineFleet, await_condition, stepline_fleet
from benchmarks.options import Options
from benchmarks.raw import raw_worker
from benchmarks.stats import summarise
from engine._store.rows import EXECUTIONS, HISTORY

# Celery tasks one execution of the five-state machine takes: five steps + the handler.
TASKS_PER_EXECUTION = 6


def run(services: Services, options: Options, log: Any = print) -> dict[str, Any]:
    """Raw tasks/s and stepline transitions/s, ``options.runs`` rounds, interleaved."""
    fleets = {
        "postgres": ("postgres", 0),
        "sqlite": ("sqlite", 0),
        "postgres_folded": ("postgres", options.fold_states),
    }
    raw: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in fleets}
    details: dict[str, list[dict[str, float]]] = {name: [] for name in fleets}
    for round_number in range(options.runs):
        with raw_worker(services) as worker:
            raw.append(options.noops / worker.noops(options.noops))
        for name, (kind, fold_states) in fleets.items():
            with stepline_fleet(services, kind, fold_states=fold_states) as fleet:
                detail = transitions_per_second(fleet, options.executions)
            samples[name].append(detail["transitions_per_s"])
            details[name].append(detail)
        rates = ", ".join(f"{name} {values[-1]:.0f}" for name, values in samples.items())
        log(f"(b) round {round_number + 1}: raw {raw[-1]:.0f} tasks/s; transitions/s {rates}")
    return {
        "executions": options.executions,
        "noops": options.noops,
        "fold_states": options.fold_states,
        "raw_tasks_per_s": summarise(raw).as_dict(),
        "transitions_per_s": {name: summarise(v).as_dict() for name, v in samples.items()},
        "samples": {"raw": raw, **samples},
        "details": details,
    }


def transitions_per_second(fleet: SteplineFleet, executions: int) -> dict[str, float]:
    """Start ``executions`` at once, wait for all; transitions/s and what it is made of."""
    machine = fleet.create("five", machines.five_states())
    for _ in range(4):  # warm-up: both pool children, the handler queue, caches
        fleet.await_done(fleet.start(machine, {}), timeout=120)
    entered_before = _entered(fleet)
    first = _last_id(fleet)
    started = time.time()
    for _ in range(executions):
        fleet.start(machine, {})
    start_seconds = time.time() - started
    await_condition(lambda: _running(fleet, first) == 0, 600, "every execution to end")
    wall = _last_stop(fleet, first) - started
    transitions = _entered(fleet) - entered_before
    assert _succeeded(fleet, first) == executions
    return {
        "transitions": transitions,
        "seconds": wall,
        "start_seconds": start_seconds,
        "transitions_per_s": transitions / wall,
        "celery_tasks_per_s": executions * TASKS_PER_EXECUTION / wall,
    }


def _scalar(fleet: SteplineFleet, query: Any) -> Any:
    with fleet.store.engine.connect() as db:
        return db.scalar(query)


def _entered(fleet: SteplineFleet) -> int:
    query = select(func.count()).where(HISTORY.c.type.like("%StateEntered"))
    return int(_scalar(fleet, query))


def _last_id(fleet: SteplineFleet) -> int:
    return int(_scalar(fleet, select(func.max(EXECUTIONS.c.id))) or 0)


def _running(fleet: SteplineFleet, after_id: int) -> int:
    query = select(func.count()).where(EXECUTIONS.c.id > after_id, EXECUTIONS.c.status == "RUNNING")
    return int(_scalar(fleet, query))


def _succeeded(fleet: SteplineFleet, after_id: int) -> int:
    query = select(func.count()).where(
        EXECUTIONS.c.id > after_id, EXECUTIONS.c.status == "SUCCEEDED"
    )
    return int(_scalar(fleet, query))


def _last_stop(fleet: SteplineFleet, after_id: int) -> float:
    query = select(func.max(EXECUTIONS.c.stop_date)).where(EXECUTIONS.c.id > after_id)
    return float(_scalar(fleet, query).timestamp())
